"""The read models and the workflow's state agree on stage, pause and open items' due dates.

Both fold with the domain's lifecycle rules (`domain.mentorship.lifecycle`); this table
checks they agree after every event of each sequence, with the read models' states going
through their stored JSON between events as the runner stores them. Pure: no database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from domain.cohort_state import Relationship as CohortRelationship
from domain.mentorship.lifecycle import ENDED_STAGES, OCCUPYING_STAGES, Stage
from domain.mentorship.state import MentorshipState, evolve
from domain.mentorship.terms import ProgramTerms
from events import DomainEvent
from events import mentorship as m
from projections import all_projections
from projections.base import Projection
from projections.mentor_load import PAIRS as LOAD_PAIRS
from projections.overview import OVERVIEW
from tests.projections.streams import CADENCE, DAY, MODULES, START, relationship

COHORT, MENTOR, MENTEE = "c-1", "p-001", "p-002"
STREAM = f"mentorship-{COHORT}-{MENTEE}"
TERMS = ProgramTerms(
    cohort_id=COHORT,
    program_name="Engineering Mentorship 2027",
    starts_at=START,
    ends_at=START + 365 * DAY,
    conversation_cadence=CADENCE,
    grace_period=3 * DAY,
    onboarding_window=21 * DAY,
    training_modules=MODULES,
)


@dataclass(frozen=True)
class Sequence:
    name: str
    events: list[tuple[DomainEvent, datetime]]
    stages: list[Stage]
    """The domain's stage after each event (checked first, then the read models against it)."""


def _at(events: list[DomainEvent]) -> list[tuple[DomainEvent, datetime]]:
    return [(event, START + index * DAY) for index, event in enumerate(events)]


MATCHED = m.MentorshipMatched(
    cohort_id=COHORT, mentor_id=MENTOR, mentee_id=MENTEE, match_score=0.8, mentor_capacity=2
)
ONBOARDING = m.OnboardingStarted(deadline=START + 21 * DAY, training_modules=MODULES)
ACTIVE = m.OnboardingCompleted(next_conversation_due=START + CADENCE)
PAUSED = m.MentorshipPaused(reason="leave", paused_at=START + 3 * DAY)
RESUMED = m.MentorshipResumed(paused_for=10 * DAY, next_conversation_due=START + 30 * DAY)
CLOSING = m.ClosureStarted(reason="completed", survey_closes_at=START + 40 * DAY)
CLOSED = m.MentorshipClosed(
    reason="completed", conversations_held=1, goals_achieved=0, surveys_received=0
)


def _held(number: int, *item_ids: str) -> m.ConversationHeld:
    held_at = START + number * DAY
    return m.ConversationHeld(
        conversation_number=number,
        kickoff=number == 1,
        held_at=held_at,
        goal_ids=["g-1"],
        action_items=[
            m.ActionItem(item_id=item_id, owner="mentee", description="step", due_at=held_at + DAY)
            for item_id in item_ids
        ],
        next_conversation_due=held_at + CADENCE,
    )


