"""How the projector meets JetStream: names, delivery bounds and batch sizes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ProjectorConfig(BaseModel):
    """Settings of the projection consumers (the contract's names by default).

    Tests and parallel deployments give their own stream and subject prefixes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream: str = Field(default="MENTORFLOW_EVENTS", description="JetStream stream of events")
    subject_prefix: str = Field(
        default="mentorflow.events",
        description="Events arrive on {prefix}.{stream_type}.{event_type}",
    )
    dead_letter_stream: str = Field(
        default="MENTORFLOW_DEADLETTER", description="JetStream stream keeping dead letters"
    )
    dead_letter_prefix: str = Field(
        default="mentorflow.deadletter.projections",
        description="A projection's dead letters go to {prefix}.{projection}",
    )
    durable_prefix: str = Field(
        default="mentorflow-projection", description="Consumer {prefix}-{projection}"
    )
    max_deliver: int = Field(
        default=5, ge=1, description="Deliveries of a failing message before it is parked"
    )
    backoff: tuple[float, ...] = Field(
        default=(1.0, 5.0, 30.0, 120.0),
        description="Delay before redelivery n (the last repeats)",
    )
    ack_wait: float = Field(
        default=30.0, gt=0, description="Seconds until an unacknowledged delivery is redone"
    )
    batch_size: int = Field(
        default=100, ge=1, description="Messages fetched, and applied in one transaction"
    )
    fetch_timeout: float = Field(
        default=0.02,
        gt=0,
        description="Seconds a pull waits for more messages once one is there (adds latency)",
    )
    transient_retry_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long a database outage is waited out before a delivery counts",
    )

    @model_validator(mode="after")
    def _backoff_is_positive(self) -> ProjectorConfig:
        if not self.backoff or any(delay < 0 for delay in self.backoff):
            raise ValueError("backoff needs at least one delay, none negative")
        return self

    def subject(self, stream_types: frozenset[str]) -> str:
        """The filter subject of a projection reading ``stream_types``."""
        if len(stream_types) == 1:
            return f"{self.subject_prefix}.{next(iter(stream_types))}.>"
        return f"{self.subject_prefix}.>"

    def dead_letter_subject(self, projection: str) -> str:
        """Where a projection's dead letters go."""
        return f"{self.dead_letter_prefix}.{projection}"

    def durable(self, projection: str) -> str:
        """The durable consumer of a projection."""
        return f"{self.durable_prefix}-{projection}"

    def delay_before(self, delivery: int) -> float:
        """Seconds to wait before delivery ``delivery + 1`` after delivery ``delivery`` failed."""
        return self.backoff[min(delivery, len(self.backoff)) - 1]
