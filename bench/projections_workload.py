"""Realistic event streams for the projections benchmark, and a fast way to store them."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from events import DomainEvent
from events import cohort as k
from events import mentorship as m

DAY = timedelta(days=1)
EVENTS_PER_RELATIONSHIP = 45
RELATIONSHIPS_PER_COHORT = 100
COPY_CHUNK = 50_000
_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "schema_version",
    "occurred_at",
    "correlation_id",
    "data",
)

Streams = list[tuple[str, list[DomainEvent]]]


def _conversation(rng: random.Random, number: int, due: datetime) -> m.ConversationHeld:
    held = due + rng.choice([-DAY, DAY])
    return m.ConversationHeld(
        conversation_number=number,
        kickoff=number == 1,
        held_at=held,
        due_at=None if number == 1 else due,
        goal_ids=["g-1", "g-2"],
        skills=["stakeholder-management", "delegation"],
        feedback_to_mentee=" ".join(rng.choices(["clear", "kind", "direct"], k=30)),
        feedback_to_mentor="more examples please",
        notes="private",
        action_items=[
            m.ActionItem(item_id=f"a-{number}", owner="mentee", description="x", due_at=held + DAY)
        ],
        next_conversation_due=held + 14 * DAY,
    )


def relationship(rng: random.Random, cohort_id: str, index: int) -> list[DomainEvent]:
    """A relationship's 45 events, from matching to closure."""
    start = datetime(2027, 1, 11, 9, tzinfo=UTC) + index * timedelta(minutes=1)
    mentor, mentee = f"p-{index % 50}", f"p-{1000 + index}"
    events: list[DomainEvent] = [
        m.MentorshipMatched(
            cohort_id=cohort_id, mentor_id=mentor, mentee_id=mentee, match_score=0.8
        ),
        m.OnboardingStarted(deadline=start + 21 * DAY, training_modules=["a", "b"]),
    ]
    events += [
        m.TrainingModuleCompleted(person_id=person, module=module)
        for person in (mentor, mentee)
        for module in ("a", "b")
    ]
    events += [
        m.GoalSet(goal_id="g-1", horizon="short", description="Lead a review", motivation="m"),
        m.GoalSet(goal_id="g-2", horizon="long", description="Become staff", motivation="m"),
    ]
    due = start
    for number in range(1, 9):
        held = _conversation(rng, number, due)
        if number > 1:
            events.append(m.ConversationReminderDue(conversation_number=number, due_at=due))
            item = f"a-{number - 1}"
            events.append(m.ActionItemCompleted(item_id=item, completed_at=held.held_at))
        events.append(held)
        if number == 1:
            events.append(m.OnboardingCompleted(next_conversation_due=held.held_at + 14 * DAY))
        elif number < 8:
            events.append(m.GoalRevised(goal_id="g-2", progress=10 * number))
        due = held.held_at + 14 * DAY
    summary = m.ReviewSummary(
        goals=["g-1"],
        skills_developed=["delegation"],
        action_items_completed=7,
        action_items_overdue=0,
        conversations_held=8,
        conversations_expected=8,
        feedback_themes=["worked on delegation"],
        text="Held 8 of 8.",
    )
    return [
        *events,
        m.ChallengeSet(challenge_id="c-1", skill="speaking", description="Talk", due_at=due),
        m.ChallengeProgressRecorded(challenge_id="c-1", progress=50),
        m.ReviewSummaryDrafted(cycle_id="r-1", summary=summary, respond_by=due),
        m.ReviewSummaryShared(cycle_id="r-1", summary=summary, edited_by_mentee=False),
        m.ClosureStarted(reason="completed", survey_closes_at=due + DAY),
        m.SurveySubmitted(person_id=mentor, satisfaction=4, value=4, would_recommend=True),
        m.SurveySubmitted(person_id=mentee, satisfaction=5, value=5, would_recommend=True),
        m.MentorshipClosed(
            reason="completed", conversations_held=8, goals_achieved=0, surveys_received=2
        ),
    ]


def workload(event_count: int, seed: int = 2027) -> Streams:
    """Streams holding about ``event_count`` events: relationships, a cohort per hundred."""
    rng = random.Random(seed)
    streams: Streams = []
    total = index = 0
    while total < event_count:
        cohort_id = f"c-{index // RELATIONSHIPS_PER_COHORT}"
        if index % RELATIONSHIPS_PER_COHORT == 0:
            launched = k.CohortLaunched(
                cohort_id=cohort_id,
                program_name="Bench",
                participant_count=2 * RELATIONSHIPS_PER_COHORT,
                starts_at=datetime(2027, 1, 1, tzinfo=UTC),
                ends_at=datetime(2028, 1, 1, tzinfo=UTC),
            )
            streams.append((f"cohort-{cohort_id}", [launched]))
            total += 1
        events = relationship(rng, cohort_id, index)
        streams.append((f"mentorship-{cohort_id}-p-{1000 + index}", events))
        total += len(events)
        index += 1
    return streams


def _same_time(_stream_index: int, _version: int) -> datetime:
    return datetime(2027, 1, 1, tzinfo=UTC)


async def copy_into_store(
    url: str, streams: Streams, occurred_at: Callable[[int, int], datetime] = _same_time
) -> int:
    """Copy the streams into the store's table, `COPY_CHUNK` rows per transaction.

    Much faster than appending a million events one append at a time; the rows are what
    appends would have written (the table's defaults fill position, transaction and time).
    ``occurred_at(stream_index, stream_version)`` dates each event (by default all alike).
    """
    rows = [
        (
            uuid.uuid4(),
            stream_id,
            version,
            event.event_type,
            type(event).schema_version,
            occurred_at(index, version),
            stream_id,
            json.dumps(event.to_data(), separators=(",", ":")),
        )
        for index, (stream_id, events) in enumerate(streams)
        for version, event in enumerate(events, start=1)
    ]
    # A connection of its own: asyncpg's default codecs take jsonb as text in binary COPY.
    connection = await asyncpg.connect(url)
    try:
        for start in range(0, len(rows), COPY_CHUNK):
            await connection.copy_records_to_table(
                "events",
                schema_name="eventstore",
                records=rows[start : start + COPY_CHUNK],
                columns=_COLUMNS,
            )
        await connection.execute("VACUUM ANALYZE eventstore.events")
    finally:
        await connection.close()
    return len(rows)
