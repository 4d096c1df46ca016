"""The dashboard charts' figures: read from the cohort dashboard's rows, equal to the events."""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

from events import mentorship as m
from eventstore import PostgresEventStore
from projections import read_cohort_dashboard
from projections.cohort_figures import read_cohort_figures, read_pairs_at_risk
from tests.projections.streams import Stream, append_interleaved, scenario, stored_envelopes
from tests.projections.support import project_all

E = TypeVar("E")


def _events(streams: list[Stream], event_type: type[E]) -> list[E]:
    return [
        event for stream in streams for event, _ in stream.events if isinstance(event, event_type)
    ]


async def test_the_figures_over_time_and_the_distributions_follow_the_events(
    store: PostgresEventStore,
) -> None:
    streams = scenario(4)
    await append_interleaved(store, streams)
    await stored_envelopes(store)
    await project_all(store)
    relationships = streams[1:]
    cohort_id = relationships[0].stream_id.split("-")[1]
    dashboard = await read_cohort_dashboard(store.pool, cohort_id)
    assert dashboard is not None

    figures = await read_cohort_figures(store.pool, cohort_id, "Europe/Berlin")

    weeks = sorted({item.week for item in figures.stages_by_week})
    assert all(week.weekday() == 0 for week in weeks)  # Mondays
    assert len(weeks) > 10
    last = {item.kind: item.count for item in figures.stages_by_week if item.week == weeks[-1]}
    assert last == dashboard.pairs_by_stage
    first = {item.kind: item.count for item in figures.stages_by_week if item.week == weeks[0]}
    assert sum(first.values()) == len(relationships)

    outcomes = Counter[str]()
    for item in figures.conversations_by_week:
        outcomes[item.kind] += item.count
    held = _events(relationships, m.ConversationHeld)
    due = [event for event in held if event.due_at is not None]
    on_time = [event for event in due if event.due_at and event.held_at <= event.due_at]
    assert outcomes["missed"] == len(_events(relationships, m.ConversationMissed)) > 0
    assert outcomes["on_time"] == len(on_time)
    assert outcomes["late"] == len(due) - len(on_time)

    assert [step.pairs for step in figures.onboarding_funnel] == [len(relationships)] * 5
    assert figures.action_items_created == len(held)
    assert figures.action_items_completed == len(_events(relationships, m.ActionItemCompleted))

    surveys = Counter(event.satisfaction for event in _events(relationships, m.SurveySubmitted))
    assert {item.value: item.count for item in figures.satisfaction} == surveys
    escalated = Counter(
        sum(isinstance(event, m.MentorshipEscalated) for event, _ in stream.events)
        for stream in relationships
    )
    assert {item.value: item.count for item in figures.escalations} == escalated

    at_risk = await read_pairs_at_risk(store.pool, cohort_id, limit=100)
    assert sorted(pair.mentorship_id for pair in at_risk) == dashboard.at_risk_pairs
    assert all(pair.reasons for pair in at_risk)


async def test_a_cohort_without_relationships_has_empty_figures(store: PostgresEventStore) -> None:
    figures = await read_cohort_figures(store.pool, "c-none", "UTC")

    assert figures.stages_by_week == figures.conversations_by_week == []
    assert figures.ratings == figures.satisfaction == []
    assert [step.pairs for step in figures.onboarding_funnel] == [0] * 5
    assert await read_pairs_at_risk(store.pool, "c-none", limit=10) == []
