"""Writes and live reads through Temporal, with its errors translated to the API's.

The one place that knows how Temporal reports things: a rejected update is a
`WorkflowUpdateFailedError` whose cause is an ``ApplicationError`` of type ``CommandRejected``
carrying every problem; an ended or unknown workflow is an ``RPCError`` ``NOT_FOUND``; a
workflow nobody answers for (no worker) runs into the RPC timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain.cohort_spec import CohortSpec
from domain.mentorship.commands import Command
from mentorflow.api.errors import (
    ApiError,
    CommandRejected,
    Conflict,
    Forbidden,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
)
from mentorflow.cohorts import LaunchResult, launch_cohort
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import (
    ApproveMatches,
    MatchingOutcome,
    ParticipantCardsInput,
    ParticipantCardsResult,
)
from workflows.ids import cohort_workflow_id
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import (
    CommandResult,
    MentorshipSnapshot,
    PrivateNotesInput,
    PrivateNotesResult,
    StartReviewCycle,
)

C = TypeVar("C", bound=BaseModel)
R = TypeVar("R")
TEMPORAL_PAYLOAD_LIMIT = "2 MiB"


def _unavailable(error: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"Temporal did not answer: {error}")


@contextmanager
def _query_errors(not_found: str) -> Iterator[None]:
    """Temporal's answers to a query, as the API's: `NotFound` (with ``not_found``) for an
    unknown workflow, `ServiceUnavailable` when nobody answered in time."""
    try:
        yield
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(not_found) from error
        raise _unavailable(error) from error
    except (RPCTimeoutOrCancelledError, WorkflowQueryFailedError) as error:
        raise _unavailable(error) from error


def _too_large(error: RPCError) -> bool:
    return error.status is RPCStatusCode.INVALID_ARGUMENT and "size exceeds limit" in error.message


async def update_mentorship(
    client: Client,
    mentorship_id: str,
    command: Command,
    *,
    timeout: float,
    update_id: str | None = None,
) -> CommandResult:
    """Run an update on a relationship and return what it recorded.

    Args:
        client: The Temporal client.
        mentorship_id: The relationship's workflow id.
        command: The command (the table names its update).
        timeout: Seconds to wait for the outcome.
        update_id: Temporal deduplicates updates with the same id on a run, so a client
            retrying with the same idempotency key gets the first outcome instead of a second
            change.

    Raises:
        CommandRejected: The relationship's rules reject the command (every problem named).
        Conflict: The relationship's workflow has ended.
        ServiceUnavailable: Temporal did not answer in time.
    """
    handle = client.get_workflow_handle_for(MentorshipWorkflow.run, mentorship_id)
    try:
        return await execute_command(
            handle, command, update_id=update_id, rpc_timeout=timedelta(seconds=timeout)
        )
    except WorkflowUpdateFailedError as failed:
        raise _rejection(failed) from failed
    except RPCTimeoutOrCancelledError as timed_out:
        raise ServiceUnavailable(
            f"the relationship did not answer within {timeout:g} s; the change may still be "
            "recorded: read the mentorship before retrying (or retry with the same "
            "Idempotency-Key)"
        ) from timed_out
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise Conflict(
                f"the relationship {mentorship_id} has ended: its workflow takes no more changes",
                code="mentorship_ended",
            ) from error
        raise _unavailable(error) from error


def _rejection(failed: WorkflowUpdateFailedError) -> ApiError:
    cause = failed.cause
    if isinstance(cause, ApplicationError) and cause.type == "NotPermitted":
        denied: list[Any] = list(cause.details[0]) if cause.details else [cause.message]
        return Forbidden(
            "this change is not yours to make; nothing was recorded",
            [str(problem) for problem in denied],
        )
    if isinstance(cause, ApplicationError) and cause.type == "CommandRejected":
        problems: list[Any] = list(cause.details[0]) if cause.details else [cause.message]
        return CommandRejected(
            "the relationship's rules reject this change; nothing was recorded",
            [str(problem) for problem in problems],
        )
    return ApiError(f"the workflow failed the update: {cause}")


async def mentorship_snapshot(
    client: Client, mentorship_id: str, *, timeout: float
) -> MentorshipSnapshot:
    """The relationship's live state (its ``state`` query).

    Raises:
        NotFound: No workflow has this id.
        ServiceUnavailable: The workflow did not answer in time (no worker, Temporal down).
    """
    handle = client.get_workflow_handle_for(MentorshipWorkflow.run, mentorship_id)
    with _query_errors(f"no mentorship {mentorship_id}"):
        return await handle.query(MentorshipWorkflow.state, rpc_timeout=timedelta(seconds=timeout))


async def private_notes(
    client: Client, mentorship_id: str, person_id: str, *, timeout: float
) -> PrivateNotesResult:
    """The private notes ``person_id`` wrote in the relationship (their ``private_notes``
    query); the caller checks that ``person_id`` is the one asking.

    Raises:
        NotFound: No workflow has this id.
        ServiceUnavailable: The workflow did not answer in time.
    """
    handle = client.get_workflow_handle_for(MentorshipWorkflow.run, mentorship_id)
    with _query_errors(f"no mentorship {mentorship_id}"):
        return await handle.query(
            MentorshipWorkflow.private_notes,
            PrivateNotesInput(person_id=person_id),
            rpc_timeout=timedelta(seconds=timeout),
        )


async def cohort_snapshot(client: Client, cohort_id: str, *, timeout: float) -> dict[str, Any]:
    """The cohort workflow's live counts (its ``state`` query).

    Raises:
        NotFound: No cohort workflow has this id.
        ServiceUnavailable: The workflow did not answer in time.
    """
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    with _query_errors(f"no cohort {cohort_id}"):
        return await handle.query(CohortWorkflow.state, rpc_timeout=timedelta(seconds=timeout))


async def cohort_matching(client: Client, cohort_id: str, *, timeout: float) -> MatchingOutcome:
    """The cohort's matching (draft while awaiting approval, final after).

    Raises:
        NotFound: No cohort workflow has this id, or its matching is not done yet.
        ServiceUnavailable: The workflow did not answer in time.
    """
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    with _query_errors(f"no cohort {cohort_id}"):
        outcome = await handle.query(
            CohortWorkflow.matching, rpc_timeout=timedelta(seconds=timeout)
        )
    if outcome is None:
        raise NotFound(f"the matching of cohort {cohort_id} is not done yet")
    return outcome


async def cohort_approval_problems(
    client: Client, cohort_id: str, request: ApproveMatches, *, timeout: float
) -> list[str]:
    """What ``approve_matches`` would refuse ``request`` for, asked without recording it
    (the cohort's ``approval_problems`` query runs its update validator's rules).

    Raises:
        NotFound: No cohort workflow has this id.
        ServiceUnavailable: The workflow did not answer in time.
    """
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    with _query_errors(f"no cohort {cohort_id}"):
        return await handle.query(
            CohortWorkflow.approval_problems, request, rpc_timeout=timedelta(seconds=timeout)
        )


async def participant_cards(
    client: Client, cohort_id: str, person_ids: list[str], *, timeout: float
) -> ParticipantCardsResult:
    """Names, time zones and languages of some of a cohort's participants, from its spec.

    Raises:
        NotFound: No cohort workflow has this id.
        ServiceUnavailable: The workflow did not answer in time.
    """
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    with _query_errors(f"no cohort {cohort_id}"):
        return await handle.query(
            CohortWorkflow.participant_cards,
            ParticipantCardsInput(person_ids=person_ids),
            rpc_timeout=timedelta(seconds=timeout),
        )


async def update_cohort(
    client: Client,
    cohort_id: str,
    update: UpdateMethodMultiParam[[CohortWorkflow, C], R],
    request: C,
    *,
    timeout: float,
) -> R:
    """Run an update on a cohort's workflow and return its answer.

    Raises:
        NotFound: No cohort workflow has this id (or it has ended).
        CommandRejected: The cohort's rules reject the request (every problem named).
        ServiceUnavailable: Temporal did not answer in time.
    """
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    try:
        return await handle.execute_update(update, request, rpc_timeout=timedelta(seconds=timeout))
    except WorkflowUpdateFailedError as failed:
        raise _rejection(failed) from failed
    except RPCTimeoutOrCancelledError as timed_out:
        raise ServiceUnavailable(f"the cohort did not answer within {timeout:g} s") from timed_out
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no running cohort {cohort_id}") from error
        raise _unavailable(error) from error


async def signal_review_cycle(client: Client, mentorship_id: str, cycle_id: str) -> bool:
    """Signal a relationship to start a review cycle; False when its workflow has ended.

    Raises:
        ServiceUnavailable: Temporal did not answer.
    """
    handle = client.get_workflow_handle_for(MentorshipWorkflow.run, mentorship_id)
    try:
        await handle.signal(
            MentorshipWorkflow.start_review_cycle, StartReviewCycle(cycle_id=cycle_id)
        )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise _unavailable(error) from error
    return True


async def launch(client: Client, spec: CohortSpec, task_queue: str) -> LaunchResult:
    """Launch a cohort once (see `mentorflow.cohorts.launch_cohort`).

    Raises:
        LimitExceeded: The spec is too large for a Temporal payload.
        ServiceUnavailable: Temporal did not answer.
    """
    try:
        return await launch_cohort(client, spec, task_queue)
    except RPCError as error:
        if _too_large(error):
            raise LimitExceeded(
                f"the cohort spec is too large for a Temporal payload ({TEMPORAL_PAYLOAD_LIMIT})",
                ["participants: send fewer participants, or shorter lists per participant"],
            ) from error
        raise _unavailable(error) from error
    except (RPCTimeoutOrCancelledError, WorkflowUpdateFailedError) as error:
        raise _unavailable(error) from error
