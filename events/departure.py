"""Events of the leaver and mover flows, on the person's own stream (``person-{id}``).

The directory records that someone left (`PersonDeactivated`), came back
(`PersonReactivated`) or changed manager (`ManagerChanged`); the person-changes workflow
(`workflows.person_changes`) acts on those facts and records what it did here, next to them:

* `DepartureStarted`: the leaver's relationships were paused, each until a deadline (the
  cohort's ``leaver_grace_period`` after the deactivation). HR is told.
* `DepartureConcluded`: they came back in time and the relationships resumed, or the grace
  period ran out and the relationships closed with ``mentor_left``/``mentee_left`` (a mentee
  whose mentor left is matched again, carrying their goals and open action items).
* `ReportingLineConflictFound`: after a manager change, a mentor is now in their mentee's
  reporting line. HR gets the conflict and a proposed rematch; nothing is changed for them.

Ids, dates and reasons only: no names, no free text of anyone.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.base import DomainEvent

Side = Literal["mentor", "mentee"]


class _PersonProcessEvent(DomainEvent):
    stream_type: ClassVar[str] = "person"
    person_id: str = Field(description="The person (the stream's own id after 'person-')")


class DepartedRelationship(BaseModel):
    """A relationship of the leaver, as the departure found it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: str = Field(description="The relationship (its workflow id and stream id)")
    cohort_id: str
    side: Side = Field(description="The leaver's side in it")
    other_id: str = Field(description="The other participant's id")
    paused: bool = Field(description="Whether the departure paused it (false: it was not open)")
    resume_by: AwareDatetime = Field(
        description="Until when a return resumes it: the deactivation plus the cohort's grace"
    )


class DepartureStarted(_PersonProcessEvent):
    """A person was deactivated: their relationships are paused until they come back or the
    grace period ends."""

    event_type: Literal["DepartureStarted"] = "DepartureStarted"
    deactivation_event_id: str = Field(description="The `PersonDeactivated` this acts on")
    deactivated_at: AwareDatetime
    relationships: list[DepartedRelationship]


class ConcludedRelationship(BaseModel):
    """What became of one relationship at the end of a departure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: str
    cohort_id: str
    outcome: Literal["resumed", "closed", "rematch_requested", "unchanged"] = Field(
        description=(
            "resumed: the person came back in time; closed: closed with mentor_left or "
            "mentee_left; rematch_requested: closed with mentor_left and the mentee is being "
            "matched again; unchanged: it had already moved on (closed, or resumed by hand)"
        )
    )


class DepartureConcluded(_PersonProcessEvent):
    """A departure ended: the person came back within the grace period, or left for good."""

    event_type: Literal["DepartureConcluded"] = "DepartureConcluded"
    deactivation_event_id: str
    outcome: Literal["returned", "left"]
    relationships: list[ConcludedRelationship]


class ReportingLineConflictFound(_PersonProcessEvent):
    """After a manager change a mentor is in their mentee's reporting line (the rule the
    matching keeps); HR decides, with a proposed rematch. Nothing was changed."""

    event_type: Literal["ReportingLineConflictFound"] = "ReportingLineConflictFound"
    change_event_id: str = Field(description="The `ManagerChanged` that caused it")
    stream_id: str = Field(description="The relationship in conflict")
    cohort_id: str
    mentor_id: str
    mentee_id: str
    reporting_line: list[str] = Field(description="The mentee's managers, nearest first")
    proposed_mentor_id: str | None = Field(
        description="The mentor a rematch would choose now; null: none is available"
    )
    proposed_score: float | None = None
    unmatched_reason: str | None = Field(
        default=None, description="Why no mentor is available, when none is"
    )
