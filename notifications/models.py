"""What the outbox holds: `OutboxMessage` to record, `OutboxEntry` as stored."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MESSAGE_ID_NAMESPACE = uuid.UUID("6f1b8a52-3c0e-4d8e-9a51-2f6f3c1d7e40")
"""Fixed namespace of the uuid5 in every notification's ``Message-ID``: never change it, or
a resend after the change is no longer recognisable as the same message."""

_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
_WEBHOOK = re.compile(r"^https://[^\s]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")


class Channel(StrEnum):
    """How a notification reaches its recipient."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    """A program's Slack or Microsoft Teams incoming webhook (the address is its URL)."""


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
        address: The recipient's email address, or the webhook's https URL.
        subject: The subject line (one line).
        text_body: The plain-text body (a webhook posts this text).
        category: The kind of message (preferences and ``List-Unsubscribe`` name it).
        html_body: The HTML alternative of an email, if any.
        calendar: An iCalendar attachment (``text/calendar``), if any.
        headers: Extra email headers decided when recorded (``List-Unsubscribe``).
        not_before: Not sent before this instant (quiet hours); now when None.
    """

    address: str = Field(max_length=2048)
    subject: str = Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*$")
    text_body: str = Field(min_length=1, max_length=100_000)
    category: str = Field(default="general", pattern=r"^[a-z][a-z_]{0,39}$")
    html_body: str | None = Field(default=None, max_length=200_000)
    calendar: str | None = Field(default=None, max_length=100_000)
    headers: dict[str, str] = Field(default_factory=dict, max_length=10)
    not_before: AwareDatetime | None = None

    @field_validator("address")
    @classmethod
    def _address_fits_the_channel(cls, address: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel", Channel.EMAIL)
        if channel is Channel.WEBHOOK and not _WEBHOOK.fullmatch(address):
            raise ValueError("a webhook address is an https URL")
        if channel is Channel.EMAIL and not _ADDRESS.fullmatch(address):
            raise ValueError("not an email address")
        return address

    @field_validator("headers")
    @classmethod
    def _headers_are_one_line_each(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
                raise ValueError(f"{name!r} is not a one-line header")
        return headers

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


class OperatorAction(BaseModel):
    """Who retries or discards a dead letter, and why (both recorded)."""

    model_config = ConfigDict(frozen=True)

    by: str = Field(min_length=1, max_length=200, description="The operator (user or token)")
    reason: str = Field(min_length=1, max_length=1000, description="Why, in their words")


class RecordedAction(BaseModel):
    """An operator's action as recorded in ``notifications.dead_letter_actions``."""

    action: Literal["retry", "discard"]
    actor: str
    reason: str
    acted_at: datetime
