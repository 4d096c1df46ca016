"""The upcasters of stored events: each brings one event type up from one version.

Register one here for every version bump (see `events.upcasting`); the catalog applies them
in a chain on read, so a stored event is never rewritten.
"""

from __future__ import annotations

from typing import Any

from events.upcasting import UpcasterChain

UPCASTERS = UpcasterChain()


@UPCASTERS.register("MentorshipMatched", 1)
def _mentorship_matched_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v2 added the mentor's capacity; v1 events did not know it."""
    return {**data, "mentor_capacity": None}


@UPCASTERS.register("MatchingCompleted", 1)
def _matching_completed_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v2 kept each pair's score breakdown and the solver's report; v1 events dropped them."""
    return {**data, "breakdowns": {}, "solver": None}


@UPCASTERS.register("ConversationHeld", 1)
def _conversation_held_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v2 records who logged the conversation (the author of its private notes)."""
    return {**data, "logged_by": None}


@UPCASTERS.register("ProfileUpdated", 1)
def _profile_updated_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v2 added the source ``self`` (the person edited their own fields); every v1 source is
    still a v2 source, so the data stays as it is."""
    return dict(data)
