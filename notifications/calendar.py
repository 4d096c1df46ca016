"""A relationship's conversations as one recurring calendar series (iCalendar, iTIP).

Each person gets one series per relationship, not one event per conversation: a
``METHOD:REQUEST`` invitation puts it in their calendar, a later one with the same ``UID``
and a higher ``SEQUENCE`` updates it (a new rhythm, a new next date after a pause), and
``METHOD:CANCEL`` removes it when the relationship ends::

    series = ConversationSeries(relationship_id, "Mentoring conversation", description,
                                organizer, attendees, first_due, cadence, until, sequence)
    attachment = invitation(series, "Europe/Berlin", "REQUEST", domain=domain, stamp=now)

**Identity.** ``UID`` is a uuid5 of the relationship id (`series_uid`), so every invitation
of one relationship names the same series; ``SEQUENCE`` is the caller's, raised on each
change, which is how calendars tell the newest version. Nothing in an invitation is random
or read from the clock: the same arguments give the same bytes, so a resend is the same
message, as for the mails (`notifications.mail`).

**Wall-clock recurrence.** ``DTSTART`` is written in the person's own zone, with a ``TZID``
and the matching ``VTIMEZONE``, and the ``RRULE`` recurs in that local time: a conversation
at 09:00 in Berlin stays at 09:00 after the clocks change, which is what people expect of a
recurring meeting. The workflow's due instants are UTC plus the cadence instead, so after a
daylight-saving change an occurrence and its due instant are an hour apart; that is
harmless, as a conversation has a grace period of days. It also means that two invitations
of one series in zones that change their clocks differently (a mentor in Berlin, a mentee
in Tokyo) describe the same first instant but drift apart by that hour afterwards; a caller
wanting both calendars to agree to the instant sends both the same zone. Sub-day cadences
(accelerated test programs) recur by the hour or minute, in local time too.

Personal data: addresses go into the invitation, never into an error message or a log.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from icalendar import Calendar, Event, Timezone, vCalAddress, vRecur
from icalendar.enums import STATUS

from notifications.errors import InvalidNotificationInput

# The outbox's own rule, so that an address it would take is one an invitation takes.
from notifications.models import _ADDRESS as _OUTBOX_ADDRESS
from notifications.zones import load_zone, zone_problem

InvitationMethod = Literal["REQUEST", "CANCEL"]

SERIES_NAMESPACE = uuid.UUID("0d6a3f5e-8b7c-4f21-9e3a-5c1b2d4e6f70")
"""Fixed namespace of the uuid5 in every series ``UID``: never change it, or calendars no
longer recognise the invitations after the change as updates of the series they hold."""

PRODID = "-//mentorflow//conversation series//EN"

_ADDRESS = re.compile(_OUTBOX_ADDRESS)
_DOMAIN = re.compile(r"[^@\s<>,;]+")
_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_STATUS: dict[str, STATUS] = {"REQUEST": STATUS.CONFIRMED, "CANCEL": STATUS.CANCELLED}


@dataclass(frozen=True, slots=True)
class ConversationSeries:
    """The recurring conversations of one relationship, as a calendar sees them.

    Constructing one checks nothing; `invitation` refuses a series with `problems`.

    Attributes:
        relationship_id: The relationship's stream id, stable for its life; the ``UID``.
        summary: The event title, one line with no personal free text.
        description: Plain text, e.g. with a console URL.
        organizer: The sender address.
        attendees: The email addresses of the two people (may be empty).
        first_due: Aware; the next conversation's due instant.
        cadence: The conversation rhythm (whole days, or minutes in accelerated programs).
        until: Aware; the program end, after which no occurrence falls.
        sequence: iTIP ``SEQUENCE``, at least 0, raised by the caller on each change.
        duration: How long each conversation is blocked in the calendar.
        url: A link for the event, e.g. to the console.
    """

    relationship_id: str
    summary: str
    description: str
    organizer: str
    attendees: tuple[str, ...]
    first_due: datetime
    cadence: timedelta
    until: datetime
    sequence: int
    duration: timedelta = timedelta(hours=1)
    url: str | None = None

    def problems(self) -> list[str]:
        """Every reason this series cannot be an invitation; empty when it can be."""
        problems: list[str] = []
        if not self.relationship_id:
            problems.append("the relationship id is empty")
        if "\r" in self.summary or "\n" in self.summary:
            problems.append("the summary must be one line (it holds a line break)")
        if _ADDRESS.fullmatch(self.organizer) is None:
            problems.append("the organizer is not an email address")
        problems.extend(
            f"attendee {position} is not an email address"
            for position, address in enumerate(self.attendees, start=1)
            if _ADDRESS.fullmatch(address) is None
        )
        for name, value in (("first_due", self.first_due), ("until", self.until)):
            if value.tzinfo is None or value.utcoffset() is None:
                problems.append(f"{name} must be an aware datetime (with a time zone)")
        if self.cadence <= timedelta(0):
            problems.append(f"the cadence must be positive, not {self.cadence}")
        if self.duration <= timedelta(0):
            problems.append(f"the duration must be positive, not {self.duration}")
        if self.sequence < 0:
            problems.append(f"the sequence must be 0 or more, not {self.sequence}")
        if self.url is not None and (not self.url or any(c.isspace() for c in self.url)):
            problems.append("the url must be non-empty and hold no white space")
        return problems


def series_uid(relationship_id: str, domain: str) -> str:
    """The ``UID`` of a relationship's series: the same for every invitation of it.

    Args:
        relationship_id: The relationship's stream id.
        domain: The right-hand side, the sender address's domain.

    Raises:
        InvalidNotificationInput: The domain is empty or not a domain.
    """
    problems = _domain_problems(domain)
    if problems:
        raise InvalidNotificationInput(problems)
    return f"{uuid.uuid5(SERIES_NAMESPACE, relationship_id)}@{domain}"


def invitation(
    series: ConversationSeries,
    zone: str,
    method: InvitationMethod,
    *,
    domain: str,
    stamp: datetime,
) -> bytes:
    """The iTIP message for one person: a ``VCALENDAR`` with the series and its zone.

    Args:
        series: The relationship's conversations.
        zone: The person's IANA zone, in which the series is written and recurs.
        method: ``"REQUEST"`` to add or update the series, ``"CANCEL"`` to remove it
            (with a raised ``series.sequence``).
        domain: The sender address's domain, the right-hand side of the ``UID``.
        stamp: Aware; when this version of the series was decided (``DTSTAMP``).

    Returns:
        The calendar as bytes with CRLF line endings, ready to attach as ``text/calendar``.

    Raises:
        InvalidNotificationInput: Naming every problem of the arguments.
    """
    problems = series.problems() + _domain_problems(domain)
    zone_error = zone_problem(zone)
    if zone_error is not None:
        problems.append(zone_error)
    if method not in _STATUS:
        problems.append(f"the method {method!r} is neither 'REQUEST' nor 'CANCEL'")
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        problems.append("stamp must be an aware datetime (with a time zone)")
    if problems:
        raise InvalidNotificationInput(problems)

    timezone = load_zone(zone)
    # iCalendar has whole seconds; cutting off the rest keeps UNTIL at or before `until`.
    start = series.first_due.astimezone(timezone).replace(microsecond=0)
    until = series.until.astimezone(UTC).replace(microsecond=0)
    event = Event.new(
        uid=series_uid(series.relationship_id, domain),
        sequence=series.sequence,
        stamp=stamp.astimezone(UTC).replace(microsecond=0),
        start=start,
        end=start + series.duration,
        summary=series.summary,
        description=series.description,
        organizer=vCalAddress.new(series.organizer),
        attendees=[_attendee(address) for address in series.attendees],
        status=_STATUS[method],
        url=series.url,
    )
    if start <= until:
        event.add("RRULE", _recurrence(series.cadence, until))

    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("METHOD", method)
    calendar.add_component(event)
    last = max(start, until.astimezone(timezone)) + series.duration
    if zone != "UTC":
        calendar.add_component(_vtimezone(zone, start.year - 1, last.year + 1))
    ical: bytes = calendar.to_ical()
    return ical


@functools.lru_cache(maxsize=256)
def _vtimezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """The ``VTIMEZONE`` of ``zone`` over whole years (icalendar computes it slowly: tens of
    milliseconds, scanning the zone's offsets; the same few zones and years recur)."""
    return Timezone.from_tzid(
        zone, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )


def _recurrence(cadence: timedelta, until: datetime) -> vRecur:
    """The ``RRULE`` of a cadence: weeks or days when whole, else hours or minutes."""
    if cadence % _ONE_DAY == timedelta(0):
        days = cadence // _ONE_DAY
        frequency, interval = ("WEEKLY", days // 7) if days % 7 == 0 else ("DAILY", days)
    else:
        minutes = max(1, round(cadence / _ONE_MINUTE))
        frequency, interval = (
            ("HOURLY", minutes // 60) if minutes % 60 == 0 else ("MINUTELY", minutes)
        )
    # RFC 5545 3.3.10: with a DTSTART in a zone, UNTIL is in UTC (the "Z" form).
    return vRecur({"FREQ": frequency, "INTERVAL": interval, "UNTIL": until})


def _attendee(address: str) -> vCalAddress:
    return vCalAddress.new(address, role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp=False)


def _domain_problems(domain: str) -> list[str]:
    if _DOMAIN.fullmatch(domain) is None:
        return [f"the domain {domain!r} is not a domain name"]
    return []
