"""Drafting review summaries from the event store, the source of truth."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict
from temporalio import activity

from activities.errors import database_errors
from domain.mentorship.review import draft_review_summary
from domain.mentorship.state import MentorshipState, replay
from domain.mentorship.terms import ProgramTerms
from events import CATALOG
from events.mentorship import ReviewSummary
from eventstore import EventStore
from vault import PersonalDataVault


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

    def __init__(self, store: EventStore, vault: PersonalDataVault) -> None:
        self._store = store
        self._vault = vault

    @activity.defn
    async def draft_review_summary(self, request: DraftReviewSummaryInput) -> ReviewSummary:
        """Replay the relationship's stream and draft its career-development summary.

        The stream's personal values are opened with the vault first (a forgotten person's
        read as ``[erased]``); the draft goes back to the workflow inside Temporal's
        encrypted payloads and is sealed again when the workflow records it. An unreachable
        database is retried (`activities.errors.database_errors`).
        """
        with database_errors():
            stored = await self._store.read_stream(request.stream_id, limit=request.up_to_version)
            opened = await self._vault.open_events(
                stored, {"mentee": request.mentee_id, "mentor": request.mentor_id}
            )
        envelopes = [
            envelope.model_copy(update={"data": data})
            for envelope, data in zip(stored, opened, strict=True)
        ]
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
