"""Notifications: an outbox in PostgreSQL, and its delivery over SMTP.

What reaches people is decided first and sent afterwards. Whoever decides (the notifier,
from the bus) records each message with `PostgresOutbox.record` before acknowledging the
event; `OutboxDelivery` sends what is recorded::

    await migrate_outbox(pool)
    outbox = PostgresOutbox(pool)
    await outbox.record(OutboxMessage(event_id=…, recipient="p-001", address=…, …))
    sender = SmtpSender(settings.smtp_config())
    report = await OutboxDelivery(outbox, sender).deliver_due()   # or .run(stop)

The guarantee, precisely:

* **Recorded at most once.** The outbox key is (event id, recipient, channel), unique in the
  table: recording it again, after a redelivery or a restart, changes nothing.
* **Sent at least once, duplicated only by a crash.** An entry is marked sent only after the
  SMTP server accepted it (250 after ``DATA``). A notifier that dies, or loses the database,
  between that reply and the mark leaves the entry claimed but pending; once its lease ends
  (`RetryPolicy.lease`) it is sent again. That window, a single round trip to PostgreSQL,
  is the only way a message is sent twice; nothing can close it, because SMTP has no
  transaction to join.
* **A duplicate is recognisable.** Every (re)send of an entry is byte-for-byte the same
  message: ``Message-ID`` is a uuid5 of the outbox key (at the sender address's domain) and
  ``Date`` is when the entry was recorded. Mail systems and clients that deduplicate on
  ``Message-ID`` show it once; a person sees the same message again, never a new one.
* **Transient failures are retried** (4xx replies, lost or refused connections, timeouts,
  and a relay refusing us rather than the message), with a doubling delay, up to
  `RetryPolicy.max_attempts`; then the entry is dead.
* **Permanent failures are dead-lettered at once** (5xx to the recipient or the message).
  ``mentorflow deadletters list | show | retry | discard`` is the operator's way out: a
  retried entry is due again with a fresh count of attempts; a discarded one is never sent
  and, as its key stays recorded, never recorded again.

Personal data: rows hold the rendered message, the logs never do (nor the address).
"""

from notifications.config import RetryPolicy, SmtpConfig
from notifications.delivery import DeliveryObserver, DeliveryReport, OutboxDelivery
from notifications.errors import (
    DeliveryFailed,
    NotADeadLetter,
    NotificationError,
    OutboxEntryNotFound,
    PermanentDeliveryFailure,
    TransientDeliveryFailure,
)
from notifications.mail import build_email
from notifications.models import Channel, OutboxEntry, OutboxKey, OutboxMessage, OutboxState
from notifications.outbox import SCHEMA, PostgresOutbox, migrate_outbox
from notifications.smtp import SmtpSender, classify

__all__ = [
    "SCHEMA",
    "Channel",
    "DeliveryFailed",
    "DeliveryObserver",
    "DeliveryReport",
    "NotADeadLetter",
    "NotificationError",
    "OutboxDelivery",
    "OutboxEntry",
    "OutboxEntryNotFound",
    "OutboxKey",
    "OutboxMessage",
    "OutboxState",
    "PermanentDeliveryFailure",
    "PostgresOutbox",
    "RetryPolicy",
    "SmtpConfig",
    "SmtpSender",
    "TransientDeliveryFailure",
    "build_email",
    "classify",
    "migrate_outbox",
]
