"""Launching cohorts: the one path the CLI, the HTTP API and the bus command share."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import structlog
from pydantic import BaseModel, Field
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.cohort_spec import CohortSpec
from events.cohort import Pair, ScoreBreakdown, SolverReport, Unmatched
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import CohortWorkflowInput, CohortWorkflowResult, MatchingOutcome
from workflows.ids import cohort_workflow_id

log = structlog.get_logger(__name__)


class LaunchResult(BaseModel):
    """The launch answer: the cohort, whether this call launched it, and the matching."""

    cohort_id: str
    workflow_id: str
    already_launched: bool
    outcome: MatchingOutcome


class CohortNotFound(LookupError):
    """No cohort workflow has this id."""

    def __init__(self, cohort_id: str) -> None:
        super().__init__(f"no cohort {cohort_id!r}")
        self.cohort_id = cohort_id


class MatchingNotDone(RuntimeError):
    """The cohort's matching is still running."""

    def __init__(self, cohort_id: str) -> None:
        super().__init__(f"the matching of cohort {cohort_id!r} is not done yet; try again soon")
        self.cohort_id = cohort_id


class MatchingPair(BaseModel):
    """A pair of the matching, with its score, the parts of that score and the reasons."""

    mentor_id: str
    mentee_id: str
    score: float = Field(ge=0, le=1, description="Compatibility, 0..1 (0 for HR's choices)")
    reasons: list[str] = Field(description="Top reasons in plain words, strongest first")
    breakdown: ScoreBreakdown | None = Field(
        description="The parts of the score as the matching engine weighed them; null for "
        "HR's choices and for matchings recorded before breakdowns were kept"
    )
    chosen_by_hr: bool = Field(description="HR's override of the engine's proposal")


class CohortMatching(BaseModel):
    """A cohort's matching: the draft awaiting HR's approval, or the final one."""

    cohort_id: str
    status: Literal["draft", "final"] = Field(
        description="draft while awaiting HR's approval; final once approved, or at once when "
        "the program needs no approval"
    )
    awaiting_approval: bool
    pairs: list[MatchingPair] = Field(
        description="The pairs, by mentee id: the engine's proposal while a draft, the "
        "approved pairs (HR's overrides included) once final"
    )
    unmatched: list[Unmatched] = Field(
        description="Mentees the matching leaves without a mentor, each with the reason"
    )
    total_score: float = Field(ge=0, description="Total score of the engine's proposal")
    solver: SolverReport | None = Field(
        description="How the engine found its optimum; null for matchings recorded before "
        "reports were kept"
    )

    @classmethod
    def of(cls, outcome: MatchingOutcome) -> CohortMatching:
        """The matching as the cohort workflow's ``matching`` query answers it."""
        proposed = {pair.mentee_id: pair for pair in outcome.pairs}
        final = outcome.approved_pairs
        pairs = sorted(outcome.pairs if final is None else final, key=lambda p: p.mentee_id)
        matched = {pair.mentee_id for pair in pairs}
        return cls(
            cohort_id=outcome.cohort_id,
            status="draft" if outcome.awaiting_approval else "final",
            awaiting_approval=outcome.awaiting_approval,
            pairs=[_matching_pair(pair, proposed, outcome.breakdowns) for pair in pairs],
            unmatched=[u for u in outcome.unmatched if u.mentee_id not in matched],
            total_score=outcome.total_score,
            solver=outcome.solver,
        )


def _matching_pair(
    pair: Pair, proposed: dict[str, Pair], breakdowns: dict[str, ScoreBreakdown]
) -> MatchingPair:
    """A pair with its breakdown; one that is not the engine's proposal is HR's choice."""
    by_hr = proposed.get(pair.mentee_id) != pair
    return MatchingPair(
        mentor_id=pair.mentor_id,
        mentee_id=pair.mentee_id,
        score=pair.score,
        reasons=list(pair.reasons),
        breakdown=None if by_hr else breakdowns.get(pair.mentee_id),
        chosen_by_hr=by_hr,
    )


async def read_matching(client: Client, cohort_id: str) -> CohortMatching:
    """The cohort's matching, from its workflow's ``matching`` query (also once it closed).

    Raises:
        CohortNotFound: No cohort workflow has this id.
        MatchingNotDone: The matching is still running.
    """
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    try:
        outcome = await handle.query(CohortWorkflow.matching)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise CohortNotFound(cohort_id) from error
        raise
    if outcome is None:
        raise MatchingNotDone(cohort_id)
    return CohortMatching.of(outcome)


async def launch_cohort(
    client: Client, spec: CohortSpec, task_queue: str, *, batch_size: int | None = None
) -> LaunchResult:
    """Start the cohort's workflow once, then wait for its matching outcome.

    Launching the same cohort id again, even concurrently or after it closed, starts nothing
    (the workflow id may never be reused) and answers with the existing cohort's matching.
    """
    workflow_id = cohort_workflow_id(spec.cohort_id)
    request = (
        CohortWorkflowInput(spec=spec)
        if batch_size is None
        else CohortWorkflowInput(spec=spec, batch_size=batch_size)
    )
    handle: WorkflowHandle[CohortWorkflow, CohortWorkflowResult]
    try:
        handle = await client.start_workflow(
            CohortWorkflow.run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"cohort {spec.cohort_id}: {spec.program.name}",
        )
        already_launched = False
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle_for(CohortWorkflow.run, workflow_id)
        already_launched = True
    outcome = await _matching_outcome(handle)
    return LaunchResult(
        cohort_id=spec.cohort_id,
        workflow_id=workflow_id,
        already_launched=already_launched,
        outcome=outcome,
    )


NOT_READY_PATIENCE_SECONDS = 60.0
"""How long a launch waits for a cohort workflow whose task failed to run again."""


async def _matching_outcome(
    handle: WorkflowHandle[CohortWorkflow, CohortWorkflowResult],
) -> MatchingOutcome:
    """The cohort's matching, waited for.

    A workflow task that failed answers no update or query until Temporal's retry of it
    succeeds (``WorkflowNotReadyFailure``): a large cohort's first task can outlast the
    SDK's deadlock timeout on a loaded worker and is simply run again. That is waited out
    with backoff, within `NOT_READY_PATIENCE_SECONDS`; a task that keeps failing surfaces.
    """
    deadline = time.monotonic() + NOT_READY_PATIENCE_SECONDS
    delay = 0.25
    while True:
        try:
            try:
                return await handle.execute_update(CohortWorkflow.matching_outcome)
            except RPCError:
                # A cohort that already closed takes no updates, but still answers queries.
                outcome = await handle.query(CohortWorkflow.matching)
                if outcome is None:
                    raise
                return outcome
        except RPCError as error:
            if not _workflow_not_ready(error) or time.monotonic() + delay > deadline:
                raise
            log.warning("cohort workflow task failed; waiting for its retry", delay=delay)
            await _pause(delay)
            delay = min(delay * 2, 4.0)


_pause = asyncio.sleep  # tests make the backoff instant


def _workflow_not_ready(error: RPCError) -> bool:
    """Whether Temporal refused because the workflow's task is in a failed state."""
    return error.status is RPCStatusCode.FAILED_PRECONDITION and any(
        detail.type_url.endswith("WorkflowNotReadyFailure") for detail in error.grpc_status.details
    )
