"""A notification dead-lettered while the SMTP relay was down, retried with
``mentorflow deadletters retry`` once it is back: the real mail sink receives it once."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mentorflow.cli.app import app
from notifications import OutboxDelivery, PostgresOutbox, SmtpSender
from notifications.config import RetryPolicy, SmtpConfig
from tests.notifications.conftest import MailSink, a_message, unique_address

pytestmark = pytest.mark.servers


def _closed_port() -> int:
    """A port nothing listens on (bound, then released): connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def _deliver(outbox: PostgresOutbox, config: SmtpConfig) -> None:
    sender = SmtpSender(config)
    try:
        await OutboxDelivery(outbox, sender, policy=RetryPolicy(max_attempts=1)).deliver_due()
    finally:
        await sender.close()


def _invoke(arguments: list[str], *, state_dir: Path, database_url: str) -> Result:
    environment = {"MENTORFLOW_STATE_DIR": str(state_dir), "MENTORFLOW_DATABASE_URL": database_url}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(app, arguments, env=environment)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_a_notification_retried_after_the_relay_is_back_reaches_the_sink_once(
    outbox: PostgresOutbox, mail_sink: MailSink, clean_database: str, tmp_path: Path
) -> None:
    address = unique_address()
    await outbox.record(a_message(address))
    relay_down = dataclasses.replace(mail_sink.smtp_config(timeout=2.0), port=_closed_port())
    await _deliver(outbox, relay_down)  # refused connection, one attempt allowed: dead
    (dead,) = await outbox.dead_letters()

    async def retry() -> Result:
        return await asyncio.to_thread(
            _invoke,
            ["deadletters", "retry", str(dead.outbox_id), "--reason", "relay back"],
            state_dir=tmp_path,
            database_url=clean_database,
        )

    first, second = await retry(), await retry()
    await _deliver(outbox, mail_sink.smtp_config())
    await _deliver(outbox, mail_sink.smtp_config())

    assert dead.attempts == 1
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert (await outbox.entry(dead.outbox_id)).state == "sent"
    assert len(mail_sink.messages_to(address)) == 1
    assert [action.action for action in await outbox.actions(dead.outbox_id)] == ["retry"]
