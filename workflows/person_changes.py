"""The leaver and mover flows of one person: ``person-changes-{person_id}``.

The directory records facts about a person; this workflow acts on three of them, signalled
by the people reactor (`mentorflow.directory.reactor`) in the order of the person's stream:

* **`PersonDeactivated`: the leaver flow.** Every running relationship of theirs, as mentor
  or mentee, is paused at once (those open: onboarding or active), and `DepartureStarted`
  records them, each with its deadline: the deactivation plus its cohort's
  ``leaver_grace_period``. HR hears of it through the notifier.
* **`PersonReactivated` within the grace period:** the relationships the departure paused
  resume, and `DepartureConcluded` says ``returned``.
* **The deadline passes:** each relationship closes with ``mentor_left`` (and its mentee is
  matched again, carrying their open goals and action items) or ``mentee_left``; once all
  have, `DepartureConcluded` says ``left``. Their cohorts know they are away from the start
  (a ``participant_departure`` signal), so no rematch chooses them as a mentor meanwhile.
* **`ManagerChanged`: the mover flow.** The reporting line changed for the person and
  everyone below them: every running pair whose mentor is now in the mentee's reporting line
  is recorded as a `ReportingLineConflictFound`, with a rematch the cohort proposes. It is
  never applied: HR decides.

Everything is idempotent: a stale or repeated trigger finds nothing to do (the standing of
the person says so), commands go with derived update ids, and recorded events with derived
ids. The workflow ends when nothing is pending; the next change starts it again
(signal-with-start). Its state carries over continue-as-new.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.person_changes import (
        CommandOutcome,
        DepartureEvent,
        FindRelationships,
        PersonChangesActivities,
        PersonStanding,
        RecordPersonEvent,
        RelationshipCommand,
        RematchProposalRequest,
    )
    from events import departure as d
    from workflows.cohort_models import ParticipantDeparture
    from workflows.ids import cohort_workflow_id
    from workflows.origin import Origin
    from workflows.recording import ACTIVITY_RETRY

ACTIVITY_TIMEOUT = timedelta(minutes=2)
EVENT_NAMESPACE = uuid.UUID("7d0b8c1e-52a4-4a57-9a51-3f3c1f4f8e60")
SEEN_KEPT = 500
"""Trigger ids remembered against repeated signals (older ones are stale anyway)."""
HISTORY_LIMIT = 5_000

ChangeType = Literal["PersonDeactivated", "PersonReactivated", "ManagerChanged"]


class PersonChange(BaseModel):
    """A directory fact to act on (the reactor's signal)."""

    event_id: str
    event_type: ChangeType
    occurred_at: datetime
    correlation_id: str | None = Field(
        default=None, description="The fact's own correlation id: what the flow continues"
    )

    def origin(self) -> Origin:
        """The origin of what the flow does about this fact: its chain, caused by it."""
        return Origin(
            correlation_id=self.correlation_id or self.event_id, causation_id=self.event_id
        )


class Departure(BaseModel):
    """A departure in progress: the relationships it holds and what became of them."""

    deactivation_event_id: str
    relationships: list[d.DepartedRelationship]
    concluded: list[d.ConcludedRelationship] = Field(default_factory=list)

    def open(self) -> list[d.DepartedRelationship]:
        """Relationships without an outcome yet."""
        done = {outcome.stream_id for outcome in self.concluded}
        return [rel for rel in self.relationships if rel.stream_id not in done]


class PersonChangesInput(BaseModel):
    """The person, and after continue-as-new what was pending."""

    person_id: str
    pending: list[PersonChange] = Field(default_factory=list)
    departure: Departure | None = None
    seen: list[str] = Field(default_factory=list)


class PersonChangesResult(BaseModel):
    """What the run did."""

    person_id: str
    handled: list[str]


@workflow.defn
class PersonChangesWorkflow:
    """See the module docstring."""

    @workflow.init
    def __init__(self, request: PersonChangesInput) -> None:
        self._person_id = request.person_id
        self._pending = list(request.pending)
        self._departure = request.departure
        self._seen = list(request.seen)
        self._handled: list[str] = []
        self._terms: dict[str, timedelta] = {}
        self._origin: Origin | None = None
        """The chain of what the flow does now: the fact it handles, or its deadline."""

    @workflow.signal
    def person_changed(self, change: PersonChange) -> None:
        """A directory fact about the person, in the order of their stream."""
        if change.event_id not in self._seen and all(
            change.event_id != queued.event_id for queued in self._pending
        ):
            self._pending.append(change)

    @workflow.query
    def departure(self) -> Departure | None:
        """The departure in progress, if any (ids and dates only)."""
        return self._departure

    @workflow.run
    async def run(self, request: PersonChangesInput) -> PersonChangesResult:
        while True:
            await self._wait_for_work()
            while self._pending:
                change = self._pending.pop(0)
                await self._handle(change)
                self._seen = [*self._seen, change.event_id][-SEEN_KEPT:]
                self._handled.append(f"{change.event_type}:{change.event_id}")
            if self._departure is not None:
                await self._close_overdue()
            if not self._pending and self._departure is None:
                return PersonChangesResult(person_id=self._person_id, handled=self._handled)
            if workflow.info().get_current_history_length() > HISTORY_LIMIT:
                workflow.continue_as_new(
                    PersonChangesInput(
                        person_id=self._person_id,
                        pending=self._pending,
                        departure=self._departure,
                        seen=self._seen,
                    )
                )

    async def _wait_for_work(self) -> None:
        if self._pending:
            return
        deadline = self._next_deadline()
        if deadline is None:
            await workflow.wait_condition(lambda: bool(self._pending))
            return
        remaining = (deadline - workflow.now()).total_seconds()
        if remaining <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: bool(self._pending), timeout=remaining)

    def _next_deadline(self) -> datetime | None:
        if self._departure is None:
            return None
        deadlines = [rel.resume_by for rel in self._departure.open()]
        return min(deadlines) if deadlines else workflow.now()

    async def _handle(self, change: PersonChange) -> None:
        self._origin = change.origin()
        if change.event_type == "PersonDeactivated":
            await self._deactivated(change)
        elif change.event_type == "PersonReactivated":
            await self._reactivated(change)
        else:
            await self._manager_changed(change)

    # -- the leaver flow --------------------------------------------------------------------

    async def _deactivated(self, change: PersonChange) -> None:
        standing = await self._standing()
        current = standing.latest_deactivation_event_id == change.event_id
        if (
            not current
            or standing.active
            or change.event_id in standing.concluded_deactivations
            or self._departure is not None
        ):
            return  # stale: they came back since, or this departure is handled or running
        deactivated_at = standing.deactivated_at or change.occurred_at
        found = await workflow.execute_activity_method(
            PersonChangesActivities.find_relationships,
            FindRelationships(person_ids=[self._person_id]),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        relationships = []
        for ref in found:
            side: d.Side = "mentor" if ref.mentor_id == self._person_id else "mentee"
            grace = await self._grace(ref.cohort_id)
            outcome = await self._command(
                RelationshipCommand(
                    workflow_id=ref.workflow_id,
                    kind="pause",
                    update_id=f"{change.event_id}/pause",
                    reason=f"the {side} left the organisation",
                )
            )
            relationships.append(
                d.DepartedRelationship(
                    stream_id=ref.workflow_id,
                    cohort_id=ref.cohort_id,
                    side=side,
                    other_id=ref.mentee_id if side == "mentor" else ref.mentor_id,
                    paused="MentorshipPaused" in outcome.recorded,
                    resume_by=deactivated_at + grace,
                )
            )
        departure = Departure(deactivation_event_id=change.event_id, relationships=relationships)
        await self._tell_cohorts(departure, away=True)
        await self._record(
            f"{change.event_id}/DepartureStarted",
            d.DepartureStarted(
                person_id=self._person_id,
                deactivation_event_id=change.event_id,
                deactivated_at=deactivated_at,
                relationships=relationships,
            ),
        )
        self._departure = departure

    async def _reactivated(self, change: PersonChange) -> None:
        departure = self._departure
        if departure is None:
            return  # nothing held: no departure, or it concluded (they came back too late)
        outcomes = list(departure.concluded)
        for rel in departure.open():
            outcome: Literal["resumed", "unchanged"] = "unchanged"
            if rel.paused:
                result = await self._command(
                    RelationshipCommand(
                        workflow_id=rel.stream_id,
                        kind="resume",
                        update_id=f"{change.event_id}/resume",
                    )
                )
                if "MentorshipResumed" in result.recorded:
                    outcome = "resumed"
            outcomes.append(
                d.ConcludedRelationship(
                    stream_id=rel.stream_id, cohort_id=rel.cohort_id, outcome=outcome
                )
            )
        await self._conclude(departure, "returned", outcomes)
        await self._tell_cohorts(departure, away=False)

    async def _close_overdue(self) -> None:
        departure = self._departure
        assert departure is not None
        now = workflow.now()
        due = [rel for rel in departure.open() if rel.resume_by <= now]
        self._origin = Origin(
            correlation_id=f"timer:{workflow.info().workflow_id}:{now.isoformat()}",
            causation_id=departure.deactivation_event_id,
        )
        if due and (await self._standing()).active:
            return  # back already: their reactivation is on its way to this workflow
        for rel in due:
            mentor_left = rel.side == "mentor"
            result = await self._command(
                RelationshipCommand(
                    workflow_id=rel.stream_id,
                    kind="close",
                    update_id=f"{departure.deactivation_event_id}/close",
                    closure="mentor_left" if mentor_left else "mentee_left",
                    rematch_mentee=mentor_left,
                )
            )
            outcome: Literal["closed", "rematch_requested", "unchanged"] = "unchanged"
            if "RematchRequested" in result.recorded:
                outcome = "rematch_requested"
            elif "ClosureStarted" in result.recorded:
                outcome = "closed"
            departure = departure.model_copy(
                update={
                    "concluded": [
                        *departure.concluded,
                        d.ConcludedRelationship(
                            stream_id=rel.stream_id, cohort_id=rel.cohort_id, outcome=outcome
                        ),
                    ]
                }
            )
            self._departure = departure
        if not departure.open():
            await self._conclude(departure, "left", departure.concluded)

    async def _conclude(
        self,
        departure: Departure,
        outcome: Literal["returned", "left"],
        relationships: list[d.ConcludedRelationship],
    ) -> None:
        await self._record(
            f"{departure.deactivation_event_id}/DepartureConcluded",
            d.DepartureConcluded(
                person_id=self._person_id,
                deactivation_event_id=departure.deactivation_event_id,
                outcome=outcome,
                relationships=relationships,
            ),
        )
        self._departure = None

    async def _tell_cohorts(self, departure: Departure, *, away: bool) -> None:
        """Let the cohorts know, so that no rematch chooses the person as a mentor while
        they are away (the cohort may have ended: then nobody needs to know)."""
        for cohort_id in sorted({rel.cohort_id for rel in departure.relationships}):
            cohort = workflow.get_external_workflow_handle(cohort_workflow_id(cohort_id))
            try:
                await cohort.signal(
                    "participant_departure",
                    ParticipantDeparture(person_id=self._person_id, away=away),
                )
            except Exception:
                workflow.logger.warning("cohort not reachable", extra={"cohort_id": cohort_id})

    # -- the mover flow ---------------------------------------------------------------------

    async def _manager_changed(self, change: PersonChange) -> None:
        reports = await workflow.execute_activity_method(
            PersonChangesActivities.reports_of,
            self._person_id,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        found = await workflow.execute_activity_method(
            PersonChangesActivities.find_relationships,
            FindRelationships(person_ids=[self._person_id, *reports], side="mentee"),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        for ref in found:
            line = await workflow.execute_activity_method(
                PersonChangesActivities.reporting_line,
                ref.mentee_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            if ref.mentor_id not in line:
                continue
            proposal = await workflow.execute_activity_method(
                PersonChangesActivities.propose_rematch,
                RematchProposalRequest(
                    cohort_id=ref.cohort_id,
                    mentee_id=ref.mentee_id,
                    excluded_mentor_ids=sorted({ref.mentor_id, *line}),
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            await self._record(
                f"{change.event_id}/{ref.workflow_id}/ReportingLineConflictFound",
                d.ReportingLineConflictFound(
                    person_id=self._person_id,
                    change_event_id=change.event_id,
                    stream_id=ref.workflow_id,
                    cohort_id=ref.cohort_id,
                    mentor_id=ref.mentor_id,
                    mentee_id=ref.mentee_id,
                    reporting_line=line,
                    proposed_mentor_id=proposal.pair.mentor_id if proposal.pair else None,
                    proposed_score=proposal.pair.score if proposal.pair else None,
                    unmatched_reason=proposal.unmatched_reason,
                ),
            )

    # -- steps ------------------------------------------------------------------------------

    async def _standing(self) -> PersonStanding:
        return await workflow.execute_activity_method(
            PersonChangesActivities.person_standing,
            self._person_id,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _grace(self, cohort_id: str) -> timedelta:
        if cohort_id not in self._terms:
            terms = await workflow.execute_activity_method(
                PersonChangesActivities.departure_terms,
                cohort_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._terms[cohort_id] = terms.leaver_grace_period
        return self._terms[cohort_id]

    async def _command(self, command: RelationshipCommand) -> CommandOutcome:
        return await workflow.execute_activity_method(
            PersonChangesActivities.relationship_command,
            command.model_copy(update={"origin": self._origin}),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _record(self, key: str, event: DepartureEvent) -> None:
        await workflow.execute_activity_method(
            PersonChangesActivities.record_person_event,
            RecordPersonEvent(
                person_id=self._person_id,
                origin=self._origin,
                event_id=uuid.uuid5(EVENT_NAMESPACE, f"{self._person_id}/{key}"),
                event=event,
                occurred_at=workflow.now(),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