_S = Stage
SEQUENCES = [
    Sequence("matched", _at([MATCHED]), [_S.MATCHED]),
    Sequence(
        "onboarding, active",
        _at([MATCHED, ONBOARDING, _held(1, "a-1"), ACTIVE]),
        [_S.MATCHED, _S.ONBOARDING, _S.ONBOARDING, _S.ACTIVE],
    ),
    Sequence(
        "paused while onboarding resumes into onboarding",
        _at([MATCHED, ONBOARDING, _held(1, "a-1"), PAUSED, RESUMED]),
        [_S.MATCHED, _S.ONBOARDING, _S.ONBOARDING, _S.PAUSED, _S.ONBOARDING],
    ),
    Sequence(
        "a pause shifts open items only",
        _at(
            [
                MATCHED,
                ONBOARDING,
                _held(1, "a-1", "a-2"),
                ACTIVE,
                m.ActionItemCompleted(item_id="a-1", completed_at=START + 2 * DAY),
                PAUSED,
                RESUMED,
                m.ActionItemRescheduled(item_id="a-2", due_at=START + 50 * DAY),
                PAUSED,
                RESUMED,
            ]
        ),
        [
            _S.MATCHED,
            _S.ONBOARDING,
            _S.ONBOARDING,
            _S.ACTIVE,
            _S.ACTIVE,
            _S.PAUSED,
            _S.ACTIVE,
            _S.ACTIVE,
            _S.PAUSED,
            _S.ACTIVE,
        ],
    ),
    Sequence(
        "paused while matched, then closing and closed",
        _at([MATCHED, PAUSED, RESUMED, ONBOARDING, CLOSING, CLOSED]),
        [_S.MATCHED, _S.PAUSED, _S.MATCHED, _S.ONBOARDING, _S.CLOSING, _S.CLOSED],
    ),
    Sequence(
        "closing while paused",
        _at([MATCHED, ONBOARDING, ACTIVE, PAUSED, CLOSING, CLOSED]),
        [_S.MATCHED, _S.ONBOARDING, _S.ACTIVE, _S.PAUSED, _S.CLOSING, _S.CLOSED],
    ),
]


def _open_items(state: MentorshipState) -> dict[str, datetime]:
    # Read models follow the items agreed in conversations (carried-over ones are number 0).
    return {
        item.item_id: item.due_at
        for item in state.open_action_items()
        if item.conversation_number > 0
    }


def _fold(projections: list[Projection[Any]], events: list[tuple[DomainEvent, datetime]]) -> Any:
    """After each event: the domain state and each projection's state, stored and loaded."""
    domain = MentorshipState(stream_id=STREAM, mentor_id=MENTOR, mentee_id=MENTEE, terms=TERMS)
    states = {projection.name: projection.new_state(STREAM) for projection in projections}
    for event, at in events:
        domain = evolve(domain, event)
        for projection in projections:
            state = states[projection.name]
            projection.apply(state, event, at)
            states[projection.name] = projection.load_state(STREAM, projection.dump_state(state))
        yield domain, states


def _check(events: list[tuple[DomainEvent, datetime]], stages: list[Stage] | None) -> None:
    projections = [p for p in all_projections() if p.handles(STREAM)]
    assert {p.name for p in projections} == {
        "mentorship_overview",
        "development_plan",
        "cohort_dashboard",
        "mentor_load",
        "review_summaries",
    }
    by_name = {p.name: p for p in projections}
    for index, (domain, states) in enumerate(_fold(projections, events)):
        step = f"after event {index + 1} ({type(events[index][0]).__name__})"
        if stages is not None:
            assert domain.stage is stages[index], step
        for name, state in states.items():
            assert state.relationship.stage == domain.stage, f"{name} {step}"
            assert state.relationship.stage_before_pause == domain.stage_before_pause, (
                f"{name} {step}"
            )
            if hasattr(state, "items"):
                open_items = {
                    item_id: item.due_at
                    for item_id, item in state.items.items.items()
                    if item.status == "open"
                }
                assert open_items == _open_items(domain), f"{name} {step}"
        # The rows show the same stage, and the mentor's load counts the same stages.
        overview = by_name["mentorship_overview"].rows(STREAM, states["mentorship_overview"])
        assert overview[OVERVIEW.name][0][OVERVIEW.columns.index("stage")] == domain.stage
        load = by_name["mentor_load"].rows(STREAM, states["mentor_load"])[LOAD_PAIRS.name][0]
        assert load[LOAD_PAIRS.columns.index("active")] is (domain.stage in OCCUPYING_STAGES)
        # The cohort's view of the relationship (its last reported stage) ends with it.
        reported = CohortRelationship(
            stream_id=STREAM, mentor_id=MENTOR, mentee_id=MENTEE, stage=domain.stage.value
        )
        assert (reported.stage in ENDED_STAGES) is (domain.stage not in OCCUPYING_STAGES)


