"""Sending a relationship command to its workflow, from any client (API, CLI, tests, tools)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from domain.mentorship.catalog import update_name
from domain.mentorship.commands import Command
from workflows.mentorship_models import CommandResult


async def execute_command(
    handle: WorkflowHandle[Any, Any],
    command: Command,
    *,
    update_id: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> CommandResult:
    """Run ``command`` as the update the command table names for it; what it recorded.

    Raises:
        WorkflowUpdateFailedError: The rules refused it (the cause names every problem).
    """
    result: CommandResult = await handle.execute_update(
        update_name(command),
        command,
        id=update_id,
        result_type=CommandResult,
        rpc_timeout=rpc_timeout,
    )
    return result
