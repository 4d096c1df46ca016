"""`LocalStack`: start what is missing, stop what it started, report what runs.

``up`` works in two phases. First it looks at every address: a server that answers there is
used as it is, whoever started it. Then it starts the missing ones side by side, waits until
each really serves, sets every server up for mentorflow (search attributes, database), and
writes ``stack.env``. What it started goes to ``stack.json``, so ``down`` stops exactly that.

A failed ``up`` stops what it had started before raising: it brings the whole stack up or
leaves things as they were. (Interrupted instead, it still records what runs, for ``down``.)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import structlog

from devstack.stack.config import StackConfig
from devstack.stack.errors import (
    AddressInUse,
    ServerStartFailed,
    ServerStopFailed,
    StackConfigInvalid,
)
from devstack.stack.mail_server import MailServer
from devstack.stack.models import ServerState, ServerStatus, StackAddresses, StackStatus
from devstack.stack.nats_server import NatsServer
from devstack.stack.oidc_server import OidcServer
from devstack.stack.postgres_server import PostgresServer
from devstack.stack.processes import (
    ProcessRecord,
    clear_leftovers,
    exit_code,
    spawn_detached,
    terminate,
)
from devstack.stack.server import LocalServer
from devstack.stack.state import load_records, save_records, state_lock, write_env_file
from devstack.stack.temporal_server import TemporalServer
from mentorflow.api.tokens import Role, add_token, hash_token, read_tokens
from mentorflow.keyring import ensure_local_keys

logger = structlog.get_logger(__name__)

T = TypeVar("T")

# A server that answers at its port may still be starting (another `up`, a restart):
# give it this long before calling the address taken by something else.
_EXISTING_SERVER_GRACE = 15.0


async def _gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await all, even when some fail; then raise the first failure (logging the others)."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    errors = [result for result in results if isinstance(result, BaseException)]
    for error in errors[1:]:
        logger.error("stack operation failed", error=str(error))
    if errors:
        raise errors[0]
    return [result for result in results if not isinstance(result, BaseException)]


class LocalStack:
    """The local Temporal, NATS, PostgreSQL, SMTP sink and OpenID Connect provider servers of
    one state directory.

    Example:
        >>> stack = LocalStack(StackConfig.for_tests(tmp_dir))  # doctest: +SKIP
        >>> addresses = await stack.up()  # doctest: +SKIP
        >>> await stack.down()  # doctest: +SKIP

    One instance remembers the processes it spawned, so that in the same Python process
    ``status`` can give a crashed server's exit code; any instance (or command) on the same
    state directory can stop them, through ``stack.json``.
    """

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def _servers(self) -> list[LocalServer]:
        endpoints = self.config.endpoints()
        return [
            TemporalServer(self.config, endpoints),
            NatsServer(self.config, endpoints),
            PostgresServer(self.config, endpoints),
            MailServer(self.config, endpoints),
            OidcServer(self.config, endpoints),
        ]

    def addresses(self) -> StackAddresses:
        """The addresses of this stack's servers, without looking at them.

        Raises:
            StackConfigInvalid: When an address cannot be parsed.
        """
        endpoints = self.config.endpoints()
        return StackAddresses(
            temporal_address=self.config.temporal_address,
            nats_url=self.config.nats_url,
            database_url=self.config.database_url,
            smtp_host=self.config.smtp_host,
            smtp_port=self.config.smtp_port,
            oidc_issuer=self.config.oidc_issuer,
            temporal_ui_url=endpoints.temporal_ui_url,
        )

    async def up(self) -> StackAddresses:
        """Start every server that does not answer yet, and wait until all serve.

        Returns:
            The addresses, with the names of the servers this call started.

        Raises:
            StackConfigInvalid: An address cannot be parsed, or names another machine where
                nothing answers (only loopback servers can be started).
            AddressInUse: Something else answers at a server's address.
            ServerStartFailed: A server exited or did not become ready in time.
            ServerSetupFailed: Search attributes or the database could not be set up.
            StackLocked: Another ``up`` or ``down`` holds the state directory.
        """
        servers = self._servers()
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        ensure_local_keys(self.config.state_dir)
        async with state_lock(self.config.lock_file, self.config.start_timeout):
            records = load_records(self.config.record_file)
            answering = await _gather_all(self._is_running(server, records) for server in servers)
            missing = [server for server, up in zip(servers, answering, strict=True) if not up]
            problems = [
                f"{server.name}: nothing answers at {server.display_address}, and only a server on "
                "this machine's loopback address can be started"
                for server in missing
                if not server.endpoint.is_loopback
            ]
            if problems:
                raise StackConfigInvalid(problems)
            started: list[str] = []
            try:
                try:
                    await _gather_all(self._start(server, records, started) for server in missing)
                    await _gather_all(server.after_ready() for server in servers)
                except Exception:
                    # All or nothing: a failed `up` stops what it started, so no test session
                    # or terminal is left with half a stack running unnoticed.
                    await asyncio.gather(
                        *(
                            self._stop(server, records[server.name], records, [])
                            for server in servers
                            if server.name in started
                        ),
                        return_exceptions=True,
                    )
                    raise
            finally:
                save_records(self.config.record_file, records)
            addresses = self.addresses().model_copy(
                update={"started": tuple(server.name for server in missing)}
            )
            self._write_env_file(addresses)
        return addresses

    def _alive(self, record: ProcessRecord) -> bool:
        """Whether the recorded process runs; reaps it first if this object started it."""
        process = self._processes.get(record.server)
        if process is not None and process.pid == record.pid and process.poll() is not None:
            return False
        return record.is_running()

    def _own_process(self, record: ProcessRecord) -> subprocess.Popen[bytes] | None:
        process = self._processes.get(record.server)
        return process if process is not None and process.pid == record.pid else None

    async def _is_running(self, server: LocalServer, records: dict[str, ProcessRecord]) -> bool:
        record = records.get(server.name)
        if record is not None and not self._alive(record):
            logger.warning("server started earlier is gone", server=server.name, pid=record.pid)
            await clear_leftovers(record, self.config.stop_timeout)
            del records[server.name]
            record = None
        if record is not None:
            # Ours and alive: it may still be starting, so it gets the full start timeout.
            try:
                await server.wait_until_ready(self.config.start_timeout, self._own_process(record))
            except ServerStartFailed as error:
                raise ServerStartFailed(
                    server.name,
                    record.log_path,
                    f"started earlier (pid {record.pid}) but {error.detail}; if its address "
                    "changed since, run `mentorflow stack down` first",
                ) from error
            return True
        if not await server.accepts_connections():
            return False
        try:
            await server.wait_until_ready(_EXISTING_SERVER_GRACE)
        except ServerStartFailed as error:
            raise AddressInUse(server.name, server.display_address, error.detail) from error
        logger.info("server already running", server=server.name, address=server.display_address)
        return True

    async def _start(
        self, server: LocalServer, records: dict[str, ProcessRecord], started: list[str]
    ) -> None:
        await server.prepare()
        user, group = server.run_as
        process, record = spawn_detached(
            server.name,
            server.command(),
            server.log_path,
            cwd=server.working_dir,
            user=user,
            group=group,
        )
        self._processes[server.name] = process
        records[server.name] = record
        try:
            await server.wait_until_ready(self.config.start_timeout, process)
        except ServerStartFailed:
            # Leave no half-started server behind; the record goes only once it is gone.
            if await terminate(record, process, self.config.stop_timeout):
                del records[server.name]
            raise
        started.append(server.name)
        logger.info(
            "server started", server=server.name, address=server.display_address, pid=record.pid
        )

    def _write_env_file(self, addresses: StackAddresses) -> None:
        variables = addresses.as_environment()
        written_at = datetime.now(UTC).isoformat(timespec="seconds")
        comments = [
            f"Written by `mentorflow stack up` at {written_at}.",
            "Every mentorflow command reads it for settings not given explicitly.",
        ]
        if addresses.temporal_ui_url is not None:
            comments.append(f"Temporal Web UI: {addresses.temporal_ui_url}")
            variables["MENTORFLOW_TEMPORAL_UI_URL"] = addresses.temporal_ui_url
        variables["MENTORFLOW_NOTIFIER_API_TOKEN"] = notifier_token(self.config.state_dir)
        write_env_file(self.config.env_file, variables, comments)

    async def down(self) -> tuple[str, ...]:
        """Stop the servers that ``up`` started; leave every other server and all data alone.

        Returns:
            The names of the servers stopped (a crashed one is forgotten, not counted).

        Raises:
            ServerStopFailed: A server outlived SIGKILL; it stays in ``stack.json``.
            StackLocked: Another ``up`` or ``down`` holds the state directory.
        """
        servers = {server.name: server for server in self._servers()}
        if not self.config.record_file.exists():
            return ()  # `up` never started anything here; leave the directory untouched
        async with state_lock(self.config.lock_file, self.config.stop_timeout * 2):
            records = load_records(self.config.record_file)
            stopped: list[str] = []
            try:
                await _gather_all(
                    self._stop(servers.get(name), record, records, stopped)
                    for name, record in list(records.items())
                )
            finally:
                save_records(self.config.record_file, records)
        return tuple(name for name in servers if name in stopped)

    async def _stop(
        self,
        server: LocalServer | None,
        record: ProcessRecord,
        records: dict[str, ProcessRecord],
        stopped: list[str],
    ) -> None:
        process = self._own_process(record)
        if self._alive(record):
            logger.info("stopping server", server=record.server, pid=record.pid)
            if server is not None:
                gone = await server.stop(record, process)
            else:
                gone = await terminate(record, process, self.config.stop_timeout)
            if not gone:
                raise ServerStopFailed(record.server, record.pid, "still running after SIGKILL")
            stopped.append(record.server)
        else:
            logger.warning("server had already exited", server=record.server, pid=record.pid)
            await clear_leftovers(record, self.config.stop_timeout)
        del records[record.server]
        self._processes.pop(record.server, None)

    async def status(self) -> StackStatus:
        """Whether each server answers, and whether one that ``up`` started has died."""
        servers = self._servers()
        records = load_records(self.config.record_file)
        statuses = await asyncio.gather(
            *(self._status(server, records.get(server.name)) for server in servers)
        )
        return StackStatus(
            servers=tuple(statuses), temporal_ui_url=self.config.endpoints().temporal_ui_url
        )

    async def _status(self, server: LocalServer, record: ProcessRecord | None) -> ServerStatus:
        ready = await server.is_ready()
        if record is None:
            return ServerStatus(
                name=server.name,
                address=server.display_address,
                state=ServerState.UP if ready else ServerState.DOWN,
                started_by_stack=False,
            )
        process = self._own_process(record)
        if self._alive(record):
            state = ServerState.UP if ready else ServerState.UNRESPONSIVE
        else:
            state = ServerState.CRASHED
        return ServerStatus(
            name=server.name,
            address=server.display_address,
            state=state,
            started_by_stack=True,
            pid=record.pid,
            exit_code=exit_code(process),
            log_path=record.log_path,
        )


NOTIFIER_TOKEN_FILE = "notifier.token"  # noqa: S105 (a file name)


def notifier_token(state_dir: Path) -> str:
    """The local stack's ``service`` token for the notifier (``mentorflow serve`` runs it).

    Made once and kept in ``<state>/notifier.token`` (mode 0600); made anew when the tokens
    file (``MENTORFLOW_API_TOKENS_FILE``, default ``<state>/tokens.json``) no longer holds
    it (revoked, or the file was removed).
    """
    tokens_file = Path(os.environ.get("MENTORFLOW_API_TOKENS_FILE") or state_dir / "tokens.json")
    path = state_dir / NOTIFIER_TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if any(record.sha256 == hash_token(token) for record in read_tokens(tokens_file)):
            return token
    token = add_token(tokens_file, Role.SERVICE)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token)
    return token
