"""The pure parts: retry delays, failure kinds, the message an entry becomes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest
from pydantic import ValidationError

from devstack.mail_sink import failure_rule
from notifications import (
    OutboxEntry,
    OutboxKey,
    OutboxMessage,
    OutboxState,
    PermanentDeliveryFailure,
    RetryPolicy,
    SmtpConfig,
    TransientDeliveryFailure,
    build_email,
    classify,
)


def test_the_retry_delay_doubles_up_to_the_maximum_then_gives_up() -> None:
    policy = RetryPolicy(
        initial=timedelta(seconds=30), maximum=timedelta(minutes=5), max_attempts=4
    )

    delays = [policy.delay(attempts) for attempts in range(1, 7)]

    assert delays == [timedelta(seconds=seconds) for seconds in (30, 60, 120, 240, 300, 300)]
    assert policy.delay(10_000) == timedelta(minutes=5)
    assert [policy.gives_up(attempts) for attempts in (3, 4)] == [False, True]


def test_a_nonsensical_retry_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="initial <= maximum"):
        RetryPolicy(initial=timedelta(hours=2), maximum=timedelta(hours=1))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b.org")]
            ),
            PermanentDeliveryFailure,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(451, "later", "a@b.org")]
            ),
            TransientDeliveryFailure,
        ),
        (aiosmtplib.SMTPDataError(554, "message rejected"), PermanentDeliveryFailure),
        (aiosmtplib.SMTPDataError(452, "mailbox full"), TransientDeliveryFailure),
        # About us, not the message: never a reason to bury it.
        (aiosmtplib.SMTPAuthenticationError(535, "bad login"), TransientDeliveryFailure),
        (aiosmtplib.SMTPSenderRefused(550, "not you", "x@y.org"), TransientDeliveryFailure),
        (aiosmtplib.SMTPServerDisconnected("gone"), TransientDeliveryFailure),
        (aiosmtplib.SMTPConnectError("refused"), TransientDeliveryFailure),
        (ConnectionResetError(), TransientDeliveryFailure),
    ],
)
def test_smtp_errors_are_transient_or_permanent(error: Exception, kind: type) -> None:
    assert type(classify(error)) is kind


def test_a_bug_is_no_delivery_failure() -> None:
    assert classify(ValueError("a bug")) is None


def test_the_message_id_is_the_same_for_one_key_and_differs_between_keys() -> None:
    event_id = uuid.uuid4()
    key = OutboxKey(event_id=event_id, recipient="p-001")

    same = OutboxKey(event_id=event_id, recipient="p-001").message_id("example.org")
    other_person = OutboxKey(event_id=event_id, recipient="p-002").message_id("example.org")

    assert key.message_id("example.org") == same
    assert same != other_person
    assert same.startswith("<notification.")
    assert same.endswith("@example.org>")


def test_an_entry_becomes_an_email_with_headers_from_the_entry_alone() -> None:
    recorded = datetime(2027, 3, 28, 9, 0, tzinfo=UTC)
    entry = OutboxEntry(
        outbox_id=7,
        event_id=uuid.uuid4(),
        recipient="p-001",
        address="ada@example.org",
        subject="Your conversation is due",
        text_body="See you Monday.",
        state=OutboxState.PENDING,
        attempts=1,
        last_error=None,
        next_attempt_at=recorded,
        created_at=recorded,
        updated_at=recorded,
        sent_at=None,
    )
    config = SmtpConfig("127.0.0.1", 25, from_address="mentorflow@mentoring.example")

    message = build_email(entry, config)

    assert message["Message-ID"] == entry.key.message_id("mentoring.example")
    assert message["Date"] == "Sun, 28 Mar 2027 09:00:00 +0000"
    assert message["To"] == "ada@example.org"
    assert message["From"] == "mentorflow@mentoring.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert str(build_email(entry, config)) == str(message)


def test_a_message_with_a_bad_address_or_a_multiline_subject_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        OutboxMessage(
            event_id=uuid.uuid4(),
            recipient="",
            address="not an address",
            subject="Hello\r\nBcc: everyone@example.org",
            text_body="x",
        )

    assert {error["loc"][0] for error in raised.value.errors()} == {
        "recipient",
        "address",
        "subject",
    }


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("fail-550@example.org", "fail-550"),
        ("fail-451-once+t1@example.org", "fail-451-once"),
        ("FAIL-451@example.org", "fail-451"),
        ("disconnect-once+x@example.org", "disconnect-once"),
        ("ada@example.org", ""),
        ("fail-550x@example.org", ""),
    ],
)
def test_the_sink_reads_its_failure_rule_from_the_local_part(address: str, rule: str) -> None:
    assert failure_rule(address) == rule
