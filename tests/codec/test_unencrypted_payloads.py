"""A client without the payload key cannot make a worker act: plain payloads are refused.

As the ``temporal`` CLI would (``temporal workflow update --input '"..."'``), a client with the
default converter sends a plain JSON update to a workflow whose worker requires encryption.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from devstack.stack import StackAddresses
from mentorflow.converter import data_converter
from mentorflow.settings import Settings


@workflow.defn(sandboxed=False)
class LedgerWorkflow:
    """Records what it is told; stands in for a relationship acting for a participant."""

    def __init__(self) -> None:
        self.entries: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.entries

    @workflow.update
    def record(self, entry: str) -> int:
        self.entries.append(entry)
        return len(self.entries)

    @workflow.signal
    def finish(self) -> None:
        self.done = True


async def test_a_plain_update_is_refused_and_the_workflow_carries_on(
    stack: StackAddresses,
) -> None:
    ring = Settings().payload_keyring()
    trusted = await Client.connect(
        stack.temporal_address, data_converter=data_converter(ring, require_encryption=True)
    )
    outsider = await Client.connect(stack.temporal_address)  # no payload key, plain JSON
    task_queue = f"plain-refused-{uuid.uuid4().hex[:8]}"
    async with Worker(
        trusted,
        task_queue=task_queue,
        workflows=[LedgerWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await trusted.start_workflow(
            # By name: a typed start of this module-local workflow sends mypy's overload
            # resolution of get_workflow_handle_for astray in other modules (fresh cache only).
            "LedgerWorkflow",
            id=f"ledger-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        assert await handle.execute_update(LedgerWorkflow.record, "first") == 1

        forged = outsider.get_workflow_handle(handle.id)
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await asyncio.wait_for(forged.execute_update("record", "forged by an outsider"), 30)

        # Its arguments did not convert: rejected, with a reason only the key holders can read.
        rejection = raised.value.cause
        assert isinstance(rejection, ApplicationError)
        assert isinstance(rejection.__cause__, ApplicationError)
        assert rejection.__cause__.type == "PayloadNotEncrypted"
        # The workflow was not wedged: a trusted client still acts, and nothing forged landed.
        assert (
            await asyncio.wait_for(handle.execute_update(LedgerWorkflow.record, "second"), 30) == 2
        )
        await handle.signal(LedgerWorkflow.finish)
        assert await handle.result(rpc_timeout=timedelta(seconds=30)) == ["first", "second"]
