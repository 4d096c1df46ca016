"""The SMTP sink (`devstack.mail_sink`, built on ``aiosmtpd``), bound to loopback.

It accepts every message for every address (but the failure addresses its module documents)
and stores it under ``<state>/mail`` for ``mentorflow mail list | show`` and the tests; it
never relays anything. It runs as this environment's Python, so it needs nothing installed
beyond the project's ``dev`` dependencies.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aiosmtplib

from devstack.mailbox import MAIL_DIR_NAME
from devstack.stack.endpoints import Endpoint
from devstack.stack.server import LocalServer


class MailServer(LocalServer):
    """``python -m devstack.mail_sink`` on the configured SMTP port."""

    name = "smtp"

    @property
    def endpoint(self) -> Endpoint:
        """The SMTP endpoint."""
        return self.endpoints.smtp

    @property
    def address(self) -> str:
        """``host:port``, as ``MENTORFLOW_SMTP_HOST`` and ``MENTORFLOW_SMTP_PORT`` give it."""
        return str(self.endpoint)

    @property
    def mail_dir(self) -> Path:
        """Where the received messages are stored."""
        return self.config.state_dir / MAIL_DIR_NAME

    def command(self) -> list[str]:
        """The sink as a module of this environment's interpreter."""
        return [
            sys.executable,
            "-m",
            "devstack.mail_sink",
            "--host",
            self.endpoint.bind_host,
            "--port",
            str(self.endpoint.port),
            "--dir",
            str(self.mail_dir),
        ]

    async def probe(self, timeout: float) -> None:
        """An SMTP greeting, EHLO and NOOP: the server speaks SMTP, not just TCP."""
        client = aiosmtplib.SMTP(
            hostname=self.endpoint.host, port=self.endpoint.port, timeout=timeout
        )
        await client.connect()
        try:
            await client.noop()
        finally:
            client.close()
