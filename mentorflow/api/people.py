"""``GET /people/{person_id}/development-plan`` and ``POST /people/{person_id}/forget``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mentorflow.api.access import Relationship, can_read
from mentorflow.api.auth import Caller, HrAdmin
from mentorflow.api.context import Services
from mentorflow.api.errors import ERROR_RESPONSES, NOT_FOUND_RESPONSE, NotFound
from mentorflow.api.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from mentorflow.api.models.identifiers import MENTORSHIP_ID_PATTERN, PersonIdPath
from mentorflow.api.models.mentorship_views import PersonMentorship, PersonMentorships
from mentorflow.api.models.people import DevelopmentPlan
from mentorflow.api.personal import open_plan
from mentorflow.api.read_models import development_plan, relationships_of
from mentorflow.api.tokens import PARTICIPANT_ROLES, Role
from mentorflow.people import ForgetOutcome, forget_person

RelationshipCursor = Annotated[
    str | None,
    Query(pattern=MENTORSHIP_ID_PATTERN, description="`next_after` of the previous page"),
]
RelationshipPageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Relationships per page, ≤ {MAX_PAGE_SIZE}")
]

router = APIRouter(tags=["people"], responses=ERROR_RESPONSES)


@router.get(
    "/people/{person_id}/development-plan",
    summary="A mentee's development plan",
    responses=NOT_FOUND_RESPONSE,
)
async def get_development_plan(
    person_id: PersonIdPath,
    services: Services,
    caller: Caller,
    after: RelationshipCursor = None,
    limit: RelationshipPageSize = DEFAULT_PAGE_SIZE,
) -> DevelopmentPlan:
    """Goals, skills, challenges, action items and conversation feedback, per relationship.

    The mentee sees their whole plan; a mentor sees the parts of the relationships they
    mentor; HR and services see everything. 404 when the person has no plan as a mentee or
    none of it is the caller's (the same answer: no existence oracle). Relationships come
    oldest first, ``limit`` at a time; ``after`` is the last ``mentorship_id`` of the
    previous page.
    """
    parts = await development_plan(services.pool, person_id)
    none = NotFound(f"no development plan for {person_id}")
    if not parts:
        raise none
    visible = [
        part
        for part in parts
        if can_read(
            caller, Relationship(part.mentorship_id, part.cohort_id, part.mentor_id, person_id)
        )
    ]
    if not visible:
        raise none
    if after is not None:
        ids = [part.mentorship_id for part in visible]
        visible = visible[ids.index(after) + 1 :] if after in ids else []
    page, rest = visible[:limit], visible[limit:]
    # Read models hold personal values sealed; open them for this answer only. A forgotten
    # person's values read as "[erased]".
    return await open_plan(
        services.vault,
        DevelopmentPlan(
            person_id=person_id,
            relationships=page,
            next_after=page[-1].mentorship_id if rest else None,
        ),
    )


@router.get("/people/{person_id}/mentorships", summary="A person's own relationships")
async def get_person_mentorships(
    person_id: PersonIdPath,
    services: Services,
    caller: Caller,
    after: RelationshipCursor = None,
    limit: RelationshipPageSize = DEFAULT_PAGE_SIZE,
) -> PersonMentorships:
    """Every relationship the person mentors or is mentored in, with their side and figures.

    A participant reads only their own list; HR and services anyone's. Another participant's
    list is 404, as is a person nobody has heard of.
    """
    own = caller.person_id == person_id and caller.role in PARTICIPANT_ROLES
    if not own and caller.role not in (Role.HR_ADMIN, Role.SERVICE):
        raise NotFound(f"no relationships for {person_id}")
    rows = await relationships_of(services.pool, person_id, after=after, limit=limit + 1)
    page = rows[:limit]
    return PersonMentorships(
        person_id=person_id,
        items=[
            PersonMentorship(
                mentorship_id=relationship.mentorship_id,
                cohort_id=relationship.cohort_id,
                mentor_id=relationship.mentor_id,
                mentee_id=relationship.mentee_id,
                side="mentor" if relationship.mentor_id == person_id else "mentee",
                overview=overview,
            )
            for relationship, overview in page
        ],
        next_after=page[-1][0].mentorship_id if len(rows) > limit else None,
    )


@router.post(
    "/people/{person_id}/forget",
    summary="Forget a person (crypto-shredding; irreversible, idempotent)",
)
async def forget(person_id: PersonIdPath, services: Services, caller: HrAdmin) -> ForgetOutcome:
    """Delete the person's data key, record ``PersonForgotten``, erase their read-model values.

    Their goals, notes, feedback and comments become unreadable everywhere (event store, bus,
    read models, backups); ids, stages, dates and counts remain. A second call changes
    nothing and answers ``already_forgotten: true``.
    """
    # The audit names the token that asked (its public id), not only the role.
    requested_by = (
        f"{caller.role.value}:{caller.token_id}" if caller.token_id else caller.role.value
    )
    return await forget_person(services.pool, services.vault, person_id, requested_by=requested_by)
