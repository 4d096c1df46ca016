"""The path every change to a relationship takes: resolve, authorize, run the update.

Who is in the relationship comes from the read model, or, before its first events are
projected, from the workflow's live state; the caller's rights follow (`access`); then the
workflow's update runs and returns what it recorded, or every reason it refused.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Header

from domain.mentorship.catalog import entry_for
from domain.mentorship.commands import Command
from mentorflow.api.access import Relationship, actor_of, ensure_can_change, no_mentorship
from mentorflow.api.context import ApiServices
from mentorflow.api.errors import NotFound
from mentorflow.api.models.mentorship_views import CommandAccepted
from mentorflow.api.read_models import find_relationship
from mentorflow.api.temporal import mentorship_snapshot, update_mentorship
from mentorflow.api.tokens import Principal
from workflows.mentorship_models import MentorshipSnapshot

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{1,100}$",
        description="Repeat a request with the same key to get its first outcome instead of "
        "a second change (while the relationship's current workflow run lasts)",
    ),
]


def relationship_of(mentorship_id: str, snapshot: MentorshipSnapshot) -> Relationship:
    """Who is in a relationship, from its workflow's live state."""
    return Relationship(
        mentorship_id,
        snapshot.terms.cohort_id,
        snapshot.mentor_id,
        snapshot.mentee_id,
    )


async def resolve(services: ApiServices, mentorship_id: str) -> Relationship:
    """Who is in the relationship.

    Raises:
        NotFound: Neither the read model nor Temporal knows it.
        ServiceUnavailable: It is not projected yet and its workflow did not answer.
    """
    relationship = await find_relationship(services.pool, mentorship_id)
    if relationship is not None:
        return relationship
    try:
        snapshot = await mentorship_snapshot(
            services.client, mentorship_id, timeout=services.limits.query_timeout_seconds
        )
    except NotFound:
        raise no_mentorship(mentorship_id) from None
    return relationship_of(mentorship_id, snapshot)


async def change(
    services: ApiServices,
    caller: Principal,
    mentorship_id: str,
    command: Command,
    *,
    idempotency_key: str | None = None,
) -> CommandAccepted:
    """Authorize and run one command, as its entry in the command table says; answer with
    what it recorded.

    Raises:
        NotFound, Forbidden, CommandRejected, Conflict, ServiceUnavailable: As the names say.
    """
    entry = entry_for(command)
    operation = entry.operation
    structlog.contextvars.bind_contextvars(workflow_id=mentorship_id, operation=operation)
    relationship = await resolve(services, mentorship_id)
    ensure_can_change(
        caller,
        relationship,
        sides=entry.sides,
        hr_admin=entry.hr,
        acting_for=None if entry.acting_for is None else getattr(command, entry.acting_for),
    )
    result = await update_mentorship(
        services.client,
        mentorship_id,
        command.model_copy(update={"actor": actor_of(caller, relationship)}),
        timeout=services.limits.update_timeout_seconds,
        # Scoped to the caller: another token reusing the key gets its own change.
        update_id=None
        if idempotency_key is None
        else f"{operation}:{caller.token_id or caller.role.value}:{idempotency_key}",
    )
    return CommandAccepted(
        mentorship_id=mentorship_id,
        stream_version=result.stream_version,
        recorded=result.recorded,
        created_ids=result.created_ids,
        conversation_number=result.conversation_number,
    )
