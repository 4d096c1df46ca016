"""What an event means, to whom (`notifications.messages.plan`, `notifications.pairs`): pure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import icalendar

from events import DomainEvent
from events import mentorship as m
from events.personal import SEALED_PREFIX
from notifications.directory import (
    CohortContacts,
    HrContact,
    PersonContact,
    QuietHoursWindow,
    Webhook,
)
from notifications.messages import COMPLIANCE, Links, Occasion, Plan, plan
from notifications.models import Channel
from notifications.pairs import PairState

STREAM = "mentorship-eng-2027-q1-p-002"
LINKS = Links(console="https://mentoring.example.org", from_address="mentorflow@example.org")
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
ADA = PersonContact(
    person_id="p-001", name="Ada Obi", email="ada@example.org", timezone="Europe/Berlin"
)
BEN = PersonContact(
    person_id="p-002", name="Ben Kim", email="ben@example.org", timezone="Asia/Tokyo"
)
HR = HrContact(id="hr-ops", name="HR Ops", email="hr@example.org", timezone="Europe/Berlin")
CONTACTS = CohortContacts(cohort_id="eng-2027-q1", people=[ADA, BEN], hr_contacts=[HR])


def matched() -> m.MentorshipMatched:
    return m.MentorshipMatched(
        cohort_id="eng-2027-q1",
        mentor_id="p-001",
        mentee_id="p-002",
        match_score=0.8,
        reasons=["covers python", "shares engineering-management"],
        program_ends_at=datetime(2027, 6, 1, tzinfo=UTC),
        conversation_cadence=timedelta(days=14),
    )


def run(
    *events: DomainEvent, contacts: CohortContacts = CONTACTS, now: datetime = NOW
) -> tuple[PairState, list[Plan]]:
    """Fold the events one by one as the notifier does; the plan of each."""
    pair, plans = PairState(), []
    for event in events:
        change = pair.follow(event, now)
        plans.append(
            plan(Occasion(uuid.uuid4(), STREAM, event, now), pair, change, contacts, LINKS)
        )
    return pair, plans


def test_a_match_is_announced_to_both_with_the_reasons_and_the_other_persons_name() -> None:
    _, (announcement,) = run(matched())

    by_address = {message.address: message for message in announcement.messages}
    assert set(by_address) == {"ada@example.org", "ben@example.org"}
    assert "Ben Kim" in by_address["ada@example.org"].text_body
    assert "Ada Obi" in by_address["ben@example.org"].text_body
    assert "covers python" in by_address["ben@example.org"].text_body
    assert all(message.category == "match" for message in announcement.messages)
    assert "List-Unsubscribe" not in by_address["ada@example.org"].headers  # compliance
    assert f"{LINKS.console}/relationships/{STREAM}" in by_address["ada@example.org"].text_body


def test_a_reminder_carries_the_series_in_each_persons_zone_and_can_be_unsubscribed() -> None:
    due = datetime(2027, 3, 16, 8, 0, tzinfo=UTC)
    _, (_, reminders) = run(matched(), m.ConversationReminderDue(conversation_number=1, due_at=due))

    by_address = {message.address: message for message in reminders.messages}
    ada, ben = by_address["ada@example.org"], by_address["ben@example.org"]
    assert "Tue 16 Mar 2027, 09:00 (Europe/Berlin)" in ada.text_body
    assert "Tue 16 Mar 2027, 17:00 (Asia/Tokyo)" in ben.text_body
    assert ada.headers["List-Unsubscribe"].startswith(f"<{LINKS.console}/preferences")
    calendars = [icalendar.Calendar.from_ical(m.calendar or "") for m in (ada, ben)]
    events = [next(iter(c.walk("VEVENT"))) for c in calendars]
    assert events[0]["UID"] == events[1]["UID"]
    assert events[0].decoded("DTSTART").astimezone(UTC) == due
    # One series for both, recurring in the mentee's zone: the same instants for both.
    assert {str(event.decoded("DTSTART").tzinfo) for event in events} == {"Asia/Tokyo"}
    assert events[0].decoded("DTSTART") == events[1].decoded("DTSTART")
    assert str(calendars[0]["METHOD"]) == "REQUEST"


def test_a_moved_rhythm_raises_the_sequence_and_the_close_cancels_the_series() -> None:
    due = datetime(2027, 3, 16, 8, 0, tzinfo=UTC)
    pair, plans = run(
        matched(),
        m.ConversationReminderDue(conversation_number=1, due_at=due),
        m.ConversationMissed(
            conversation_number=1,
            due_at=due,
            consecutive_misses=1,
            next_conversation_due=due + timedelta(days=17),  # off the fortnightly rhythm
        ),
        m.ClosureStarted(reason="completed", survey_closes_at=due + timedelta(days=30)),
    )

    sequences = [
        [
            (int(event.decoded("SEQUENCE")), str(cal["METHOD"]), str(event["UID"]))
            for message in p.messages
            if message.calendar
            for cal in [icalendar.Calendar.from_ical(message.calendar)]
            for event in cal.walk("VEVENT")
        ]
        for p in plans
    ]
    assert sequences[0] == []
    assert {s[:2] for s in sequences[1]} == {(0, "REQUEST")}
    assert {s[:2] for s in sequences[2]} == {(1, "REQUEST")}
    assert {s[:2] for s in sequences[3]} == {(2, "CANCEL")}
    assert len({s[2] for plan_ in sequences for s in plan_}) == 1
    assert pair.series is not None
    assert pair.series.cancelled


def test_an_on_rhythm_held_conversation_sends_no_calendar_update() -> None:
    due = datetime(2027, 3, 16, 8, 0, tzinfo=UTC)
    held = m.ConversationHeld(
        conversation_number=2,
        held_at=due - timedelta(hours=1),
        due_at=due,
        goal_ids=["g-1"],
        action_items=[
            m.ActionItem(item_id="a-1", owner="mentee", description="sealed:v2:x:y", due_at=due)
        ],
        next_conversation_due=due + timedelta(days=14),
    )
    _, plans = run(matched(), m.ConversationReminderDue(conversation_number=1, due_at=due), held)

    assert plans[2].messages == []


def test_a_check_in_goes_to_the_items_owner_only_and_carries_no_personal_text() -> None:
    event = m.ActionItemCheckInDue(item_id="a-1", owner="mentee", due_at=NOW)
    _, (_, check_in) = run(matched(), event)

    assert [message.address for message in check_in.messages] == ["ben@example.org"]
    assert SEALED_PREFIX not in check_in.messages[0].text_body


def test_an_escalation_goes_to_hr_now_to_their_digest_and_to_the_programs_webhooks() -> None:
    contacts = CONTACTS.model_copy(
        update={"webhooks": [Webhook(kind="slack", url="https://hooks.example.org/T/B/x")]}
    )
    event = m.MentorshipEscalated(consecutive_misses=2, reason="missed conversations")
    _, (_, escalation) = run(matched(), event, contacts=contacts)

    channels = {(message.channel, message.address) for message in escalation.messages}
    assert channels == {
        (Channel.EMAIL, "hr@example.org"),
        (Channel.WEBHOOK, "https://hooks.example.org/T/B/x"),
    }
    assert [item.recipient for item in escalation.digest_items] == ["hr-ops"]
    assert all("Ada" not in message.text_body for message in escalation.messages)


def test_channel_none_keeps_only_the_compliance_messages() -> None:
    quiet_ben = BEN.model_copy(update={"channel": "none"})
    contacts = CONTACTS.model_copy(update={"people": [ADA, quiet_ben]})
    due = datetime(2027, 3, 16, 8, 0, tzinfo=UTC)
    _, plans = run(
        matched(),
        m.ConversationReminderDue(conversation_number=1, due_at=due),
        m.ReviewSummaryWithheld(cycle_id="c-1"),
        contacts=contacts,
    )

    sent_to_ben = [
        message.category
        for p in plans
        for message in p.messages
        if message.address == "ben@example.org"
    ]
    assert sent_to_ben == ["match"]
    assert "match" in COMPLIANCE


def test_quiet_hours_defer_a_reminder_to_their_end_in_the_persons_zone() -> None:
    # 12:00 UTC is 21:00 in Tokyo: inside Ben's 20:00-07:00 quiet hours.
    window = QuietHoursWindow(start=time(20, 0), end=time(7, 0))
    contacts = CONTACTS.model_copy(
        update={"people": [ADA, BEN.model_copy(update={"quiet_hours": window})]}
    )
    due = datetime(2027, 3, 16, 8, 0, tzinfo=UTC)
    _, (_, reminders) = run(
        matched(), m.ConversationReminderDue(conversation_number=1, due_at=due), contacts=contacts
    )

    by_address = {message.address: message for message in reminders.messages}
    assert by_address["ada@example.org"].not_before is None
    assert by_address["ben@example.org"].not_before == datetime(2027, 3, 10, 22, 0, tzinfo=UTC)


def test_someone_the_directory_does_not_answer_unknown_or_forgotten_gets_nothing() -> None:
    contacts = CONTACTS.model_copy(update={"people": [ADA]})
    _, (announcement,) = run(matched(), contacts=contacts)

    assert [message.address for message in announcement.messages] == ["ada@example.org"]
    assert "your mentee" in announcement.messages[0].text_body
