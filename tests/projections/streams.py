"""Realistic event streams for projection tests, as the workflows record them.

`relationship` writes a whole relationship (matching, onboarding, conversations with action
plans, misses, an escalation, challenges, a review cycle, a pause, closure and surveys) with
choices drawn from a seeded random generator, so several relationships differ.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from events import DomainEvent, EventEnvelope, NewEvent
from events import cohort as k
from events import mentorship as m
from events import person as p
from eventstore import Position, PostgresEventStore

DAY = timedelta(days=1)
CADENCE = 14 * DAY
START = datetime(2027, 1, 11, 9, tzinfo=UTC)
MODULES = ["active-listening", "career-goal-setting"]


@dataclass
class Stream:
    """Domain events of one stream with the time each happened."""

    stream_id: str
    events: list[tuple[DomainEvent, datetime]] = field(default_factory=list)

    def add(self, event: DomainEvent, at: datetime) -> None:
        """Record ``event`` at ``at``."""
        self.events.append((event, at))

    def new_events(self) -> list[NewEvent]:
        """The events, ready to append."""
        return [
            NewEvent.from_domain(
                event, event_id=uuid.uuid4(), occurred_at=at, correlation_id=self.stream_id
            )
            for event, at in self.events
        ]


def cohort(cohort_id: str, stream_ids: list[str]) -> Stream:
    """A cohort stream: launch, matching, the relationships started."""
    stream = Stream(f"cohort-{cohort_id}")
    stream.add(
        k.CohortLaunched(
            cohort_id=cohort_id,
            program_name="Engineering Mentorship 2027",
            starts_at=START,
            ends_at=START + 365 * DAY,
            participant_count=2 * len(stream_ids) + 1,
        ),
        START - DAY,
    )
    stream.add(
        k.MatchingCompleted(
            pairs=[],
            unmatched=[k.Unmatched(mentee_id="p-999", reason_code="no_mentor", reason="none")],
            total_score=0.0,
        ),
        START - DAY,
    )
    stream.add(k.MentorshipsStarted(stream_ids=stream_ids), START)
    return stream


def _conversation(
    number: int, held_at: datetime, due_at: datetime | None, goal_ids: list[str]
) -> m.ConversationHeld:
    return m.ConversationHeld(
        conversation_number=number,
        kickoff=due_at is None,
        held_at=held_at,
        due_at=due_at,
        goal_ids=goal_ids,
        skills=["stakeholder-management", f"skill-{number % 3}"],
        feedback_to_mentee=f"private feedback {number}",
        feedback_to_mentor="" if number % 2 else f"thanks {number}",
        notes="very private note",
        action_items=[
            m.ActionItem(
                item_id=f"a-{number}",
                owner="mentee",
                description=f"personal plan step {number}",
                due_at=held_at + 7 * DAY,
            )
        ],
        next_conversation_due=held_at + CADENCE,
    )


def relationship(
    cohort_id: str, mentee_id: str, mentor_id: str, seed: int, *, close: bool = True
) -> Stream:
    """A whole relationship; ``seed`` varies lateness, misses, completions and the ending."""
    rng = random.Random(seed)
    stream = Stream(f"mentorship-{cohort_id}-{mentee_id}")
    now = START
    stream.add(
        m.MentorshipMatched(
            cohort_id=cohort_id,
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            match_score=round(rng.uniform(0.5, 0.95), 3),
            reasons=["covers wanted skills"],
            mentor_capacity=3,
        ),
        now,
    )
    stream.add(m.OnboardingStarted(deadline=now + 21 * DAY, training_modules=MODULES), now)
    for person in (mentor_id, mentee_id):
        for module in MODULES:
            now += DAY
            stream.add(m.TrainingModuleCompleted(person_id=person, module=module), now)
    stream.add(m.GoalSet(goal_id="g-1", horizon="short", description="Lead", motivation="x"), now)
    stream.add(m.GoalSet(goal_id="g-2", horizon="long", description="Staff", motivation="y"), now)
    stream.add(_conversation(1, now, None, ["g-1"]), now)
    due = now + CADENCE
    stream.add(m.OnboardingCompleted(next_conversation_due=due), now)
    misses, previous = 0, "a-1"
    for number in range(2, 2 + rng.randint(3, 6)):
        stream.add(m.ConversationReminderDue(conversation_number=number, due_at=due), due - DAY)
        if rng.random() < 0.25:
            misses += 1
            stream.add(
                m.ConversationMissed(
                    conversation_number=number,
                    due_at=due,
                    consecutive_misses=misses,
                    next_conversation_due=due + CADENCE,
                ),
                due + 3 * DAY,
            )
            if misses == 2:
                stream.add(m.MentorshipEscalated(consecutive_misses=2, reason="2 missed"), due)
            due += CADENCE
            continue
        misses = 0
        held_at = due + rng.choice([-DAY, 0 * DAY, 2 * DAY])
        if rng.random() < 0.7:
            stream.add(m.ActionItemCompleted(item_id=previous, completed_at=held_at), held_at)
        else:
            stream.add(
                m.ActionItemCheckInDue(item_id=previous, owner="mentee", due_at=held_at), held_at
            )
        stream.add(_conversation(number, held_at, due, ["g-1", "g-2"]), held_at)
        previous = f"a-{number}"
        stream.add(m.GoalRevised(goal_id="g-2", progress=min(100, 10 * number)), held_at)
        due = held_at + CADENCE
    stream.add(
        m.ChallengeSet(challenge_id="c-1", skill="public-speaking", description="Talk", due_at=due),
        due - 5 * DAY,
    )
    stream.add(m.ChallengeProgressRecorded(challenge_id="c-1", progress=40), due - 2 * DAY)
    stream.add(m.GoalAchieved(goal_id="g-1"), due - DAY)
    summary = m.ReviewSummary(
        goals=["short-term goal g-1: achieved, 100% progress"],
        skills_developed=["stakeholder-management"],
        action_items_completed=2,
        action_items_overdue=1,
        conversations_held=4,
        conversations_expected=5,
        feedback_themes=["worked on stakeholder-management"],
        text="Held 4 of 5 expected career conversations.",
    )
    stream.add(
        m.ReviewSummaryDrafted(cycle_id="r-1", summary=summary, respond_by=due + CADENCE), due
    )
    if rng.random() < 0.5:
        shared = summary.model_copy(update={"text": "Reworded by the mentee."})
        stream.add(
            m.ReviewSummaryShared(cycle_id="r-1", summary=shared, edited_by_mentee=True), due
        )
    else:
        stream.add(m.ReviewSummaryWithheld(cycle_id="r-1"), due + CADENCE)
    stream.add(m.MentorshipPaused(reason="parental leave", paused_at=due), due)
    stream.add(m.MentorshipResumed(paused_for=30 * DAY, next_conversation_due=due + 44 * DAY), due)
    if not close:
        return stream
    end = due + 60 * DAY
    endings: list[m.ClosureReason] = ["completed", "rematch"]
    reason = rng.choice(endings)
    if reason == "rematch":
        stream.add(
            m.RematchRequested(mentee_id=mentee_id, previous_mentor_id=mentor_id, reason="fit"),
            end,
        )
    stream.add(m.ClosureStarted(reason=reason, survey_closes_at=end + 7 * DAY), end)
    for person, score in ((mentor_id, rng.randint(3, 5)), (mentee_id, rng.randint(1, 5))):
        stream.add(
            m.SurveySubmitted(person_id=person, satisfaction=score, value=4, would_recommend=True),
            end + DAY,
        )
    stream.add(
        m.MentorshipClosed(
            reason=reason, conversations_held=5, goals_achieved=1, surveys_received=2
        ),
        end + 7 * DAY,
    )
    return stream


def person(person_id: str, manager_id: str, seed: int) -> Stream:
    """A directory person: profiled, updated, a new manager, their own edit and their traits,
    deactivated (and, for some seeds, back again; for some, their consent withdrawn)."""
    chooser = random.Random(seed)
    stream = Stream(f"person-{person_id}")
    at = START - 30 * DAY
    profile = p.PersonProfile(
        user_name=f"{person_id}@example.com",
        name=f"Person {person_id}",
        email=f"{person_id}@example.com",
        email_type="work",
        external_id=f"hr-{seed}",
        employee_number=str(1000 + seed),
        department=chooser.choice(["Platform", "Data", "Sales"]),
        manager_id=manager_id,
        timezone="Europe/Berlin",
        languages=["en"],
        skills={"python": chooser.randint(0, 5)},
        career_objectives=["engineering-management"],
    )
    stream.add(p.PersonProfiled(person_id=person_id, profile=profile, source="scim"), at)
    changes = p.ProfileChanges(department="Research", languages=["en", "de"])
    stream.add(p.ProfileUpdated(person_id=person_id, changes=changes, source="csv"), at + DAY)
    stream.add(
        p.ManagerChanged(
            person_id=person_id, manager_id=None, previous_manager_id=manager_id, source="scim"
        ),
        at + 2 * DAY,
    )
    own = p.ProfileChanges(skills={"python": 5, "sql": 2}, wants_to_develop=["public-speaking"])
    stream.add(p.ProfileUpdated(person_id=person_id, changes=own, source="self"), at + 2 * DAY)
    scores = p.BigFiveScores(
        openness=chooser.randint(0, 8) / 8,
        conscientiousness=0.5,
        extraversion=0.875,
        agreeableness=0.25,
        emotional_stability=1.0,
    )
    consented = at + 2 * DAY + timedelta(hours=1)
    stream.add(
        p.TraitsAssessed(
            person_id=person_id, instrument="Mini-IPIP", traits=scores, consented_at=consented
        ),
        consented,
    )
    left = at + 3 * DAY
    stream.add(
        p.PersonDeactivated(person_id=person_id, deactivated_at=left, reason="hris", source="scim"),
        left,
    )
    if chooser.random() < 0.5:
        back = at + 4 * DAY
        stream.add(
            p.PersonReactivated(person_id=person_id, reactivated_at=back, source="scim"), back
        )
    if chooser.random() < 0.5:
        withdrawn = at + 5 * DAY
        stream.add(p.TraitsConsentWithdrawn(person_id=person_id, withdrawn_at=withdrawn), withdrawn)
    return stream


def scenario(relationships: int, seed: int = 7, *, people: bool = False) -> list[Stream]:
    """A cohort with ``relationships`` relationships (the last one still running), and with
    ``people`` its mentees in the directory."""
    cohort_id = f"c{uuid.uuid4().hex[:8]}"
    pairs = [
        relationship(cohort_id, f"p-{100 + index}", f"p-{index % 3}", seed + index, close=index > 0)
        for index in range(relationships)
    ]
    directory = [
        person(f"{cohort_id}-p-{100 + index}", f"{cohort_id}-p-{index % 3}", seed + index)
        for index in range(relationships if people else 0)
    ]
    return [cohort(cohort_id, [pair.stream_id for pair in pairs]), *pairs, *directory]


async def append_interleaved(
    store: PostgresEventStore, streams: list[Stream], chunk: int = 3
) -> int:
    """Append the streams a few events at a time, round-robin, as concurrent workflows would.

    Returns the number of events appended.
    """
    pending = {stream.stream_id: stream.new_events() for stream in streams}
    versions = dict.fromkeys(pending, 0)
    total = 0
    while pending:
        for stream_id in list(pending):
            events = pending[stream_id][:chunk]
            await store.append(stream_id, versions[stream_id], events)
            versions[stream_id] += len(events)
            total += len(events)
            pending[stream_id] = pending[stream_id][chunk:]
            if not pending[stream_id]:
                del pending[stream_id]
    return total


async def stored_envelopes(store: PostgresEventStore) -> list[EventEnvelope]:
    """Every stored event, in the store's tailing order."""
    envelopes: list[EventEnvelope] = []
    position = Position.START
    while page := await store.read_all(position, 1000):
        envelopes.extend(stored.envelope for stored in page)
        position = page[-1].position
    return envelopes
