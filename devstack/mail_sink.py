"""The local stack's SMTP sink: accepts every message and stores it, never relays one.

Run by ``mentorflow stack up`` as ``python -m devstack.mail_sink --host H --port P --dir D``
(`devstack.stack.mail_server.MailServer`); messages land in ``D`` as `devstack.mailbox`
describes.

Failures on demand, for tests of retries and dead letters, chosen by the recipient's local
part (before any ``+tag``, so that tests use addresses of their own such as
``fail-451-once+t1@example.org``):

==================  ===========================================================
``fail-550@…``      ``550 5.1.1`` at ``RCPT TO``: a permanent failure, every time
``fail-451@…``      ``451 4.3.0`` at ``RCPT TO``: a temporary failure, every time
``fail-451-once@…`` ``451 4.3.0`` the first time this exact address is given,
                    accepted afterwards (the count lives in the sink process: a
                    restarted sink fails it once more)
``disconnect-once@…`` the first time, the sink drops the connection at ``RCPT TO``
                    (a lost connection); accepted afterwards
==================  ===========================================================

Every other address is accepted. Nothing is logged of a message but its id and size.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from asyncio import Transport
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.mailbox import store_mail

SINK_HOSTNAME = "mentorflow-mail-sink"


def failure_rule(address: str) -> str:
    """The failure rule an address asks for ("" for none): its local part without ``+tag``."""
    local_part = address.rpartition("@")[0] or address
    rule = local_part.partition("+")[0].lower()
    return rule if rule in {"fail-550", "fail-451", "fail-451-once", "disconnect-once"} else ""


class SinkHandler:
    """The aiosmtpd handler: refuses recipients on demand, stores each accepted message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: Counter[str] = Counter()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept ``address`` unless its failure rule says otherwise."""
        rule = failure_rule(address)
        self._seen[address.lower()] += 1
        first_time = self._seen[address.lower()] == 1
        if rule == "fail-550":
            return "550 5.1.1 Mailbox unavailable (mail sink rule fail-550)"
        if rule == "fail-451" or (rule == "fail-451-once" and first_time):
            return "451 4.3.0 Try again later (mail sink rule fail-451)"
        if rule == "disconnect-once" and first_time and isinstance(server.transport, Transport):
            server.transport.abort()  # no reply reaches the client: the connection is just gone
            return "421 4.4.2 Connection dropped (mail sink rule disconnect-once)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message; answer with its id."""
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        stored = store_mail(
            self.directory, str(envelope.mail_from or ""), list(envelope.rcpt_tos), content
        )
        print(f"stored {stored.mail_id} ({len(content)} bytes)", flush=True)
        return f"250 2.0.0 Stored as {stored.mail_id}"


async def serve(host: str, port: int, directory: Path) -> None:
    """Serve SMTP on ``host:port`` until SIGTERM or SIGINT."""
    handler = SinkHandler(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=SINK_HOSTNAME, enable_SMTPUTF8=True), host, port
    )
    stop = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    print(f"mail sink listening on {host}:{port}, storing into {directory}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    """``python -m devstack.mail_sink --host H --port P --dir D``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, dest="directory")
    arguments = parser.parse_args(argv)
    arguments.directory.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(arguments.host, arguments.port, arguments.directory))


if __name__ == "__main__":
    main()
