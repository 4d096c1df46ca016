"""A relationship: read it, and the participants' work in it (conversations, goals, …).

Every change is a workflow update (`changes.change`): 201/200 with what was recorded, or 422
with every reason the relationship's rules give, and then nothing was recorded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from domain.mentorship import commands as c
from mentorflow.api.access import Side, ensure_can_read
from mentorflow.api.auth import Caller, HrAdmin
from mentorflow.api.changes import IdempotencyKey, change, relationship_of
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
    ChallengeIdPath,
    CycleIdPath,
    GoalIdPath,
    ItemIdPath,
    MentorshipIdPath,
)
from mentorflow.api.models.mentorship_requests import (
    ChallengeProgressRequest,
    ChallengeRequest,
    ConversationFeedbackRequest,
    ConversationRequest,
    DropGoalRequest,
    ExtendDeadlineRequest,
    FeedbackRequest,
    GoalRequest,
    RescheduleRequest,
    ReviewApprovalRequest,
    ReviseGoalRequest,
    TrainingRequest,
)
from mentorflow.api.models.mentorship_views import (
    ChallengeSet,
    CommandAccepted,
    ConversationLogged,
    GoalAdded,
    MentorshipView,
    ReviewSummaryView,
)
from mentorflow.api.read_models import mentorship_overview
from mentorflow.api.temporal import mentorship_snapshot
from mentorflow.api.tokens import Role
from workflows.mentorship import MentorshipWorkflow

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
        stage=snapshot["stage"],
        stage_source="workflow",
        details=snapshot.get("details"),
        overview=None if projected is None else projected[1],
    )


@router.post("/conversations", status_code=201, summary="Log a career conversation")
async def log_conversation(
    mentorship_id: MentorshipIdPath,
    body: ConversationRequest,
    services: Services,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> ConversationLogged:
    """Record a conversation and its action plan.

    It must discuss at least one of the mentee's goals and conclude with at least one action
    item due after it; otherwise 422 with every reason. ``notes`` stay private.
    """
    accepted = await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.log_conversation,
        c.LogConversation.model_validate(body.model_dump()),
        operation="conversations",
        idempotency_key=idempotency_key,
    )
    return ConversationLogged(**accepted.model_dump(), action_item_ids=accepted.created_ids)


@router.post("/goals", status_code=201, summary="Add a career goal")
async def add_goal(
    mentorship_id: MentorshipIdPath,
    body: GoalRequest,
    services: Services,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> GoalAdded:
    """Record a short- or long-term goal of the mentee; answers with its ``goal_id``."""
    accepted = await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.add_goal,
        c.AddGoal.model_validate(body.model_dump()),
        operation="goals",
        idempotency_key=idempotency_key,
        sides=MENTEE_ONLY,
    )
    return GoalAdded(**accepted.model_dump(), goal_id=accepted.created_ids[0])


@router.post("/goals/{goal_id}/achieve", summary="Mark a goal as reached")
async def achieve_goal(
    mentorship_id: MentorshipIdPath, goal_id: GoalIdPath, services: Services, caller: Caller
) -> CommandAccepted:
    """The goal was reached (the mentee's call, or HR's for them)."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.achieve_goal,
        c.AchieveGoal(goal_id=goal_id),
        operation="achieve-goal",
        sides=MENTEE_ONLY,
    )


@router.post("/goals/{goal_id}/revise", summary="Revise a goal")
async def revise_goal(
    mentorship_id: MentorshipIdPath,
    goal_id: GoalIdPath,
    body: ReviseGoalRequest,
    services: Services,
    caller: Caller,
) -> CommandAccepted:
    """New wording, target date or progress (the mentee's, or HR's for them)."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.revise_goal,
        c.ReviseGoal(goal_id=goal_id, **body.model_dump()),
        operation="revise-goal",
        sides=MENTEE_ONLY,
    )


@router.post("/goals/{goal_id}/drop", summary="Drop a goal")
async def drop_goal(
    mentorship_id: MentorshipIdPath,
    goal_id: GoalIdPath,
    body: DropGoalRequest,
    services: Services,
    caller: Caller,
) -> CommandAccepted:
    """The mentee abandons a goal."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.drop_goal,
        c.DropGoal(goal_id=goal_id, reason=body.reason),
        operation="drop-goal",
        sides=MENTEE_ONLY,
    )


@router.post(
    "/conversations/{conversation_no}/feedback",
    status_code=201,
    summary="Give your own feedback on a conversation",
)
async def give_conversation_feedback(
    mentorship_id: MentorshipIdPath,
    conversation_no: Annotated[int, Path(ge=1, le=10_000, description="Conversation number")],
    body: ConversationFeedbackRequest,
    services: Services,
    caller: Caller,
) -> CommandAccepted:
    """The caller's feedback to the other side, with ratings 1..5, within one cadence.

    The mentee rates the mentor's usefulness, listening and clarity; the mentor rates the
    mentee's preparation and follow-through. Participants only: HR cannot give it for them.
    """
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.give_feedback,
        c.GiveFeedback(conversation_number=conversation_no, **body.model_dump()),
        operation="conversation-feedback",
        hr_admin=False,
    )


