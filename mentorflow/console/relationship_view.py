"""What a relationship page shows, read live from the relationship's workflow.

Everything here comes from the typed snapshot (``GET /mentorships/{id}`` reads the same),
filtered by who looks: the review summaries are the mentee's (and HR's) until shared, as
``GET /mentorships/{id}/review-summaries/{cycle_id}`` decides; a closing-survey answer is
shown to its author only; private notes are not in the snapshot at all: the author's own come
from ``GET /mentorships/{id}/private-notes`` (`mentorships.get_private_notes`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response

from domain.mentorship.catalog import BY_UPDATE
from mentorflow.api.access import Relationship, ensure_can_read
from mentorflow.api.changes import resolve
from mentorflow.api.context import ApiServices
from mentorflow.api.errors import NotFound
from mentorflow.api.mentorships import get_private_notes
from mentorflow.api.models.identifiers import MENTORSHIP_ID_PATTERN
from mentorflow.api.read_models import mentor_load
from mentorflow.api.temporal import mentorship_snapshot
from mentorflow.console.auth import Viewer
from mentorflow.console.forms import ACTION_ITEM_ROWS, GENERAL, FieldProblems
from mentorflow.console.history import conversation_history
from mentorflow.console.ops import OpsLinks
from mentorflow.console.people import People, people_of, viewer_zone
from mentorflow.console.web import error_page, render
from projections import MentorLoadView
from workflows.mentorship_models import MentorshipSnapshot

RATINGS_BY_SIDE = {
    "mentee": ("usefulness", "listening", "clarity"),
    "mentor": ("preparation", "follow_through"),
}
"""What each side rates after a conversation (the other side's part in it)."""


@dataclass(frozen=True)
class Failed:
    """A form that came back with problems: which, what was typed, and why."""

    update: str
    problems: FieldProblems
    values: dict[str, str]


def not_found(request: Request, viewer: Viewer | None) -> Response:
    """The one answer for a relationship that does not exist or is not the viewer's."""
    return error_page(request, 404, "Not found", "There is no such relationship.", viewer)


def local_now(zone: str) -> str:
    """Now in the viewer's zone, as a ``datetime-local`` value (a form's default)."""
    return datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


async def readable(
    services: ApiServices, viewer: Viewer, mentorship_id: str
) -> tuple[Relationship, MentorshipSnapshot] | None:
    """The relationship and its live state, or None when the viewer may not see it."""
    if not re.fullmatch(MENTORSHIP_ID_PATTERN, mentorship_id):
        return None
    try:
        relationship = await resolve(services, mentorship_id)
        ensure_can_read(viewer.principal, relationship)
        snapshot = await mentorship_snapshot(
            services.client, mentorship_id, timeout=services.limits.query_timeout_seconds
        )
    except NotFound:
        return None
    return relationship, snapshot


def load_in(loads: list[MentorLoadView], cohort_id: str) -> MentorLoadView | None:
    """The mentor's load in one cohort."""
    return next((load for load in loads if load.cohort_id == cohort_id), None)


async def relationship_page(
    request: Request,
    services: ApiServices,
    viewer: Viewer,
    mentorship_id: str,
    *,
    failed: Failed | None = None,
    done: str | None = None,
) -> Response:
    """The relationship page, with a form's problems when one came back."""
    found = await readable(services, viewer, mentorship_id)
    if found is None:
        return not_found(request, viewer)
    relationship, state = found
    side = relationship.side_of(viewer.person_id)
    # Independent reads, at once: the spec's cards, the mentor's load, the author's notes.
    people, load, my_notes = await asyncio.gather(
        people_of(services, relationship),
        _load(services, relationship, side, viewer.person_id),
        _my_notes(services, relationship, side, viewer),
    )
    context = _context(viewer, relationship, state, people)
    ops = OpsLinks.of(services.settings) if viewer.is_hr else None
    context.update(
        ops_workflow=ops.workflow(mentorship_id) if ops else None,
        ops_pairs=(
            ops.relationship(relationship.cohort_id, relationship.mentor_id, relationship.mentee_id)
            if ops
            else None
        ),
        load=load,
        my_notes=my_notes,
        failed=failed,
        done=BY_UPDATE[done].summary if done in BY_UPDATE else None,
    )
    return render(request, "relationship.html", context, status_code=422 if failed else 200)


async def _load(
    services: ApiServices, relationship: Relationship, side: str | None, person_id: str | None
) -> MentorLoadView | None:
    if side != "mentor" or person_id is None:
        return None
    return load_in(await mentor_load(services.pool, person_id), relationship.cohort_id)


async def _my_notes(
    services: ApiServices, relationship: Relationship, side: str | None, viewer: Viewer
) -> dict[int, str]:
    """The viewer's own private notes by conversation, through the API's route (HR, who
    reads nobody's, is not asked)."""
    if side is None:
        return {}
    notes = await get_private_notes(relationship.mentorship_id, services, viewer.principal)
    return {note.conversation_number: note.text for note in notes.notes}


def _context(
    viewer: Viewer, relationship: Relationship, state: MentorshipSnapshot, people: People
) -> dict[str, Any]:
    side = relationship.side_of(viewer.person_id)
    zone = viewer_zone(viewer, people)
    history = conversation_history(state)
    me = viewer.person_id or ""
    sees_reviews = viewer.is_hr or side == "mentee"
    now = datetime.now(UTC)
    return {
        "viewer": viewer,
        "relationship": relationship,
        "people": people,
        "state": state,
        "side": side,
        "other": relationship.mentee_id if side == "mentor" else relationship.mentor_id,
        "zone": zone,
        "now_local": local_now(zone),
        "my_training_done": set(state.training_completed.get(me, [])),
        "missing": state.missing_for_onboarding() if state.stage.value == "onboarding" else [],
        "goals": sorted(state.goals.values(), key=lambda goal: goal.goal_id),
        "active_goals": [goal for goal in state.goals.values() if goal.status == "active"],
        "action_items": sorted(
            state.action_items.values(), key=lambda item: (item.status, item.due_at)
        ),
        "overdue": set(state.overdue_action_items),
        "history": history,
        "feedback_open": {
            entry.number
            for entry in history
            if entry.held and side and f"{entry.number}:{side}" not in state.feedback_given
        },
        "ratings": RATINGS_BY_SIDE.get(side or "", ()),
        "challenges": sorted(state.challenges.values(), key=lambda item: item.challenge_id),
        "reviews": (
            sorted(state.reviews.values(), key=lambda review: review.respond_by, reverse=True)
            if sees_reviews
            else []
        ),
        "survey_open": (
            state.stage.value == "closing"
            and side is not None
            and me not in state.surveys
            and (state.survey_closes_at is None or state.survey_closes_at > now)
        ),
        "my_survey": state.surveys.get(me),
        "rows": range(ACTION_ITEM_ROWS),
        "general": GENERAL,
    }
