"""What the bus needs to know: where NATS is, and how the events stream is set up."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bus.subjects import (
    EVENTS_STREAM,
    EVENTS_SUBJECT_PREFIX,
    is_stream_name,
    is_subject_prefix,
)


class BusConfig(BaseModel):
    """Connection and stream settings, built by the composition root from its settings.

    The duplicate window bounds how late a re-published event is still recognised as a
    duplicate: the relay re-publishes at most the page it was working on after a crash, right
    after restart, and retries during an outage of NATS for as long as it lasts. One hour
    covers both with room to spare; the server keeps one id per message of the window in
    memory, so a much longer window costs memory at high rates.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    nats_url: str = Field(default="nats://localhost:4222", description="NATS server URL")
    stream_name: str = Field(default=EVENTS_STREAM, description="JetStream stream of events")
    subject_prefix: str = Field(
        default=EVENTS_SUBJECT_PREFIX, description="Prefix of every event subject"
    )
    duplicate_window: timedelta = Field(
        default=timedelta(hours=1),
        gt=timedelta(0),
        description="JetStream de-duplication window (Nats-Msg-Id)",
    )
    max_age: timedelta = Field(
        default=timedelta(days=30),
        ge=timedelta(0),
        description="How long the stream keeps events (0: forever)",
    )
    publish_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for JetStream's publish ack"
    )

    @field_validator("stream_name")
    @classmethod
    def _check_stream_name(cls, value: str) -> str:
        if not is_stream_name(value):
            raise ValueError("a stream name has letters, digits, '_' and '-' only")
        return value

    @field_validator("subject_prefix")
    @classmethod
    def _check_subject_prefix(cls, value: str) -> str:
        if not is_subject_prefix(value):
            raise ValueError("a subject prefix is dot-separated tokens without wildcards")
        return value

    @model_validator(mode="after")
    def _window_within_age(self) -> BusConfig:
        # JetStream refuses a stream whose duplicate window outlasts its messages.
        if self.max_age and self.duplicate_window > self.max_age:
            raise ValueError("duplicate_window must not exceed max_age")
        return self

    @property
    def subjects(self) -> list[str]:
        """The subjects the stream captures."""
        return [f"{self.subject_prefix}.>"]
