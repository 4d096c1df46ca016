"""The event catalog: discriminated union, upcasting, JSON Schema export."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from pydantic import ValidationError

from events import CATALOG, DomainEvent, EventCatalog, EventEnvelope, NewEvent, UnknownEventType
from events.catalog import DOMAIN_EVENT_ADAPTER
from events.cohort import CohortLaunched, MatchingCompleted, ScoreBreakdown, SolverReport
from events.mentorship import ConversationHeld, MentorshipMatched
from events.person import ProfileUpdated
from events.schema import SCHEMA_FILE, render_event_schemas
from events.upcasting import MissingUpcaster, UpcasterChain

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _envelope(event_type: str, schema_version: int, data: dict[str, Any]) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=schema_version,
        stream_id="mentorship-c-1-p-2",
        stream_version=1,
        global_position=1,
        occurred_at=NOW,
        recorded_at=NOW,
        correlation_id="c",
        data=data,
    )


def test_a_domain_event_round_trips_through_an_envelope() -> None:
    launched = CohortLaunched(
        cohort_id="eng-2027-q1",
        program_name="Engineering Mentorship 2027",
        starts_at=NOW,
        ends_at=NOW,
        participant_count=12,
    )
    new = NewEvent.from_domain(launched, event_id=uuid.uuid4(), occurred_at=NOW, correlation_id="c")

    assert "event_type" not in new.data
    recorded = CATALOG.decode(_envelope(new.event_type, new.schema_version, new.data))
    assert recorded.event == launched


def test_the_union_discriminates_by_event_type() -> None:
    event = DOMAIN_EVENT_ADAPTER.validate_python(
        {
            "event_type": "MentorshipMatched",
            "cohort_id": "c",
            "mentor_id": "a",
            "mentee_id": "b",
            "match_score": 0.8,
        }
    )
    assert type(event).__name__ == "MentorshipMatched"
    with pytest.raises(ValidationError):
        DOMAIN_EVENT_ADAPTER.validate_python({"event_type": "NoSuchEvent"})


def test_a_version_1_mentorship_matched_reads_with_an_unknown_capacity() -> None:
    data = {"cohort_id": "c", "mentor_id": "a", "mentee_id": "b", "match_score": 0.8}

    old = CATALOG.decode(_envelope("MentorshipMatched", 1, data)).event
    new = CATALOG.decode(_envelope("MentorshipMatched", 2, {**data, "mentor_capacity": 3})).event

    assert isinstance(old, MentorshipMatched)
    assert old.mentor_capacity is None
    assert isinstance(new, MentorshipMatched)
    assert new.mentor_capacity == 3
    assert MentorshipMatched.schema_version == 2


def test_a_version_1_matching_completed_reads_without_breakdowns_and_version_2_keeps_them() -> None:
    data = {
        "pairs": [{"mentor_id": "a", "mentee_id": "b", "score": 0.8, "reasons": ["x"]}],
        "unmatched": [{"mentee_id": "c", "reason_code": "capacity_exhausted", "reason": "full"}],
        "total_score": 0.8,
    }
    explained = {
        "breakdowns": {
            "b": {"skills": 0.9, "objectives": 1.0, "personality": 0.6, "logistics": 0.5}
        },
        "solver": {"method": "dense", "rounds": 0, "candidate_pairs": 4},
    }

    old = CATALOG.decode(_envelope("MatchingCompleted", 1, data)).event
    new = CATALOG.decode(_envelope("MatchingCompleted", 2, {**data, **explained})).event

    assert MatchingCompleted.schema_version == 2
    assert isinstance(old, MatchingCompleted)
    assert (old.breakdowns, old.solver) == ({}, None)
    assert old.pairs[0].reasons == ["x"]
    assert old.unmatched[0].reason == "full"
    assert isinstance(new, MatchingCompleted)
    assert new.breakdowns == {
        "b": ScoreBreakdown(skills=0.9, objectives=1.0, personality=0.6, logistics=0.5)
    }
    assert new.solver == SolverReport(method="dense", rounds=0, candidate_pairs=4)
    assert new.to_data() == {**data, **explained}


def test_unknown_event_type_is_a_typed_error() -> None:
    with pytest.raises(UnknownEventType):
        CATALOG.decode(_envelope("NoSuchEvent", 1, {}))


def test_unknown_fields_in_data_are_rejected() -> None:
    data = {
        "cohort_id": "c",
        "program_name": "p",
        "starts_at": NOW.isoformat(),
        "ends_at": NOW.isoformat(),
        "participant_count": 1,
        "surprise": True,
    }
    with pytest.raises(ValidationError, match="surprise"):
        CATALOG.decode(_envelope("CohortLaunched", 1, data))


class GoalSet(DomainEvent):
    """Version 2 split ``text`` into ``description`` and a ``horizon``."""

    event_type: Literal["GoalSet"] = "GoalSet"
    schema_version: ClassVar[int] = 3
    stream_type: ClassVar[str] = "mentorship"
    description: str
    horizon: Literal["short", "long"]
    motivation: str


def _catalog_with_upcasters() -> EventCatalog:
    upcasters = UpcasterChain()

    @upcasters.register("GoalSet", 1)
    def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"description": data["text"], "horizon": "short"}

    @upcasters.register("GoalSet", 2)
    def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "motivation": ""}

    return EventCatalog([GoalSet], upcasters)


def test_an_old_version_is_read_as_the_current_one() -> None:
    catalog = _catalog_with_upcasters()

    recorded = catalog.decode(_envelope("GoalSet", 1, {"text": "Lead a team"}))

    assert recorded.event == GoalSet(description="Lead a team", horizon="short", motivation="")
    assert recorded.schema_version == 1  # the stored fact is untouched


def test_a_missing_upcaster_is_a_typed_error() -> None:
    catalog = EventCatalog([GoalSet])
    with pytest.raises(MissingUpcaster) as raised:
        catalog.decode(_envelope("GoalSet", 1, {"text": "x"}))
    assert raised.value.from_version == 1


def test_two_upcasters_for_one_step_are_refused() -> None:
    upcasters = UpcasterChain()
    upcasters.register("GoalSet", 1)(lambda data: data)
    with pytest.raises(ValueError, match="two upcasters"):
        upcasters.register("GoalSet", 1)(lambda data: data)


def test_every_event_has_a_json_schema_with_its_version() -> None:
    schemas = CATALOG.json_schemas()
    assert set(schemas) == set(CATALOG.event_types)
    for entry in schemas.values():
        assert entry["schema_version"] >= 1
        assert entry["schema"]["type"] == "object"


def test_committed_json_schema_document_is_current() -> None:
    committed = Path(SCHEMA_FILE)
    assert committed.exists(), "run: python -m events.schema"
    assert json.loads(committed.read_text()) == json.loads(render_event_schemas()), (
        "docs/events.schema.json is stale; run: python -m events.schema"
    )


def test_a_version_1_conversation_held_reads_with_an_unknown_author() -> None:
    data = {
        "conversation_number": 1,
        "held_at": "2027-01-25T10:00:00+00:00",
        "goal_ids": ["g-1"],
        "notes": "private",
        "action_items": [
            {
                "item_id": "a-1",
                "owner": "mentee",
                "description": "x",
                "due_at": "2027-02-01T10:00:00+00:00",
            }
        ],
    }

    old = CATALOG.decode(_envelope("ConversationHeld", 1, data)).event

    assert isinstance(old, ConversationHeld)
    assert old.logged_by is None
    assert ConversationHeld.schema_version == 2


def test_a_version_1_profile_updated_reads_as_version_2_unchanged() -> None:
    data = {"person_id": "p-1", "changes": {"department": "Data"}, "source": "csv"}

    old = CATALOG.decode(_envelope("ProfileUpdated", 1, data)).event
    own = CATALOG.decode(_envelope("ProfileUpdated", 2, {**data, "source": "self"})).event

    assert ProfileUpdated.schema_version == 2
    assert isinstance(old, ProfileUpdated)
    assert (old.source, old.changes.department) == ("csv", "Data")
    assert isinstance(own, ProfileUpdated)
    assert own.source == "self"
    with pytest.raises(ValidationError):  # still a closed list of sources
        CATALOG.decode(_envelope("ProfileUpdated", 2, {**data, "source": "hr"}))
