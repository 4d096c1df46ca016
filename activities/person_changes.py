"""Activities of the leaver and mover flows (`workflows.person_changes`).

They read the directory (the person streams, folded, never a read model that may lag, except
for the reports of a manager), find a person's running relationships through Temporal's
visibility (the ``MentorflowMentorId`` and ``MentorflowMenteeId`` search attributes), send
relationships their commands as updates, ask cohorts for their terms and for rematch
proposals, and record what the flow did on the person's stream.

Every step is safe to repeat: commands go with an update id derived from the triggering
event (Temporal runs an update id once per run; a relationship's rules refuse what no longer
applies, which the flow reads as "nothing to do"), and recorded events have derived ids that
`PeopleDirectory.record` appends once.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.errors import database_errors
from domain.cohort_spec import ProgramSpec
from domain.mentorship import commands as c
from events import EventEnvelope
from events import departure as d
from eventstore import Pool
from eventstore.postgres import read_streams
from mentorflow.correlation import originating
from mentorflow.directory.service import PeopleDirectory, person_stream
from projections.schema import SCHEMA as READ_MODELS
from vault import PersonalDataVault
from workflows import search_attributes as sa
from workflows.cohort_models import DepartureTerms, ProposeRematch, RematchProposal
from workflows.ids import cohort_workflow_id
from workflows.mentorship_client import execute_command
from workflows.origin import Origin

LINE_LIMIT = 50
"""Managers followed up a reporting line at most (a cycle in HR data stops it too)."""
QUERY_BATCH = 50
"""Person ids per visibility query."""

_REPORTS = f"""
WITH RECURSIVE reports(person_id, depth) AS (
    SELECT person_id, 1 FROM {READ_MODELS}.people WHERE manager_id = $1 AND NOT forgotten
    UNION
    SELECT p.person_id, r.depth + 1
    FROM {READ_MODELS}.people p JOIN reports r ON p.manager_id = r.person_id
    WHERE r.depth < {LINE_LIMIT} AND NOT p.forgotten
)
SELECT DISTINCT person_id FROM reports ORDER BY person_id
"""


class PersonStanding(BaseModel):
    """Where a person stands now, for the flow to tell stale triggers from current ones."""

    model_config = ConfigDict(frozen=True)

    active: bool
    deactivated_at: datetime | None = None
    latest_deactivation_event_id: str | None = None
    concluded_deactivations: list[str] = Field(default_factory=list)


class RelationshipRef(BaseModel):
    """A running relationship, as visibility lists it."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str


class FindRelationships(BaseModel):
    """Whose running relationships to list, and on which side."""

    person_ids: list[str] = Field(min_length=1)
    side: Literal["either", "mentee"] = "either"


class RelationshipCommand(BaseModel):
    """A pause, resume or close for one relationship, sent once per ``update_id``."""

    workflow_id: str
    kind: Literal["pause", "resume", "close"]
    update_id: str
    reason: str = Field(default="", description="A pause's reason")
    closure: Literal["mentor_left", "mentee_left"] = "mentee_left"
    rematch_mentee: bool = False
    origin: Origin | None = Field(default=None, description="The chain the command continues")


class CommandOutcome(BaseModel):
    """What the relationship recorded, or why its rules refused (nothing recorded)."""

    recorded: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


class RematchProposalRequest(BaseModel):
    """Ask a cohort what a rematch would choose."""

    cohort_id: str
    mentee_id: str
    excluded_mentor_ids: list[str] = Field(default_factory=list)


DepartureEvent = Annotated[
    d.DepartureStarted | d.DepartureConcluded | d.ReportingLineConflictFound,
    Field(discriminator="event_type"),
]


class RecordPersonEvent(BaseModel):
    """A flow's event for the person's stream, with its derived id."""

    person_id: str
    event_id: uuid.UUID
    event: DepartureEvent
    occurred_at: datetime
    origin: Origin | None = Field(default=None, description="The chain the event continues")


