"""A launch waits out a cohort workflow whose task failed and is being retried by Temporal."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.any_pb2 import Any as AnyDetail
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.service import RPCError, RPCStatusCode

from mentorflow import cohorts
from workflows.cohort_models import MatchingOutcome

MESSAGE = "Unable to perform workflow execution update due to Workflow Task in failed state."


def not_ready() -> RPCError:
    detail = AnyDetail()
    detail.Pack(WorkflowNotReadyFailure())
    status = GrpcStatus(code=9, message=MESSAGE, details=[detail])
    return RPCError(MESSAGE, RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


def other_precondition() -> RPCError:
    status = GrpcStatus(code=9, message="something else")
    return RPCError("something else", RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


class Handle:
    """A workflow handle whose update and query fail with ``errors`` first."""

    def __init__(self, errors: list[RPCError], outcome: MatchingOutcome) -> None:
        self.errors = errors
        self.outcome = outcome
        self.calls = 0

    async def execute_update(self, _update: Any) -> MatchingOutcome:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.outcome

    async def query(self, _query: Any) -> MatchingOutcome:
        if self.errors:
            raise self.errors.pop(0)
        return self.outcome


OUTCOME = MatchingOutcome(
    cohort_id="c-1", pairs=[], unmatched=[], total_score=0.0, awaiting_approval=True
)


def test_only_a_workflow_not_ready_failure_counts_as_not_ready() -> None:
    assert cohorts._workflow_not_ready(not_ready())
    assert not cohorts._workflow_not_ready(other_precondition())


async def test_the_matching_is_awaited_through_failed_workflow_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cohorts, "_pause", _no_wait)
    handle = Handle([not_ready(), not_ready(), not_ready(), not_ready()], OUTCOME)

    assert await cohorts._matching_outcome(handle) == OUTCOME  # type: ignore[arg-type]
    assert handle.calls == 3


async def test_another_error_surfaces_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cohorts, "_pause", _no_wait)
    handle = Handle([other_precondition(), other_precondition()], OUTCOME)

    with pytest.raises(RPCError, match="something else"):
        await cohorts._matching_outcome(handle)  # type: ignore[arg-type]
    assert handle.calls == 1


async def test_a_task_that_keeps_failing_surfaces_after_the_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cohorts, "_pause", _no_wait)
    monkeypatch.setattr(cohorts, "NOT_READY_PATIENCE_SECONDS", 0.0)
    handle = Handle([not_ready()] * 10, OUTCOME)

    with pytest.raises(RPCError):
        await cohorts._matching_outcome(handle)  # type: ignore[arg-type]
    assert handle.calls == 1


async def _no_wait(_seconds: float) -> None:
    return None
