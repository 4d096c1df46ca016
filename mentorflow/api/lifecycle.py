"""A relationship's lifecycle: pause, resume, close, rematch (participants or HR)."""

from __future__ import annotations

from fastapi import APIRouter

from domain.mentorship import commands as c
from mentorflow.api.auth import Caller
from mentorflow.api.changes import change
from mentorflow.api.context import Services
from mentorflow.api.errors import CONFLICT_RESPONSE, ERROR_RESPONSES, NOT_FOUND_RESPONSE
from mentorflow.api.models.identifiers import MentorshipIdPath
from mentorflow.api.models.mentorship_requests import CloseRequest, PauseRequest, RematchRequest
from mentorflow.api.models.mentorship_views import CommandAccepted
from workflows.mentorship import MentorshipWorkflow

router = APIRouter(
    prefix="/mentorships/{mentorship_id}",
    tags=["mentorships"],
    responses={**ERROR_RESPONSES, **NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)


@router.post("/pause", summary="Put the relationship on hold")
async def pause(
    mentorship_id: MentorshipIdPath, body: PauseRequest, services: Services, caller: Caller
) -> CommandAccepted:
    """Reminders, due dates and escalations stop until it resumes."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.pause,
        c.PauseMentorship(reason=body.reason),
        operation="pause",
    )


@router.post("/resume", summary="Continue after a pause")
async def resume(
    mentorship_id: MentorshipIdPath, services: Services, caller: Caller
) -> CommandAccepted:
    """Deadlines move on by the pause; the next conversation is due one cadence from now."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.resume,
        c.ResumeMentorship(),
        operation="resume",
    )


@router.post("/close", summary="End the relationship")
async def close(
    mentorship_id: MentorshipIdPath, body: CloseRequest, services: Services, caller: Caller
) -> CommandAccepted:
    """Closing starts: surveys (``/feedback``) are open, then it is closed."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.close,
        c.CloseMentorship(reason=body.reason),
        operation="close",
    )


@router.post("/rematch", summary="End the relationship and match the mentee again")
async def rematch(
    mentorship_id: MentorshipIdPath, body: RematchRequest, services: Services, caller: Caller
) -> CommandAccepted:
    """The cohort matches the mentee with another mentor (never a previous one) and starts a
    new relationship (``…-r1``) carrying over open goals and action items."""
    return await change(
        services,
        caller,
        mentorship_id,
        MentorshipWorkflow.request_rematch,
        c.RequestRematch(reason=body.reason),
        operation="rematch",
    )
