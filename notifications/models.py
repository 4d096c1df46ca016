"""What the outbox holds: `OutboxMessage` to record, `OutboxEntry` as stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MESSAGE_ID_NAMESPACE = uuid.UUID("6f1b8a52-3c0e-4d8e-9a51-2f6f3c1d7e40")
"""Fixed namespace of the uuid5 in every notification's ``Message-ID``: never change it, or
a resend after the change is no longer recognisable as the same message."""

_ADDRESS = r"^[^@\s<>,;]+@[^@\s<>,;]+$"


class Channel(StrEnum):
    """How a notification reaches its recipient."""

    EMAIL = "email"


class OutboxState(StrEnum):
    """Where an outbox entry stands."""

    PENDING = "pending"
    """To be sent, again if ``attempts`` > 0, from ``next_attempt_at`` on."""
    SENT = "sent"
    """The SMTP server accepted it."""
    DEAD = "dead"
    """Failed for good (or too often); waits for an operator to retry or discard it."""
    DISCARDED = "discarded"
    """An operator gave it up; kept so that a redelivered event cannot record it anew."""


class OutboxKey(BaseModel):
    """What makes a notification one: the event, the person it goes to, the channel."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(description="The event the notification is about")
    recipient: str = Field(
        min_length=1, max_length=128, description="The person it goes to (participant id)"
    )
    channel: Channel = Field(default=Channel.EMAIL, description="How it is sent")

    def message_id(self, domain: str) -> str:
        """The ``Message-ID`` of this notification: the same whenever it is (re)sent.

        Args:
            domain: The right-hand side (the sender address's domain).
        """
        name = f"{self.event_id}/{self.recipient}/{self.channel.value}"
        return f"<notification.{uuid.uuid5(MESSAGE_ID_NAMESPACE, name)}@{domain}>"


class OutboxMessage(OutboxKey):
    """A rendered notification to record in the outbox.

    Attributes:
        address: The recipient's email address.
        subject: The subject line (one line).
        text_body: The plain-text body; personal text only for its own recipient.
    """

    address: str = Field(pattern=_ADDRESS, max_length=320)
    subject: str = Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*$")
    text_body: str = Field(min_length=1, max_length=100_000)

    @property
    def key(self) -> OutboxKey:
        """The outbox key alone."""
        return OutboxKey(event_id=self.event_id, recipient=self.recipient, channel=self.channel)


class OutboxEntry(OutboxMessage):
    """A row of the outbox.

    Attributes:
        outbox_id: The entry's number, for operators (``mentorflow deadletters show ID``).
        state: Pending, sent, dead or discarded.
        attempts: How often it was handed to the SMTP server (claims, crashed ones included).
        last_error: The last failure, as the server put it (may quote the address).
        next_attempt_at: When a pending entry is due next.
        created_at: When it was recorded (also its ``Date`` header).
        updated_at: When its state last changed.
        sent_at: When the server accepted it.
    """

    outbox_id: int
    state: OutboxState
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
