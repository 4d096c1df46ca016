"""Webhook posts from the outbox to a real HTTPS receiver: once, retried, dead-lettered."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from notifications import (
    Channel,
    OutboxDelivery,
    OutboxMessage,
    OutboxState,
    PostgresOutbox,
    RetryPolicy,
    SmtpSender,
)
from notifications.webhooks import WebhookSender
from tests.notifications.conftest import MailSink
from tests.notifications.webhook_server import webhook_receiver

pytestmark = pytest.mark.servers

NO_WAIT = RetryPolicy(initial=timedelta(0), maximum=timedelta(0))


def a_post(url: str, text: str) -> OutboxMessage:
    return OutboxMessage(
        event_id=uuid.uuid4(),
        recipient="webhook-1",
        channel=Channel.WEBHOOK,
        address=url,
        subject="A mentoring relationship was escalated",
        text_body=text,
        category="escalations",
    )


async def test_posts_arrive_once_a_503_is_retried_and_a_404_is_dead_lettered(
    outbox: PostgresOutbox, mail_sink: MailSink, tmp_path: Path
) -> None:
    async with webhook_receiver(tmp_path) as receiver:
        webhooks = WebhookSender(ca_file=receiver.ca_file)
        delivery = OutboxDelivery(
            outbox, SmtpSender(mail_sink.smtp_config()), NO_WAIT, webhooks=webhooks
        )
        for name in ("ok", "flaky", "gone"):
            await outbox.record(a_post(receiver.url(name), f"escalated ({name})"))
        first = await delivery.deliver_due()
        second = await delivery.deliver_due()
        third = await delivery.deliver_due()
        await webhooks.close()
        await delivery.sender.close()

    assert (first.sent, first.retried, first.dead) == (1, 1, 1)
    assert (second.sent, second.retried, second.dead) == (1, 0, 0)
    assert third.attempted == 0
    assert receiver.posts == [
        ("ok", {"text": "escalated (ok)"}),
        ("flaky", {"text": "escalated (flaky)"}),
        ("gone", {"text": "escalated (gone)"}),
        ("flaky", {"text": "escalated (flaky)"}),
    ]
    (dead,) = await outbox.dead_letters()
    assert dead.state is OutboxState.DEAD
    assert dead.last_error == "404 webhook answered HTTP 404"
    assert "hooks" not in (dead.last_error or "")


async def test_a_webhook_whose_certificate_is_not_trusted_is_not_posted_to(
    outbox: PostgresOutbox, mail_sink: MailSink, tmp_path: Path
) -> None:
    async with webhook_receiver(tmp_path) as receiver:
        webhooks = WebhookSender()  # the system's CAs: the test CA is not among them
        delivery = OutboxDelivery(
            outbox, SmtpSender(mail_sink.smtp_config()), NO_WAIT, webhooks=webhooks
        )
        await outbox.record(a_post(receiver.url("ok"), "escalated"))
        report = await delivery.deliver_due()
        await webhooks.close()
        await delivery.sender.close()

    assert (report.sent, report.retried) == (0, 1)
    assert receiver.posts == []


def test_a_webhook_address_must_be_https() -> None:
    with pytest.raises(ValueError, match="https URL"):
        a_post("http://hooks.example.org/x", "escalated")
