"""``GET /people/{person_id}/development-plan`` and ``POST /people/{person_id}/forget``."""

from __future__ import annotations

from fastapi import APIRouter

from mentorflow.api.access import Relationship, can_read
from mentorflow.api.auth import Caller, HrAdmin
from mentorflow.api.context import Services
from mentorflow.api.errors import ERROR_RESPONSES, NOT_FOUND_RESPONSE, Forbidden, NotFound
from mentorflow.api.models.identifiers import PersonIdPath
from mentorflow.api.models.people import DevelopmentPlan
from mentorflow.api.read_models import development_plan
from mentorflow.people import ForgetOutcome, forget_person

router = APIRouter(tags=["people"], responses=ERROR_RESPONSES)


@router.get(
    "/people/{person_id}/development-plan",
    summary="A mentee's development plan",
    responses=NOT_FOUND_RESPONSE,
)
async def get_development_plan(
    person_id: PersonIdPath, services: Services, caller: Caller
) -> DevelopmentPlan:
    """Goals, skills, challenges, action items and conversation feedback, per relationship.

    The mentee sees their whole plan; a mentor sees the parts of the relationships they
    mentor; HR and services see everything. 404 when the person has no plan as a mentee,
    403 when they have one but none of it is the caller's.
    """
    parts = await development_plan(services.pool, person_id)
    if not parts:
        raise NotFound(f"{person_id} has no development plan")
    visible = [
        part
        for part in parts
        if can_read(
            caller, Relationship(part.mentorship_id, part.cohort_id, part.mentor_id, person_id)
        )
    ]
    if not visible:
        raise Forbidden(f"the development plan of {person_id} is not yours to see")
    # Read models hold personal values sealed; open them for this answer only. A forgotten
    # person's values read as "[erased]".
    opened = await services.vault.open(
        DevelopmentPlan(person_id=person_id, relationships=visible).model_dump(mode="json")
    )
    return DevelopmentPlan.model_validate(opened)


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
    return await forget_person(
        services.pool, services.vault, person_id, requested_by=caller.role.value
    )
