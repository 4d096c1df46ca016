"""The read models' contents, projected from the store by the runners."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from statistics import mean

import pytest

from events import DomainEvent, EventEnvelope, NewEvent
from events import mentorship as m
from eventstore import PostgresEventStore
from projections import (
    SCHEMA,
    all_projections,
    read_cohort_dashboard,
    read_mentor_load,
)
from tests.projections.streams import (
    CADENCE,
    DAY,
    START,
    Stream,
    append_interleaved,
    scenario,
    stored_envelopes,
)
from tests.projections.support import project_all, snapshot


async def _feed(store: PostgresEventStore, envelopes: list[EventEnvelope]) -> None:
    del envelopes  # the runners read the store themselves
    await project_all(store)


def _count(stream: Stream, event_type: type[object]) -> int:
    return sum(isinstance(event, event_type) for event, _ in stream.events)


async def test_a_cohort_fills_every_read_model(store: PostgresEventStore) -> None:
    streams = scenario(3)
    await append_interleaved(store, streams)
    await _feed(store, await stored_envelopes(store))
    _, running, *closed = streams
    cohort_id = running.stream_id.split("-")[1]

    overview = await store.pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.mentorship_overview WHERE stream_id = $1", closed[0].stream_id
    )
    assert overview is not None
    held = _count(closed[0], m.ConversationHeld)
    missed = _count(closed[0], m.ConversationMissed)
    assert (overview["stage"], overview["cohort_id"]) == ("closed", cohort_id)
    assert (overview["conversations_held"], overview["conversations_missed"]) == (held, missed)
    assert overview["conversations_expected"] == held + missed
    assert overview["next_conversation_due"] is None  # closed: no rhythm any more
    assert overview["action_items_open"] + overview["action_items_completed"] == held
    assert overview["action_items_completed"] == _count(closed[0], m.ActionItemCompleted)

    plan = await store.pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.development_plans WHERE stream_id = $1", running.stream_id
    )
    assert plan is not None
    assert plan["stage"] == "active"
    assert plan["skills_worked_on"][0] == "stakeholder-management"
    assert (plan["goals_active"], plan["goals_achieved"]) == (1, 1)
    assert plan["feedback_received"] == _count(running, m.ConversationHeld)
    goals = await store.pool.fetch(
        f"SELECT goal_id, status, progress FROM {SCHEMA}.development_goals "
        "WHERE stream_id = $1 ORDER BY goal_id",
        running.stream_id,
    )
    assert [(row["goal_id"], row["status"]) for row in goals] == [
        ("g-1", "achieved"),
        ("g-2", "active"),
    ]
    feedback = await store.pool.fetch(
        f"SELECT direction, feedback FROM {SCHEMA}.development_feedback WHERE stream_id = $1",
        running.stream_id,
    )
    assert Counter(row["direction"] for row in feedback)["to_mentee"] == plan["feedback_received"]

    dashboard = await read_cohort_dashboard(store.pool, cohort_id)
    assert dashboard is not None
    assert dashboard.program_name == "Engineering Mentorship 2027"
    assert dashboard.unmatched_mentees == 1
    assert dashboard.pairs == 3
    assert dashboard.pairs_by_stage == {"active": 1, "closed": 2}
    assert dashboard.onboarding_completion == 1.0
    surveys = [
        event.satisfaction
        for stream in closed
        for event, _ in stream.events
        if isinstance(event, m.SurveySubmitted)
    ]
    assert dashboard.average_satisfaction == pytest.approx(mean(surveys))
    assert dashboard.rematch_requests == sum(_count(s, m.RematchRequested) for s in closed)
    assert dashboard.cadence_adherence is not None
    assert 0 <= dashboard.cadence_adherence <= 1

    loads = await read_mentor_load(store.pool, cohort_id=cohort_id)
    assert sum(load.relationships for load in loads) == 3
    assert sum(load.active_mentees for load in loads) == 1  # only the running relationship
    assert all(load.capacity == 3 for load in loads)

    review = await store.pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.review_summaries WHERE stream_id = $1", running.stream_id
    )
    assert review is not None
    assert review["cycle_id"] == "r-1"
    assert review["status"] in {"shared", "withheld"}
    assert (review["mentee_id"], review["cohort_id"]) == ("p-100", cohort_id)


def _event(stream_id: str, version: int, event: DomainEvent | None = None) -> EventEnvelope:
    data = {} if event is None else event.to_data()
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type="Forged" if event is None else event.event_type,
        schema_version=1,
        stream_id=stream_id,
        stream_version=version,
        global_position=10_000 + version,
        occurred_at=START,
        recorded_at=START,
        correlation_id="test",
        data=data,
    )


async def test_projecting_again_from_the_start_changes_nothing(
    store: PostgresEventStore,
) -> None:
    streams = scenario(2, people=True)
    await append_interleaved(store, streams)
    await _feed(store, await stored_envelopes(store))
    before = await snapshot(store.pool, all_projections())

    # A runner restarted from an older position (killed before saving it, say) meets
    # events it applied already: its checkpoints make them duplicates.
    await store.pool.execute(f"DELETE FROM {SCHEMA}.positions")
    await project_all(store)

    assert await snapshot(store.pool, all_projections()) == before


async def test_unknown_event_types_are_skipped_and_counted(store: PostgresEventStore) -> None:
    stream = scenario(1)[1]
    events = stream.new_events()
    future = NewEvent(
        event_id=uuid.uuid4(),
        event_type="SomethingFromTheFuture",
        schema_version=1,
        occurred_at=START,
        correlation_id="test",
        data={"anything": 1},
    )
    await store.append(stream.stream_id, 0, [*events[:3], future, *events[3:]])
    await _feed(store, await stored_envelopes(store))

    row = await store.pool.fetchrow(
        f"SELECT version, skipped FROM {SCHEMA}.checkpoints "
        "WHERE projection = 'mentorship_overview' AND stream_id = $1",
        stream.stream_id,
    )
    assert row is not None
    assert (row["version"], row["skipped"]) == (len(events) + 1, 1)


async def test_overdue_items_and_adherence_follow_the_workflow(store: PostgresEventStore) -> None:
    stream_id = f"mentorship-c1-p-{uuid.uuid4().hex[:6]}"
    stream = Stream(stream_id)
    stream.add(
        m.MentorshipMatched(cohort_id="c1", mentor_id="p-1", mentee_id="p-2", match_score=0.7),
        START,
    )
    item = m.ActionItem(item_id="a-1", owner="mentee", description="Draft", due_at=START + DAY)
    late = START + CADENCE + DAY
    stream.add(
        m.ConversationHeld(
            conversation_number=2,
            held_at=late,
            due_at=START + CADENCE,
            goal_ids=["g-1"],
            action_items=[item],
            next_conversation_due=late + CADENCE,
        ),
        late,
    )
    stream.add(m.ActionItemCheckInDue(item_id="a-1", owner="mentee", due_at=late), late)
    await store.append(stream_id, 0, stream.new_events())
    await _feed(store, await stored_envelopes(store))

    overview = await store.pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.mentorship_overview WHERE stream_id = $1", stream_id
    )
    assert overview is not None
    assert (overview["action_items_open"], overview["action_items_overdue"]) == (1, 1)
    dashboard = await read_cohort_dashboard(store.pool, "c1")
    assert dashboard is not None
    assert dashboard.cadence_adherence == 0.0
    assert dashboard.at_risk_pairs == [stream_id]

    rescheduled = m.ActionItemRescheduled(item_id="a-1", due_at=late + timedelta(days=5))
    more = Stream(stream_id)
    more.add(rescheduled, late)
    await store.append(stream_id, 3, more.new_events())
    await _feed(store, (await stored_envelopes(store))[-1:])
    dashboard = await read_cohort_dashboard(store.pool, "c1")
    assert dashboard is not None
    assert dashboard.at_risk_pairs == []
