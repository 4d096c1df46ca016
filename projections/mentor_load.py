"""Mentor load: which relationships occupy each mentor, summed per mentor when read.

Each relationship carries its mentor's capacity in the cohort (``MentorshipMatched`` v2);
relationships recorded before that (v1) leave it unknown, and the reader takes the largest
capacity it knows per mentor and cohort (None when no relationship knows it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.mentorship.lifecycle import OCCUPYING_STAGES
from events import DomainEvent
from projections.base import SingleStateProjection
from projections.dispatch import StateCodec
from projections.relationship import Relationship
from projections.tables import Rows, Table

PAIRS = Table(
    "mentor_load_pairs",
    ("stream_id", "cohort_id", "mentor_id", "mentee_id", "stage", "active", "mentor_capacity"),
)


@dataclass(slots=True)
class LoadState:
    """The mentor and stage of one relationship."""

    relationship: Relationship = field(default_factory=Relationship)


_CODEC = StateCodec(LoadState)


class MentorLoad(SingleStateProjection[LoadState]):
    """Active mentees per mentor."""

    name = "mentor_load"
    description = "Per relationship: its mentor and whether it occupies them."
    stream_types = frozenset({"mentorship"})
    tables = (PAIRS,)

    def __init__(self) -> None:
        super().__init__(LoadState, _CODEC)

    def apply(self, state: LoadState, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold one event."""
        state.relationship.follow(event, occurred_at)

    def rows(self, stream_id: str, state: LoadState) -> Rows:
        """The relationship's row."""
        relationship = state.relationship
        if not relationship.known:
            return {PAIRS.name: []}
        row = (
            stream_id,
            relationship.cohort_id,
            relationship.mentor_id,
            relationship.mentee_id,
            relationship.stage,
            relationship.stage in OCCUPYING_STAGES,
            relationship.mentor_capacity,
        )
        return {PAIRS.name: [row]}