class PersonChangesActivities:
    """The flow's activities, built once per worker with its client and database."""

    def __init__(self, client: Client, pool: Pool, vault: PersonalDataVault) -> None:
        self._client = client
        self._pool = pool
        self._directory = PeopleDirectory(pool, vault)

    @activity.defn
    async def person_standing(self, person_id: str) -> PersonStanding:
        """Whether the person is active, their latest deactivation and the departures that
        concluded (from their stream)."""
        with database_errors():
            envelopes = await self._read(person_id)
        active, deactivated_at, latest = False, None, None
        concluded: list[str] = []
        for envelope in envelopes:
            if envelope.event_type in ("PersonProfiled", "PersonReactivated"):
                active = True
            elif envelope.event_type == "PersonDeactivated":
                active, latest = False, str(envelope.event_id)
                deactivated_at = datetime.fromisoformat(envelope.data["deactivated_at"])
            elif envelope.event_type == "PersonForgotten":
                active = False
            elif envelope.event_type == "DepartureConcluded":
                concluded.append(envelope.data["deactivation_event_id"])
        return PersonStanding(
            active=active,
            deactivated_at=deactivated_at,
            latest_deactivation_event_id=latest,
            concluded_deactivations=concluded,
        )

    async def _read(self, person_id: str) -> list[EventEnvelope]:
        async with self._pool.acquire() as connection:
            return await read_streams(connection, [person_stream(person_id)])

    @activity.defn
    async def find_relationships(self, request: FindRelationships) -> list[RelationshipRef]:
        """The running relationships of the people (as mentor or mentee, or as mentee)."""
        found: dict[str, RelationshipRef] = {}
        for start in range(0, len(request.person_ids), QUERY_BATCH):
            batch = request.person_ids[start : start + QUERY_BATCH]
            ids = ", ".join(_quoted(person_id) for person_id in batch)
            keys = ["MentorflowMenteeId"]
            if request.side == "either":
                keys.append("MentorflowMentorId")
            people = " OR ".join(f"{key} IN ({ids})" for key in keys)
            query = (
                "WorkflowType = 'MentorshipWorkflow' AND ExecutionStatus = 'Running' "
                f"AND ({people})"
            )
            async for execution in self._client.list_workflows(query):
                attributes = execution.typed_search_attributes
                cohort_id = attributes.get(sa.COHORT_ID)
                mentor_id = attributes.get(sa.MENTOR_ID)
                mentee_id = attributes.get(sa.MENTEE_ID)
                if cohort_id is None or mentor_id is None or mentee_id is None:
                    continue
                found[execution.id] = RelationshipRef(
                    workflow_id=execution.id,
                    cohort_id=cohort_id,
                    mentor_id=mentor_id,
                    mentee_id=mentee_id,
                )
        return [found[key] for key in sorted(found)]

    @activity.defn
    async def departure_terms(self, cohort_id: str) -> DepartureTerms:
        """The cohort's leaver terms; the program's defaults when the cohort cannot answer
        (it ended and its history is gone)."""
        handle = self._client.get_workflow_handle(cohort_workflow_id(cohort_id))
        try:
            terms: DepartureTerms = await handle.query(
                "departure_terms", result_type=DepartureTerms
            )
        except RPCError:
            default = ProgramSpec.model_fields["leaver_grace_period"].default
            return DepartureTerms(leaver_grace_period=default)
        return terms

    @activity.defn
    async def relationship_command(self, request: RelationshipCommand) -> CommandOutcome:
        """Send the relationship its command; a refusal by its rules is an outcome, not an
        error (the relationship moved on: closed, resumed by hand, …)."""
        command: c.Command
        if request.kind == "pause":
            command = c.PauseMentorship(reason=request.reason)
        elif request.kind == "resume":
            command = c.ResumeMentorship()
        else:
            command = c.CloseMentorship(
                reason=request.closure, rematch_mentee=request.rematch_mentee
            )
        handle = self._client.get_workflow_handle(request.workflow_id)
        try:
            with _originating(request.origin):
                result = await execute_command(handle, command, update_id=request.update_id)
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            if isinstance(cause, ApplicationError) and cause.type in (
                "CommandRejected",
                "NotPermitted",
            ):
                details = cause.details[0] if cause.details else [str(cause)]
                return CommandOutcome(problems=[str(problem) for problem in details])
            raise
        except RPCError as error:
            if "workflow execution already completed" in str(error).lower():
                return CommandOutcome(problems=["the relationship has ended"])
            raise
        return CommandOutcome(recorded=result.recorded)

    @activity.defn
    async def propose_rematch(self, request: RematchProposalRequest) -> RematchProposal:
        """What the cohort's matching would choose for the mentee now (nothing recorded)."""
        handle = self._client.get_workflow_handle(cohort_workflow_id(request.cohort_id))
        try:
            proposal: RematchProposal = await handle.execute_update(
                "propose_rematch",
                ProposeRematch(
                    mentee_id=request.mentee_id,
                    excluded_mentor_ids=request.excluded_mentor_ids,
                ),
                id=f"propose-{activity.info().workflow_id}-{activity.info().activity_id}",
                result_type=RematchProposal,
            )
        except (WorkflowUpdateFailedError, RPCError) as error:
            reason = "the cohort cannot propose a rematch now"
            activity.logger.warning(reason, extra={"error_type": type(error).__name__})
            return RematchProposal(unmatched_reason=reason)
        return proposal

    @activity.defn
    async def reports_of(self, manager_id: str) -> list[str]:
        """Everyone reporting to the manager, directly or further down (the people read
        model: a report recorded a moment ago may be missing)."""
        with database_errors():
            rows = await self._pool.fetch(_REPORTS, manager_id)
        return [row["person_id"] for row in rows]

    @activity.defn
    async def reporting_line(self, person_id: str) -> list[str]:
        """The person's manager, their manager's manager and so on, nearest first, as the
        directory knows them now."""
        line: list[str] = []
        current = person_id
        with database_errors():
            while len(line) < LINE_LIMIT:
                state = await self._directory.get(current)
                manager_id = state.profile.manager_id if state and state.profile else None
                if manager_id is None or manager_id in line or manager_id == person_id:
                    break
                line.append(manager_id)
                current = manager_id
        return line

    @activity.defn
    async def record_person_event(self, request: RecordPersonEvent) -> list[str]:
        """Append the flow's event to the person's stream, once (its id decides)."""
        with database_errors(), _originating(request.origin):
            return await self._directory.record_once(
                request.person_id, [(request.event_id, request.event)], request.occurred_at
            )


def _originating(origin: Origin | None) -> AbstractContextManager[object]:
    """Bind the flow's origin (correlation and causation ids) for what the step sends."""
    return nullcontext() if origin is None else originating(origin)


def _quoted(value: str) -> str:
    """A visibility-query string literal (ids are validated; quotes are escaped anyway)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
