"""Launching cohorts: the one path the CLI, the HTTP API and the bus command share."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.cohort_spec import CohortSpec
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import CohortWorkflowInput, CohortWorkflowResult, MatchingOutcome
from workflows.ids import cohort_workflow_id


class LaunchResult(BaseModel):
    """The launch answer: the cohort, whether this call launched it, and the matching."""

    cohort_id: str
    workflow_id: str
    already_launched: bool
    outcome: MatchingOutcome


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
    outcome: MatchingOutcome | None
    try:
        outcome = await handle.execute_update(CohortWorkflow.matching_outcome)
    except RPCError:
        # A cohort that already closed takes no updates, but still answers queries.
        outcome = await handle.query(CohortWorkflow.matching)
        if outcome is None:
            raise
    return LaunchResult(
        cohort_id=spec.cohort_id,
        workflow_id=workflow_id,
        already_launched=already_launched,
        outcome=outcome,
    )
