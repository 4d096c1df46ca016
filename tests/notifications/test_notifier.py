"""The notifier's recording on real PostgreSQL: once per event, in stream order, forgetting,
digests. (The bus, the API and the SMTP sink are in test_notifier_end_to_end.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events import DomainEvent, EventEnvelope
from events import departure as d
from events import mentorship as m
from events.person import PersonForgotten
from eventstore import Pool
from notifications.directory import CohortContacts, DirectoryUnavailable, HrContact, PersonContact
from notifications.messages import Links
from notifications.service import Notifier, _Retry

LINKS = Links(console="https://mentoring.example.org", from_address="mentorflow@example.org")
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


class Answers:
    """A directory answering fixed contacts (the API's part is tested end to end)."""

    def __init__(self, contacts: CohortContacts) -> None:
        self.answer = contacts
        self.away = False
        self.calls = 0
        self.asked: list[list[str]] = []
        self.forgotten: list[str] = []

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        self.calls += 1
        self.asked.append(person_ids)
        if self.away:
            raise DirectoryUnavailable("API unreachable")
        return self.answer

    def forget(self, person_id: str) -> None:
        self.forgotten.append(person_id)


def contacts(tag: str) -> CohortContacts:
    return CohortContacts(
        cohort_id="c-1",
        people=[
            PersonContact(person_id=f"a-{tag}", name="Ada", email=f"ada-{tag}@example.org"),
            PersonContact(person_id=f"b-{tag}", name="Ben", email=f"ben-{tag}@example.org"),
        ],
        hr_contacts=[
            HrContact(
                id=f"hr-{tag}", name="HR", email=f"hr-{tag}@example.org", timezone="Europe/Berlin"
            )
        ],
    )


class Stream:
    """Envelopes of one relationship stream, numbered as the store numbers them."""

    def __init__(self, tag: str) -> None:
        self.stream_id = f"mentorship-c-1-{tag}"
        self.version = 0
        self.tag = tag

    def next(self, event: DomainEvent, at: datetime = NOW) -> EventEnvelope:
        self.version += 1
        return envelope(self.stream_id, self.version, event, at)

    def matched(self) -> EventEnvelope:
        return self.next(
            m.MentorshipMatched(
                cohort_id="c-1",
                mentor_id=f"a-{self.tag}",
                mentee_id=f"b-{self.tag}",
                match_score=0.7,
                program_ends_at=NOW + timedelta(days=90),
                conversation_cadence=timedelta(days=14),
            )
        )


def envelope(stream_id: str, version: int, event: DomainEvent, at: datetime) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=type(event).schema_version,
        stream_id=stream_id,
        stream_version=version,
        global_position=version,
        occurred_at=at,
        recorded_at=at,
        correlation_id=stream_id,
        data=event.to_data(),
    )


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


async def outbox_keys(pool: Pool) -> list[tuple[uuid.UUID, str]]:
    rows = await pool.fetch("SELECT event_id, recipient FROM notifications.outbox ORDER BY 1, 2")
    return [(row["event_id"], row["recipient"]) for row in rows]


async def test_an_event_is_recorded_once_for_each_recipient_however_often_it_arrives(
    pool: Pool, tag: str
) -> None:
    notifier = Notifier(pool, Answers(contacts(tag)), LINKS, clock=lambda: NOW)
    stream = Stream(tag)
    matched = stream.matched()

    assert await notifier.handle(matched) == 2
    assert await notifier.handle(matched, delivery=2) == 0
    assert await outbox_keys(pool) == sorted(
        [(matched.event_id, f"a-{tag}"), (matched.event_id, f"b-{tag}")]
    )


async def test_an_event_ahead_of_its_stream_waits_for_the_earlier_one(pool: Pool, tag: str) -> None:
    notifier = Notifier(pool, Answers(contacts(tag)), LINKS, clock=lambda: NOW)
    stream = Stream(tag)
    matched = stream.matched()
    started = stream.next(
        m.OnboardingStarted(deadline=NOW + timedelta(days=21), training_modules=["listening"])
    )

    with pytest.raises(_Retry):
        await notifier.handle(started)
    assert await outbox_keys(pool) == []
    await notifier.handle(matched)
    assert await notifier.handle(started, delivery=2) == 2


async def test_while_the_directory_is_away_nothing_is_recorded_and_the_event_comes_again(
    pool: Pool, tag: str
) -> None:
    directory = Answers(contacts(tag))
    directory.away = True
    notifier = Notifier(pool, directory, LINKS, clock=lambda: NOW)
    matched = Stream(tag).matched()

    with pytest.raises(_Retry):
        await notifier.handle(matched)
    assert await outbox_keys(pool) == []
    directory.away = False
    assert await notifier.handle(matched, delivery=2) == 2


async def test_a_forgotten_person_gets_nothing_more_and_their_outbox_rows_are_erased(
    pool: Pool, tag: str
) -> None:
    directory = Answers(contacts(tag))
    notifier = Notifier(pool, directory, LINKS, clock=lambda: NOW)
    stream = Stream(tag)
    await notifier.handle(stream.matched())
    forgotten = PersonForgotten(person_id=f"b-{tag}", forgotten_at=NOW, requested_by="cli")
    await notifier.handle(envelope(f"person-b-{tag}", 1, forgotten, NOW))
    missed = stream.next(
        m.ConversationMissed(
            conversation_number=1,
            due_at=NOW,
            consecutive_misses=1,
            next_conversation_due=NOW + timedelta(days=14),
        )
    )
    await notifier.handle(missed)

    recipients = {recipient for _, recipient in await outbox_keys(pool)}
    assert recipients == {f"a-{tag}"}
    assert directory.forgotten == [f"b-{tag}"]


