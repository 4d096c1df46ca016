"""A relationship's conversations as one recurring iCalendar series, read back as a client would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from icalendar import Calendar, Event, vRecur

from notifications.calendar import (
    ConversationSeries,
    InvitationMethod,
    invitation,
    series_uid,
)
from notifications.errors import InvalidNotificationInput

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
STAMP = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
DOMAIN = "example.com"


def a_series(**changes: object) -> ConversationSeries:
    series = ConversationSeries(
        relationship_id="mentorship-3f2a9c1e",
        summary="Mentoring conversation",
        description="Log it in the console:\nhttps://console.example.com/r/3f2a",
        organizer="mentorflow@example.com",
        attendees=("mentor@example.org", "mentee@example.net"),
        first_due=datetime(2027, 3, 16, 9, 0, tzinfo=BERLIN),
        cadence=timedelta(days=14),
        until=datetime(2027, 9, 1, tzinfo=UTC),
        sequence=0,
        url="https://console.example.com/r/3f2a",
    )
    return dataclasses.replace(series, **changes)  # type: ignore[arg-type]


def build(
    series: ConversationSeries, zone: str = "Europe/Berlin", method: InvitationMethod = "REQUEST"
) -> bytes:
    return invitation(series, zone, method, domain=DOMAIN, stamp=STAMP)


def parsed(ical: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(ical)
    [event] = calendar.events
    return calendar, event


def start_of(event: Event) -> datetime:
    start = event.start
    assert isinstance(start, datetime)
    return start


def rule_of(event: Event) -> vRecur:
    [rule] = event.rrules
    assert isinstance(rule, vRecur)
    return rule


def tzid_of(event: Event) -> str:
    start: Any = event["DTSTART"]
    return str(start.params["TZID"])


def occurrences(event: Event) -> list[datetime]:
    """The series expanded as a client would: its RRULE from the parsed DTSTART."""
    text = rule_of(event).to_ical()  # type: ignore[no-untyped-call]
    expanded = rrulestr(text.decode(), dtstart=start_of(event))
    return list(expanded)


def test_an_invitation_reads_back_with_its_method_people_and_local_start() -> None:
    ical = build(a_series(sequence=3))

    calendar, event = parsed(ical)

    assert b"\r\n" in ical
    assert b"\n" not in ical.replace(b"\r\n", b"")
    assert calendar.method == "REQUEST"
    assert calendar.version == "2.0"
    assert "mentorflow" in calendar.prodid
    assert event.uid == series_uid("mentorship-3f2a9c1e", DOMAIN)
    assert event.sequence == 3
    assert event.status == "CONFIRMED"
    assert event.summary == "Mentoring conversation"
    assert event.description == "Log it in the console:\nhttps://console.example.com/r/3f2a"
    assert event.url == "https://console.example.com/r/3f2a"
    assert event.DTSTAMP == STAMP
    assert tzid_of(event) == "Europe/Berlin"
    assert start_of(event) == datetime(2027, 3, 16, 9, 0, tzinfo=BERLIN)
    assert start_of(event).astimezone(BERLIN).hour == 9
    assert event.end == start_of(event) + timedelta(hours=1)
    assert [timezone.tz_name for timezone in calendar.timezones] == ["Europe/Berlin"]
    assert calendar.get_missing_tzids() == set()
    assert str(event.organizer) == "mailto:mentorflow@example.com"
    attendees = event.attendees
    assert [str(attendee) for attendee in attendees] == [
        "mailto:mentor@example.org",
        "mailto:mentee@example.net",
    ]
    for attendee in attendees:
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "FALSE"


def test_the_uid_stays_while_the_sequence_and_the_next_date_change() -> None:
    first = a_series(sequence=0)
    changed = a_series(sequence=1, first_due=datetime(2027, 4, 20, 9, 0, tzinfo=BERLIN))

    _, before = parsed(build(first))
    _, after = parsed(build(changed))

    assert before.uid == after.uid
    assert after.uid.endswith("@example.com")
    assert (before.sequence, after.sequence) == (0, 1)
    assert start_of(after) == datetime(2027, 4, 20, 9, 0, tzinfo=BERLIN)
    assert series_uid("mentorship-other", DOMAIN) != before.uid


def test_the_same_arguments_give_the_same_bytes() -> None:
    assert build(a_series()) == build(a_series())


@pytest.mark.parametrize(
    ("zone", "first_local", "until", "offsets"),
    [
        pytest.param(
            BERLIN,
            datetime(2027, 3, 16, 9, 0),
            datetime(2027, 4, 20, 12, 0, tzinfo=UTC),
            {timedelta(hours=1), timedelta(hours=2)},
            id="berlin-spring",
        ),
        pytest.param(
            NEW_YORK,
            datetime(2027, 2, 23, 9, 0),
            datetime(2027, 3, 30, 18, 0, tzinfo=UTC),
            {timedelta(hours=-5), timedelta(hours=-4)},
            id="new-york-spring",
        ),
        pytest.param(
            BERLIN,
            datetime(2027, 10, 12, 9, 0),
            datetime(2027, 11, 16, 12, 0, tzinfo=UTC),
            {timedelta(hours=2), timedelta(hours=1)},
            id="berlin-autumn",
        ),
    ],
)
def test_a_weekly_series_stays_at_nine_local_across_a_daylight_saving_change(
    zone: ZoneInfo, first_local: datetime, until: datetime, offsets: set[timedelta]
) -> None:
    series = a_series(
        first_due=first_local.replace(tzinfo=zone), cadence=timedelta(days=7), until=until
    )

    _, event = parsed(build(series, zone=str(zone)))
    expanded = occurrences(event)

    assert rule_of(event)["FREQ"] == ["WEEKLY"]
    assert len(expanded) == 6
    assert all(occurrence.astimezone(zone).time().hour == 9 for occurrence in expanded)
    assert all(occurrence.astimezone(zone).minute == 0 for occurrence in expanded)
    assert {occurrence.astimezone(zone).utcoffset() for occurrence in expanded} == offsets
    # Written in UTC, the series would keep its UTC hour; the local one holds instead.
    assert len({occurrence.astimezone(UTC).hour for occurrence in expanded}) == 2


def test_the_same_series_in_berlin_and_tokyo_starts_at_the_same_instant() -> None:
    series = a_series(first_due=datetime(2027, 3, 16, 8, 0, tzinfo=UTC))

    _, mentor = parsed(build(series, zone="Europe/Berlin"))
    tokyo_calendar, mentee = parsed(build(series, zone="Asia/Tokyo"))

    assert mentor.uid == mentee.uid
    assert (tzid_of(mentor), tzid_of(mentee)) == ("Europe/Berlin", "Asia/Tokyo")
    assert [timezone.tz_name for timezone in tokyo_calendar.timezones] == ["Asia/Tokyo"]
    assert start_of(mentor).astimezone(BERLIN).hour == 9
    assert start_of(mentee).astimezone(TOKYO).hour == 17
    assert start_of(mentor) == start_of(mentee) == datetime(2027, 3, 16, 8, 0, tzinfo=UTC)


def test_a_cancel_keeps_the_uid_and_marks_the_series_cancelled() -> None:
    _, request = parsed(build(a_series(sequence=2)))

    calendar, cancel = parsed(build(a_series(sequence=3), method="CANCEL"))

    assert calendar.method == "CANCEL"
    assert cancel.status == "CANCELLED"
    assert cancel.uid == request.uid
    assert cancel.sequence == 3


@pytest.mark.parametrize(
    ("cadence", "frequency", "interval"),
    [
        (timedelta(days=14), "WEEKLY", 2),
        (timedelta(days=7), "WEEKLY", 1),
        (timedelta(days=10), "DAILY", 10),
        (timedelta(days=1), "DAILY", 1),
        (timedelta(hours=2), "HOURLY", 2),
        (timedelta(minutes=30), "MINUTELY", 30),
        (timedelta(seconds=90), "MINUTELY", 2),
        (timedelta(seconds=20), "MINUTELY", 1),
    ],
)
def test_the_rule_follows_the_cadence(cadence: timedelta, frequency: str, interval: int) -> None:
    _, event = parsed(build(a_series(cadence=cadence)))

    assert rule_of(event)["FREQ"] == [frequency]
    assert rule_of(event)["INTERVAL"] == [interval]


def test_a_sub_day_series_ends_at_its_until_in_utc() -> None:
    first = datetime(2027, 5, 3, 10, 0, tzinfo=UTC)
    series = a_series(
        first_due=first,
        cadence=timedelta(minutes=30),
        until=first + timedelta(hours=2, minutes=10),
        duration=timedelta(minutes=15),
    )

    ical = build(series)
    _, event = parsed(ical)

    assert b"UNTIL=20270503T121000Z" in ical
    assert occurrences(event) == [first + timedelta(minutes=30 * step) for step in range(5)]


def test_the_last_occurrence_of_a_daily_rhythm_is_at_or_before_the_until() -> None:
    until = datetime(2027, 3, 30, 7, 59, tzinfo=UTC)
    series = a_series(cadence=timedelta(days=3), until=until)

    _, event = parsed(build(series))
    expanded = occurrences(event)

    assert expanded[-1] <= until < expanded[-1] + timedelta(days=3)
    assert expanded[-1].astimezone(BERLIN) == datetime(2027, 3, 28, 9, 0, tzinfo=BERLIN)


def test_a_first_date_after_the_program_end_is_a_single_event() -> None:
    series = a_series(until=datetime(2027, 3, 1, tzinfo=UTC))

    _, event = parsed(build(series))

    assert event.rrules == []
    assert start_of(event) == datetime(2027, 3, 16, 9, 0, tzinfo=BERLIN)


def test_a_series_without_attendees_has_none() -> None:
    _, event = parsed(build(a_series(attendees=())))

    assert event.attendees == []


def test_bad_arguments_are_refused_naming_every_problem() -> None:
    series = a_series(
        first_due=datetime(2027, 3, 16, 9, 0),
        cadence=timedelta(0),
        sequence=-1,
        summary="Mentoring\r\nBCC: someone",
        attendees=("mentor@example.org", "not an address"),
    )

    with pytest.raises(InvalidNotificationInput) as refused:
        invitation(series, "Mars/Olympus", "REQUEST", domain=DOMAIN, stamp=STAMP)

    assert isinstance(refused.value, ValueError)
    message = str(refused.value)
    for expected in (
        "first_due must be an aware datetime",
        "cadence must be positive",
        "sequence must be 0 or more",
        "summary must be one line",
        "attendee 2 is not an email address",
        "unknown time zone 'Mars/Olympus'",
    ):
        assert expected in message
    assert len(refused.value.problems) == 6
    assert "not an address" not in message


def test_a_naive_stamp_an_unknown_method_and_a_bad_domain_are_refused() -> None:
    with pytest.raises(ValueError, match="stamp must be an aware datetime") as refused:
        invitation(
            a_series(),
            "Europe/Berlin",
            "PUBLISH",  # type: ignore[arg-type]
            domain="",
            stamp=datetime(2027, 3, 1),
        )

    assert "'PUBLISH' is neither" in str(refused.value)
    assert "domain '' is not a domain name" in str(refused.value)
