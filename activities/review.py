"""Drafting review summaries from the event store, the source of truth."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict
from temporalio import activity

from domain.mentorship.review import draft_review_summary
from domain.mentorship.state import MentorshipState, replay
from domain.mentorship.terms import ProgramTerms
from events import CATALOG
from events.mentorship import ReviewSummary
from eventstore import EventStore


class DraftReviewSummaryInput(BaseModel):
    """Which relationship, up to which version, as of when."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    mentor_id: str
    mentee_id: str
    terms: ProgramTerms
    up_to_version: int
    as_of: AwareDatetime


class ReviewActivities:
    """Review-cycle activities, built once per worker with the store injected."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn
    async def draft_review_summary(self, request: DraftReviewSummaryInput) -> ReviewSummary:
        """Replay the relationship's stream and draft its career-development summary."""
        envelopes = await self._store.read_stream(request.stream_id, limit=request.up_to_version)
        state = replay(
            MentorshipState(
                stream_id=request.stream_id,
                mentor_id=request.mentor_id,
                mentee_id=request.mentee_id,
                terms=request.terms,
            ),
            (CATALOG.decode(envelope).event for envelope in envelopes),
        )
        as_of: datetime = request.as_of
        return draft_review_summary(state, as_of)