@router.post("/training", summary="Record a completed training module")
async def complete_training(
    mentorship_id: MentorshipIdPath, body: TrainingRequest, services: Services, caller: Caller
) -> CommandAccepted:
    """A participant completed one of the program's modules (their own; HR for anyone)."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.complete_training,
        c.CompleteTraining(person_id=body.person_id, module=body.module),
        operation="training",
        acting_for=body.person_id,
    )


@router.post("/feedback", summary="Give feedback on the relationship (closing survey)")
async def give_feedback(
    mentorship_id: MentorshipIdPath, body: FeedbackRequest, services: Services, caller: Caller
) -> CommandAccepted:
    """A participant's feedback on the relationship, recorded as their closing survey.

    Open while the relationship is closing (after ``/close`` or ``/rematch``, or at the
    program's end, for half a cadence); once both answered it closes. Feedback between the
    two of them belongs in a conversation (``feedback_to_mentee``, ``feedback_to_mentor``).
    """
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.submit_survey,
        c.SubmitSurvey.model_validate(body.model_dump()),
        operation="feedback",
        acting_for=body.person_id,
    )


@router.post("/challenges", status_code=201, summary="Set a skill-development challenge")
async def set_challenge(
    mentorship_id: MentorshipIdPath,
    body: ChallengeRequest,
    services: Services,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> ChallengeSet:
    """The mentor (or HR) sets a challenge; answers with its ``challenge_id``."""
    accepted = await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.set_challenge,
        c.SetChallenge.model_validate(body.model_dump()),
        operation="challenges",
        idempotency_key=idempotency_key,
        sides=MENTOR_ONLY,
    )
    return ChallengeSet(**accepted.model_dump(), challenge_id=accepted.created_ids[0])


@router.post("/challenges/{challenge_id}/progress", summary="Record progress on a challenge")
async def record_challenge_progress(
    mentorship_id: MentorshipIdPath,
    challenge_id: ChallengeIdPath,
    body: ChallengeProgressRequest,
    services: Services,
    caller: Caller,
) -> CommandAccepted:
    """Progress in percent, with an optional note."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.record_challenge_progress,
        c.RecordChallengeProgress(
            challenge_id=challenge_id, progress=body.progress, note=body.note
        ),
        operation="challenge-progress",
    )


@router.post("/action-items/{item_id}/complete", summary="Complete an action item")
async def complete_action_item(
    mentorship_id: MentorshipIdPath, item_id: ItemIdPath, services: Services, caller: Caller
) -> CommandAccepted:
    """The action item is done (its owner's call, or HR's for them)."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.complete_action_item,
        c.CompleteActionItem(item_id=item_id),
        operation="complete-action-item",
    )


@router.post("/action-items/{item_id}/reschedule", summary="Reschedule an action item")
async def reschedule_action_item(
    mentorship_id: MentorshipIdPath,
    item_id: ItemIdPath,
    body: RescheduleRequest,
    services: Services,
    caller: Caller,
) -> CommandAccepted:
    """A new due date, set by the item's owner (or HR for them)."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.reschedule_action_item,
        c.RescheduleActionItem(item_id=item_id, due_at=body.due_at, reason=body.reason),
        operation="reschedule-action-item",
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
    review = snapshot.get("reviews", {}).get(cycle_id)
    if review is None:
        raise NotFound(f"no review summary for cycle {cycle_id}")
    return ReviewSummaryView(
        mentorship_id=mentorship_id,
        cycle_id=cycle_id,
        status=review["status"],
        respond_by=review["respond_by"],
        summary=review["summary"],
    )


@router.post("/extend-deadline", summary="Move a deadline (HR)")
async def extend_deadline(
    mentorship_id: MentorshipIdPath,
    body: ExtendDeadlineRequest,
    services: Services,
    caller: HrAdmin,
) -> CommandAccepted:
    """HR moves the onboarding deadline or the next conversation's due date, with a reason."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.extend_deadline,
        c.ExtendDeadline(**body.model_dump()),
        operation="extend-deadline",
    )


@router.post("/review-summaries/{cycle_id}/approve", summary="Share a review summary")
async def approve_review_summary(
    mentorship_id: MentorshipIdPath,
    cycle_id: CycleIdPath,
    body: ReviewApprovalRequest,
    services: Services,
    caller: Caller,
) -> CommandAccepted:
    """The mentee shares the drafted summary, possibly in their own words (their consent:
    nobody else can do it)."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.approve_review_summary,
        c.ApproveReviewSummary(cycle_id=cycle_id, edited_text=body.edited_text),
        operation="approve-review",
        sides=MENTEE_ONLY,
        hr_admin=False,
    )
