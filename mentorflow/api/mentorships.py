"""A relationship: read it, and the participants' work in it (conversations, goals, …).

Every change is a workflow update (`changes.change`): 201/200 with what was recorded, or 422
with every reason the relationship's rules give, and then nothing was recorded.
"""

from __future__ import annotations

from fastapi import APIRouter

from mentorflow.api.access import Side, ensure_can_read
from mentorflow.api.auth import Caller
from mentorflow.api.changes import relationship_of, resolve
from mentorflow.api.context import Services
from mentorflow.api.errors import (
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    Forbidden,
    NotFound,
    ServiceUnavailable,
)
from mentorflow.api.models.identifiers import (
    CycleIdPath,
    MentorshipIdPath,
)
from mentorflow.api.models.mentorship_views import (
    MentorshipView,
    PrivateNotesView,
    PrivateNoteView,
    ReviewSummaryView,
)
from mentorflow.api.read_models import mentorship_overview
from mentorflow.api.temporal import mentorship_snapshot, private_notes
from mentorflow.api.tokens import PARTICIPANT_ROLES, Role

router = APIRouter(
    prefix="/mentorships/{mentorship_id}",
    tags=["mentorships"],
    responses={**ERROR_RESPONSES, **NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)
MENTOR_ONLY: frozenset[Side] = frozenset({"mentor"})
MENTEE_ONLY: frozenset[Side] = frozenset({"mentee"})


@router.get("", summary="A relationship: read model and live stage")
async def get_mentorship(
    mentorship_id: MentorshipIdPath, services: Services, caller: Caller
) -> MentorshipView:
    """Its figures from the read model, and its stage live from the workflow.

    When the workflow does not answer in time the stage is the projected one
    (``stage_source: read_model``); before the first events are projected there are no
    figures (``overview: null``).
    """
    projected = await mentorship_overview(services.pool, mentorship_id)
    if projected is not None:
        ensure_can_read(caller, projected[0])
    try:
        snapshot = await mentorship_snapshot(
            services.client, mentorship_id, timeout=services.limits.query_timeout_seconds
        )
    except (NotFound, ServiceUnavailable):
        if projected is None:
            raise
        relationship, overview = projected
        return MentorshipView(
            mentorship_id=mentorship_id,
            cohort_id=relationship.cohort_id,
            mentor_id=relationship.mentor_id,
            mentee_id=relationship.mentee_id,
            stage=overview.stage,
            stage_source="read_model",
            details=None,
            overview=overview,
        )
    relationship = relationship_of(mentorship_id, snapshot)
    ensure_can_read(caller, relationship)
    return MentorshipView(
        mentorship_id=mentorship_id,
        cohort_id=relationship.cohort_id,
        mentor_id=relationship.mentor_id,
        mentee_id=relationship.mentee_id,
        stage=snapshot.stage.value,
        stage_source="workflow",
        details=snapshot.details,
        overview=None if projected is None else projected[1],
    )


@router.get("/private-notes", summary="My own private notes in this relationship")
async def get_private_notes(
    mentorship_id: MentorshipIdPath, services: Services, caller: Caller
) -> PrivateNotesView:
    """The private notes the caller wrote with the conversations they logged, by conversation.

    Nobody else reads them: not the other side, not HR, not services (403 for those roles;
    another pair's relationship is a 404). Notes of conversations logged before authors were
    recorded (``ConversationHeld`` v1) belong to no one and are not shown.
    """
    relationship = await resolve(services, mentorship_id)
    ensure_can_read(caller, relationship)
    if caller.role not in PARTICIPANT_ROLES or caller.person_id is None:
        raise Forbidden("private notes are read by their author only")
    answer = await private_notes(
        services.client,
        mentorship_id,
        caller.person_id,
        timeout=services.limits.query_timeout_seconds,
    )
    return PrivateNotesView(
        mentorship_id=mentorship_id,
        notes=[
            PrivateNoteView(conversation_number=note.conversation_number, text=note.text)
            for note in answer.notes
        ],
    )


@router.get("/review-summaries/{cycle_id}", summary="Read a review summary before sharing it")
async def get_review_summary(
    mentorship_id: MentorshipIdPath, cycle_id: CycleIdPath, services: Services, caller: Caller
) -> ReviewSummaryView:
    """The summary drafted for a review cycle, as the mentee will share it (or did).

    The mentee and HR read it; the mentor and services do not (it is the mentee's until
    shared). Live from the relationship's workflow.
    """
    snapshot = await mentorship_snapshot(
        services.client, mentorship_id, timeout=services.limits.query_timeout_seconds
    )
    relationship = relationship_of(mentorship_id, snapshot)
    ensure_can_read(caller, relationship)
    if caller.role is Role.SERVICE or (
        caller.role is not Role.HR_ADMIN and caller.person_id != relationship.mentee_id
    ):
        raise Forbidden("only the mentee (and HR) read a summary before it is shared")
    review = snapshot.reviews.get(cycle_id)
    if review is None:
        raise NotFound(f"no review summary for cycle {cycle_id}")
    return ReviewSummaryView(
        mentorship_id=mentorship_id,
        cycle_id=cycle_id,
        status=review.status,
        respond_by=review.respond_by,
        summary=review.summary,
    )
