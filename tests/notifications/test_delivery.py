"""The outbox and its delivery against a real SMTP sink and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from eventstore import Pool
from mentorflow.metrics import observe_delivery
from notifications import (
    NotADeadLetter,
    OutboxDelivery,
    OutboxEntryNotFound,
    OutboxState,
    PostgresOutbox,
    RetryPolicy,
    SmtpSender,
    build_email,
)
from tests.notifications.conftest import MailSink, a_message, unique_address

pytestmark = pytest.mark.servers

NO_WAIT = RetryPolicy(initial=timedelta(0), maximum=timedelta(0))


async def _delivery(
    outbox: PostgresOutbox, mail_sink: MailSink, policy: RetryPolicy | None = None
) -> OutboxDelivery:
    return OutboxDelivery(outbox, SmtpSender(mail_sink.smtp_config()), policy)


async def _entry_id(pool: Pool, address: str) -> int:
    outbox_id = await pool.fetchval(
        "SELECT outbox_id FROM notifications.outbox WHERE address = $1", address
    )
    assert isinstance(outbox_id, int)
    return outbox_id


async def test_a_recorded_notification_lands_in_the_sink_once(
    outbox: PostgresOutbox, pool: Pool, mail_sink: MailSink
) -> None:
    address = unique_address()
    message = a_message(address)
    delivery = await _delivery(outbox, mail_sink)

    assert await outbox.record(message)
    first = await delivery.deliver_due()
    second = await delivery.deliver_due()
    await delivery.sender.close()

    assert (first.sent, first.retried, first.dead) == (1, 0, 0)
    assert second.attempted == 0
    (mail,) = mail_sink.messages_to(address)
    assert mail.subject == message.subject
    assert mail.message_id == message.key.message_id("example.org")
    assert mail.mail_from == "mentorflow@example.org"
    assert (mail.text_body() or "").strip() == message.text_body
    entry = await outbox.entry(await _entry_id(pool, address))
    assert entry.state is OutboxState.SENT
    assert entry.attempts == 1
    assert entry.sent_at is not None


async def test_recording_the_same_key_twice_sends_once(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    address = unique_address()
    message = a_message(address)
    redelivered = message.model_copy(update={"subject": "Rendered again after a restart"})
    delivery = await _delivery(outbox, mail_sink)

    assert await outbox.record(message)
    assert not await outbox.record(redelivered)
    await delivery.deliver_due()
    assert not await outbox.record(message)  # sent: recording again still changes nothing
    await delivery.deliver_due()
    await delivery.sender.close()

    (mail,) = mail_sink.messages_to(address)
    assert mail.subject == message.subject


async def test_a_451_then_250_recipient_is_delivered_once_after_the_retry_delay(
    outbox: PostgresOutbox, pool: Pool, mail_sink: MailSink
) -> None:
    address = unique_address("fail-451-once")
    delivery = await _delivery(outbox, mail_sink)  # the default policy: 30 s first delay
    await outbox.record(a_message(address))

    refused = await delivery.deliver_due()
    outbox_id = await _entry_id(pool, address)
    waiting = await outbox.entry(outbox_id)
    too_early = await delivery.deliver_due()
    # Time passes: the retry is due.
    await pool.execute(
        "UPDATE notifications.outbox SET next_attempt_at = now() WHERE outbox_id = $1", outbox_id
    )
    retried = await delivery.deliver_due()
    await delivery.sender.close()

    assert refused.retried == 1
    assert waiting.state is OutboxState.PENDING
    assert waiting.last_error is not None
    assert waiting.last_error.startswith("451")
    assert waiting.next_attempt_at - waiting.updated_at >= timedelta(seconds=29)
    assert too_early.attempted == 0
    assert retried.sent == 1
    assert len(mail_sink.messages_to(address)) == 1
    sent = await outbox.entry(outbox_id)
    assert (sent.state, sent.attempts, sent.last_error) == (OutboxState.SENT, 2, None)


async def test_a_connection_lost_mid_message_is_retried(
    outbox: PostgresOutbox, pool: Pool, mail_sink: MailSink
) -> None:
    address = unique_address("disconnect-once")
    delivery = await _delivery(outbox, mail_sink, NO_WAIT)
    await outbox.record(a_message(address))

    dropped = await delivery.deliver_due()
    waiting = await outbox.entry(await _entry_id(pool, address))
    again = await delivery.deliver_due()
    await delivery.sender.close()

    assert (dropped.retried, again.sent) == (1, 1)
    assert waiting.last_error is not None
    assert "connection failed" in waiting.last_error
    assert len(mail_sink.messages_to(address)) == 1


async def test_one_connection_serves_many_messages_and_a_dropped_one_is_reopened_at_once(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    addresses = [unique_address() for _ in range(3)]
    dropped = unique_address("disconnect-once")
    delivery = await _delivery(outbox, mail_sink, NO_WAIT)
    for address in addresses:
        await outbox.record(a_message(address))

    first = await delivery.deliver_due()
    opened_for_three = delivery.sender.connections_opened
    await outbox.record(a_message(dropped))
    second = await delivery.deliver_due()
    await delivery.sender.close()

    assert (first.sent, opened_for_three) == (3, 1)
    # The kept connection died under the fourth: sent at once over a new one, no retry.
    assert (second.sent, second.retried) == (1, 0)
    assert delivery.sender.connections_opened == 2
    assert all(len(mail_sink.messages_to(address)) == 1 for address in [*addresses, dropped])


async def test_a_550_recipient_is_dead_lettered_then_retried_and_discarded(
    outbox: PostgresOutbox, pool: Pool, mail_sink: MailSink
) -> None:
    address = unique_address("fail-550")
    message = a_message(address)
    delivery = await _delivery(outbox, mail_sink)
    await outbox.record(message)

    report = await delivery.deliver_due()
    (dead,) = await outbox.dead_letters()
    retried = await outbox.retry_dead_letter(dead.outbox_id)
    again = await delivery.deliver_due()
    (dead_again,) = await outbox.dead_letters()
    discarded = await outbox.discard_dead_letter(dead.outbox_id)
    await delivery.sender.close()

    assert report.dead == 1
    assert dead.address == address
    assert dead.last_error is not None
    assert dead.last_error.startswith("550")
    assert (retried.state, retried.attempts) == (OutboxState.PENDING, 0)
    assert again.dead == 1
    assert dead_again.attempts == 1
    assert discarded.state is OutboxState.DISCARDED
    assert await outbox.dead_letters() == []
    assert not await outbox.record(message)  # a redelivered event does not bring it back
    with pytest.raises(NotADeadLetter):
        await outbox.retry_dead_letter(dead.outbox_id)
    with pytest.raises(OutboxEntryNotFound):
        await outbox.discard_dead_letter(dead.outbox_id + 1000)
    assert mail_sink.messages_to(address) == []


async def test_transient_failures_dead_letter_once_the_attempts_are_used_up(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    address = unique_address("fail-451")
    policy = RetryPolicy(initial=timedelta(0), maximum=timedelta(0), max_attempts=2)
    delivery = await _delivery(outbox, mail_sink, policy)
    await outbox.record(a_message(address))

    first = await delivery.deliver_due()
    second = await delivery.deliver_due()
    await delivery.sender.close()

    assert (first.retried, second.dead) == (1, 1)
    (dead,) = await outbox.dead_letters()
    assert dead.attempts == 2
    assert dead.last_error is not None
    assert dead.last_error.startswith("451")


async def test_a_resend_after_a_crash_before_the_mark_is_the_same_message(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    address = unique_address()
    await outbox.record(a_message(address))
    delivery = await _delivery(outbox, mail_sink)

    # A notifier claims the entry with a lease that has already ended, sends, and dies
    # before marking it sent.
    (claimed,) = await outbox.claim_due(10, timedelta(0))
    await delivery.sender.send(build_email(claimed, delivery.smtp))
    resent = await delivery.deliver_due()
    await delivery.sender.close()

    assert resent.sent == 1
    first, second = mail_sink.messages_to(address)
    assert first.message_id == second.message_id
    assert first.message["Date"] == second.message["Date"]


async def test_logs_name_the_entry_never_the_address_subject_or_body(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    sent, dead = unique_address(), unique_address("fail-550")
    message = a_message(sent, subject="About Ada Obi's promotion", text_body="Private words")
    delivery = await _delivery(outbox, mail_sink)
    await outbox.record(message)
    await outbox.record(a_message(dead, subject="About Ada Obi's promotion"))

    with capture_logs() as logs:
        await delivery.deliver_due()
    await delivery.sender.close()

    assert {log["event"] for log in logs} >= {"notification sent", "notification dead-lettered"}
    text = repr(logs)
    for secret in (sent, dead, "example.org", "Ada Obi", "Private words"):
        assert secret not in text


async def test_a_message_deferred_by_quiet_hours_waits_in_the_outbox_until_they_end(
    outbox: PostgresOutbox, pool: Pool, mail_sink: MailSink
) -> None:
    address = unique_address()
    now = await pool.fetchval("SELECT now()")
    await outbox.record(a_message(address, not_before=now + timedelta(hours=9)))
    delivery = await _delivery(outbox, mail_sink)

    waiting = await delivery.deliver_due()
    # The quiet hours end (the row's time moves to now, as the clock would).
    await pool.execute(
        "UPDATE notifications.outbox SET next_attempt_at = now() WHERE address = $1", address
    )
    after = await delivery.deliver_due()
    await delivery.sender.close()

    assert waiting.attempted == 0
    assert after.sent == 1
    assert len(mail_sink.messages_to(address)) == 1


async def test_each_attempt_is_counted_by_channel_and_outcome(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    def counted(outcome: str) -> float:
        sample = REGISTRY.get_sample_value(
            "mentorflow_notifications_total", {"channel": "email", "outcome": outcome}
        )
        return sample or 0.0

    before = {outcome: counted(outcome) for outcome in ("sent", "retried", "dead_lettered")}
    delivery = OutboxDelivery(
        outbox, SmtpSender(mail_sink.smtp_config()), NO_WAIT, on_outcome=observe_delivery
    )
    for address in (unique_address(), unique_address("fail-451-once"), unique_address("fail-550")):
        await outbox.record(a_message(address))

    first = await delivery.deliver_due()  # one sent, one to retry, one dead
    second = await delivery.deliver_due()  # the retry goes through
    await delivery.sender.close()

    assert (first.sent, first.retried, first.dead, second.sent) == (1, 1, 1, 1)
    grown = {outcome: counted(outcome) - before[outcome] for outcome in before}
    assert grown == {"sent": 2, "retried": 1, "dead_lettered": 1}