async def test_escalations_become_one_digest_per_hr_contact_at_8_in_their_zone(
    pool: Pool, tag: str
) -> None:
    clock = [NOW]
    notifier = Notifier(pool, Answers(contacts(tag)), LINKS, clock=lambda: clock[0])
    stream = Stream(tag)
    await notifier.handle(stream.matched())
    for misses in (2, 3):
        escalated = stream.next(
            m.MentorshipEscalated(consecutive_misses=misses, reason="missed conversations")
        )
        await notifier.handle(escalated)

    # 12:00 UTC on the 10th; the next 08:00 in Berlin is 07:00 UTC on the 11th.
    assert await notifier.record_due_digests() == 0
    clock[0] = datetime(2027, 3, 11, 6, 59, tzinfo=UTC)
    assert await notifier.record_due_digests() == 0
    clock[0] = datetime(2027, 3, 11, 7, 0, tzinfo=UTC)
    assert await notifier.record_due_digests() == 1
    assert await notifier.record_due_digests() == 0
    digest = await pool.fetchrow(
        "SELECT subject, text_body, category FROM notifications.outbox WHERE category = 'digest'"
    )
    assert digest is not None
    assert digest["subject"] == "Mentoring escalations: 2 since your last digest"
    assert digest["text_body"].count(stream.stream_id) == 2


async def test_an_event_without_a_message_asks_nobody_and_one_not_understood_keeps_its_place(
    pool: Pool, tag: str
) -> None:
    directory = Answers(contacts(tag))
    notifier = Notifier(pool, directory, LINKS, clock=lambda: NOW)
    stream = Stream(tag)
    await notifier.handle(stream.matched())
    goal = stream.next(
        m.GoalSet(goal_id="g-1", horizon="short", description="sealed:v2:x:y", motivation="")
    )
    stream.version += 1
    newer = EventEnvelope.model_validate(
        {
            **envelope(
                stream.stream_id,
                stream.version,
                m.RematchRequested(mentee_id=f"b-{tag}", previous_mentor_id=f"a-{tag}", reason=""),
                NOW,
            ).model_dump(),
            "event_type": "SomethingNewer",
            "data": {"what": "a producer newer than this notifier"},
        }
    )
    missed = stream.next(
        m.ConversationMissed(
            conversation_number=1,
            due_at=NOW,
            consecutive_misses=1,
            next_conversation_due=NOW + timedelta(days=14),
        )
    )

    assert await notifier.handle(goal) == 0
    assert directory.calls == 1  # the match only
    assert await notifier.handle(newer) == 0
    assert await notifier.handle(missed) == 2  # at once: no gap left by the unknown event


async def test_a_leaver_and_a_reporting_line_conflict_reach_hr_once_with_ids_only(
    pool: Pool, tag: str
) -> None:
    directory = Answers(contacts(tag))
    notifier = Notifier(pool, directory, LINKS, clock=lambda: NOW)
    relationship = d.DepartedRelationship(
        stream_id=f"mentorship-c-1-b-{tag}",
        cohort_id="c-1",
        side="mentor",
        other_id=f"b-{tag}",
        paused=True,
        resume_by=NOW + timedelta(days=14),
    )
    started = envelope(
        f"person-a-{tag}",
        3,
        d.DepartureStarted(
            person_id=f"a-{tag}",
            deactivation_event_id="e-1",
            deactivated_at=NOW,
            relationships=[relationship],
        ),
        NOW,
    )
    conflict = envelope(
        f"person-b-{tag}",
        2,
        d.ReportingLineConflictFound(
            person_id=f"b-{tag}",
            change_event_id="e-2",
            stream_id=relationship.stream_id,
            cohort_id="c-1",
            mentor_id=f"a-{tag}",
            mentee_id=f"b-{tag}",
            reporting_line=[f"m-{tag}", f"a-{tag}"],
            proposed_mentor_id=f"c-{tag}",
            proposed_score=0.61,
        ),
        NOW,
    )

    assert await notifier.handle(started) == 1
    assert await notifier.handle(started, delivery=2) == 0
    assert await notifier.handle(conflict) == 1

    rows = await pool.fetch(
        "SELECT recipient, subject, text_body FROM notifications.outbox "
        "WHERE event_id = ANY($1::uuid[]) ORDER BY subject",
        [started.event_id, conflict.event_id],
    )
    assert [(row["recipient"], row["subject"]) for row in rows] == [
        (f"hr-{tag}", "A mentor is now in their mentee's reporting line"),
        (f"hr-{tag}", "A participant left: 1 relationship(s) paused"),
    ]
    assert f"Proposed rematch: mentor c-{tag} (score 0.61)" in rows[0]["text_body"]
    assert f"{relationship.stream_id} (cohort c-1, as mentor): paused" in rows[1]["text_body"]
    assert "Ada" not in rows[0]["text_body"] + rows[1]["text_body"]  # ids, never names
    # The contacts route asks for at least one participant: the people the event is about.
    assert directory.asked == [[f"a-{tag}"], [f"a-{tag}"], sorted({f"a-{tag}", f"b-{tag}"})]