@pytest.mark.parametrize("sequence", SEQUENCES, ids=lambda sequence: sequence.name)
def test_read_models_and_the_workflow_state_agree_on_the_stage(sequence: Sequence) -> None:
    assert len(sequence.stages) == len(sequence.events)
    _check(sequence.events, sequence.stages)


@pytest.mark.parametrize("seed", range(6))
def test_they_agree_through_whole_relationships(seed: int) -> None:
    stream = relationship(COHORT, MENTEE, MENTOR, seed, close=seed % 2 == 0)
    assert stream.stream_id == STREAM
    _check(stream.events, None)


def test_a_resume_moves_open_items_by_the_pause_in_both() -> None:
    overview = [p for p in all_projections() if p.name == "mentorship_overview"]
    *_, (domain, states) = _fold(overview, SEQUENCES[3].events)
    items = states["mentorship_overview"].items.items

    # Agreed due START + 2 days; a-2 shifted by the first pause, rescheduled, shifted again.
    assert _open_items(domain) == {"a-2": START + 60 * DAY}
    assert domain.action_items["a-1"].due_at == items["a-1"].due_at == START + 2 * DAY
    assert items["a-2"].due_at == START + 60 * DAY


# A development plan's state as the release before the shared value objects stored it (the
# goals without `strengths`), after the first 14 events of `relationship(..., seed=1)`.
_STORED_BEFORE = {
    "relationship": {
        "cohort_id": COHORT,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "stage": "active",
        "stage_before_pause": None,
        "rematch_of": None,
        "mentor_capacity": 3,
    },
    "goals": {
        goal_id: {
            "horizon": horizon,
            "description": description,
            "motivation": motivation,
            "set_at": "2027-01-15T09:00:00Z",
            "target_date": None,
            "status": "active",
            "progress": progress,
            "closed_at": None,
        }
        for goal_id, horizon, description, motivation, progress in (
            ("g-1", "short", "Lead", "x", 0),
            ("g-2", "long", "Staff", "y", 20),
        )
    },
    "skills": ["stakeholder-management", "skill-1", "skill-2"],
    "challenges": {},
    "items": {
        "items": {
            f"a-{number}": {
                "owner": "mentee",
                "conversation_number": number,
                "due_at": due_at,
                "status": "open",
                "completed_at": None,
                "check_in_due": number == 1,
                "description": f"personal plan step {number}",
            }
            for number, due_at in ((1, "2027-01-22T09:00:00Z"), (2, "2027-02-05T09:00:00Z"))
        },
        "keep_descriptions": True,
    },
    "feedback": [
        {
            "conversation_number": number,
            "direction": direction,
            "text": text,
            "given_at": given_at,
        }
        for number, direction, text, given_at in (
            (1, "to_mentee", "private feedback 1", "2027-01-15T09:00:00Z"),
            (2, "to_mentee", "private feedback 2", "2027-01-29T09:00:00Z"),
            (2, "to_mentor", "thanks 2", "2027-01-29T09:00:00Z"),
        )
    ],
    "given": [],
    "conversations_held": 2,
    "updated_at": "2027-01-29T09:00:00Z",
}


def test_a_state_stored_before_the_shared_value_objects_folds_on_to_the_same_rows() -> None:
    (plan,) = [p for p in all_projections() if p.name == "development_plan"]
    events = relationship(COHORT, MENTEE, MENTOR, 1, close=True).events
    fresh = plan.new_state(STREAM)
    for event, at in events[:14]:
        plan.apply(fresh, event, at)
    stored = plan.load_state(STREAM, json.dumps(_STORED_BEFORE))
    assert plan.rows(STREAM, stored) == plan.rows(STREAM, fresh)

    for event, at in events[14:]:
        plan.apply(stored, event, at)
        plan.apply(fresh, event, at)
    assert plan.rows(STREAM, stored) == plan.rows(STREAM, fresh)
