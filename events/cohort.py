"""Events of a program cohort's stream (``cohort-{cohort_id}``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from events.base import DomainEvent


class CohortLaunched(DomainEvent):
    """HR launched a cohort of a mentoring program."""

    event_type: Literal["CohortLaunched"] = "CohortLaunched"
    stream_type: ClassVar[str] = "cohort"

    cohort_id: str = Field(description="Id of the cohort, [a-z0-9-]")
    program_name: str = Field(description="Name of the program")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    participant_count: int = Field(ge=0)
