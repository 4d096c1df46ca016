"""mentorflow services in processes of their own, to SIGKILL at any moment and start again.

The worker runs as ``mentorflow worker`` (the real command, settings from ``MENTORFLOW_*``
variables); the relay as `tests.bus.relay_process`; the projector as
`tests.faults.projector_process` (short acknowledgement deadlines, so that redeliveries after
a kill come quickly). Each keeps a log file for the post-mortem of a failed run.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from bus import BusConfig
from mentorflow.settings import Settings

REPOSITORY = Path(__file__).resolve().parents[2]
_STOP_TIMEOUT = 30.0


class ServiceDied(AssertionError):
    """A service exited on its own (not killed by the test)."""


class ServiceProcess:
    """One service process at a time: started, SIGKILLed, started again."""

    def __init__(self, name: str, command: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.log_path = log_path
        self.env = env
        self.starts = 0
        self.kills = 0
        self.killed_at: list[float] = []
        """When each kill happened (``time.monotonic()``)."""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the service (its output appended to the log file)."""
        assert self._process is None, f"{self.name} is already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts + 1}: {' '.join(self.command)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.command,
                cwd=REPOSITORY,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    @property
    def pid(self) -> int | None:
        """The running process's id."""
        return None if self._process is None else self._process.pid

    def check_alive(self) -> None:
        """Raise `ServiceDied` (with the log's end) when the service exited by itself."""
        if self._process is not None and (code := self._process.poll()) is not None:
            self._process = None
            raise ServiceDied(f"{self.name} exited with {code}:\n{self.log_tail()}")

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        self.check_alive()
        assert self._process is not None, f"{self.name} is not running"
        self._process.send_signal(signal.SIGKILL)
        self._process.wait()
        self._process = None
        self.kills += 1
        self.killed_at.append(time.monotonic())

    def restart(self) -> None:
        """Kill -9, then start again at once."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL when that takes too long; no-op if not running."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the log file."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


async def kill_repeatedly(
    service: ServiceProcess,
    kills: int,
    seconds: float,
    rng: random.Random,
    *,
    downtime: float = 0.5,
) -> None:
    """``kill -9`` the service ``kills`` times within the next ``seconds``, then restart it.

    The window is cut into one slot per kill and each kill falls at a random moment of its
    slot, so kills are spread over the window but land anywhere in the work; the service is
    down for a random pause of up to ``downtime`` seconds each time.
    """
    start = time.monotonic()
    slot = seconds / kills if kills else seconds
    for kill in range(kills):
        moment = start + slot * (kill + rng.uniform(0.1, 0.9))
        await asyncio.sleep(max(moment - time.monotonic(), 0.0))
        service.kill()
        await asyncio.sleep(rng.uniform(0.0, downtime))
        service.start()


def _environment(**variables: str) -> dict[str, str]:
    """This process's environment (keys included) with ``variables`` on top."""
    return {**os.environ, "MENTORFLOW_LOG_LEVEL": "WARNING", **variables}


def worker_process(settings: Settings, state_dir: Path) -> ServiceProcess:
    """``mentorflow worker`` on the settings' Temporal, database and task queue."""
    executable = Path(sys.executable).with_name("mentorflow")
    return ServiceProcess(
        "worker",
        [str(executable), "worker"],
        state_dir / "worker.log",
        _environment(
            MENTORFLOW_STATE_DIR=str(state_dir),
            MENTORFLOW_TEMPORAL_ADDRESS=settings.temporal_address,
            MENTORFLOW_TASK_QUEUE=settings.task_queue,
            MENTORFLOW_DATABASE_URL=settings.database_url,
            MENTORFLOW_NATS_URL=settings.nats_url,
        ),
    )


def relay_process(database_url: str, config: BusConfig, state_dir: Path) -> ServiceProcess:
    """The relay of `tests.bus.relay_process`."""
    return ServiceProcess(
        "relay",
        [sys.executable, "-m", "tests.bus.relay_process", database_url, config.model_dump_json()],
        state_dir / "relay.log",
        _environment(MENTORFLOW_STATE_DIR=str(state_dir)),
    )


def projector_process(
    database_url: str, state_dir: Path, name: str = "projector"
) -> ServiceProcess:
    """The projector of `tests.faults.projector_process` (``name`` tells several apart)."""
    return ServiceProcess(
        name,
        [sys.executable, "-m", "tests.faults.projector_process", database_url],
        state_dir / f"{name}.log",
        _environment(MENTORFLOW_STATE_DIR=str(state_dir)),
    )
