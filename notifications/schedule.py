"""When a notification may go out: a person's quiet hours and the times of their digests.

Both are wall-clock rules in the person's own IANA zone ("no mail between 22:00 and 07:00",
"the digest at 08:00 on Mondays"), answered as aware UTC instants that the notifier can
compare and store. Daylight-saving changes are where wall clocks and instants part:

* **A time the clocks skip** (02:30 on the spring-forward night in Berlin) is replaced by
  the first instant after the gap, the moment the clocks jump (03:00 local).
* **A time the clocks show twice** (02:30 on the fall-back night) is, for a digest, its
  first occurrence only: one digest a day. Quiet hours are read off the wall clock, so in
  the repeated hour they may end at the first 02:30 and, the clocks having gone back,
  begin again until the second one; `QuietHours.next_allowed` always answers an instant
  outside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from notifications.errors import InvalidNotificationInput
from notifications.zones import load_zone, zone_problem

DigestFrequency = Literal["daily", "weekly"]

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_ONE_DAY = timedelta(days=1)
_RESOLUTION = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The local hours in which a person gets no notification.

    Attributes:
        start: Local wall-clock time quiet begins (inclusive).
        end: Local wall-clock time quiet ends (exclusive). Earlier than ``start`` when the
            quiet hours span midnight (22:00 to 07:00).

    Raises:
        InvalidNotificationInput: ``start`` equals ``end`` (empty or whole-day quiet is
            ambiguous), or either carries a time zone.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        problems = [
            f"quiet hours {name} must be a wall-clock time without a time zone"
            for name, value in (("start", self.start), ("end", self.end))
            if value.tzinfo is not None
        ]
        if self.start == self.end:
            problems.append(
                f"quiet hours start and end are both {self.start:%H:%M}; they must differ"
            )
        if problems:
            raise InvalidNotificationInput(problems)

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        """Quiet hours from two ``"HH:MM"`` strings (24-hour clock).

        Args:
            start: When quiet begins, e.g. ``"22:00"``.
            end: When quiet ends, e.g. ``"07:00"``.

        Raises:
            InvalidNotificationInput: Naming each string that is not a time of day, or
                both times being equal.
        """
        problems: list[str] = []
        clocks: list[time] = []
        for name, text in (("start", start), ("end", end)):
            match = _CLOCK.fullmatch(text)
            if match is None:
                problems.append(
                    f"quiet hours {name} {text!r} is not a time of day as HH:MM (00:00 to 23:59)"
                )
            else:
                clocks.append(time(int(match[1]), int(match[2])))
        if problems:
            raise InvalidNotificationInput(problems)
        return cls(clocks[0], clocks[1])

    @property
    def spans_midnight(self) -> bool:
        """Whether the quiet hours begin on one day and end on the next."""
        return self.start > self.end

    def contains(self, at: datetime, zone: str) -> bool:
        """Whether the wall clock in ``zone`` reads a quiet time at ``at``.

        Args:
            at: An aware instant.
            zone: The person's IANA zone.

        Raises:
            InvalidNotificationInput: ``at`` is naive or ``zone`` is unknown.
        """
        timezone = _checked(at, zone)
        return self._covers(at.astimezone(timezone).time())

    def next_allowed(self, at: datetime, zone: str) -> datetime:
        """The first instant from ``at`` on that is outside the quiet hours, in UTC.

        That is ``at`` itself when it is outside them, else the instant the quiet hours
        end: the first after ``at`` whose local time in ``zone`` is ``end`` or, when the
        clocks skip ``end`` that day, the moment they jump past it.

        Args:
            at: An aware instant.
            zone: The person's IANA zone.

        Raises:
            InvalidNotificationInput: ``at`` is naive or ``zone`` is unknown.
        """
        timezone = _checked(at, zone)
        candidate = at.astimezone(UTC)
        # One step ends the quiet stretch `at` is in. A second is needed only when the clocks
        # skip so far that the jump lands in the next night's quiet hours (Samoa skipped a
        # whole day in 2011); a third never.
        for _ in range(3):
            if not self._covers(candidate.astimezone(timezone).time()):
                return candidate
            candidate = _first_reading_after(candidate, self.end, timezone)
        raise AssertionError("quiet hours never ended within three steps")  # pragma: no cover

    def _covers(self, clock: time) -> bool:
        if self.spans_midnight:
            return clock >= self.start or clock < self.end
        return self.start <= clock < self.end


def next_digest_at(
    after: datetime,
    zone: str,
    frequency: DigestFrequency,
    *,
    at: time = time(8, 0),
    weekday: int = 0,
) -> datetime:
    """The next time a digest goes out: strictly after ``after``, in UTC.

    The first instant after ``after`` when the local time in ``zone`` is ``at`` (on
    ``weekday`` for a weekly digest). A skipped ``at`` (spring forward) is replaced by the
    moment the clocks jump past it; a repeated one (fall back) counts once, the first time.

    Args:
        after: An aware instant, typically when the last digest went out.
        zone: The person's IANA zone.
        frequency: ``"daily"`` or ``"weekly"``.
        at: The local wall-clock time of the digest.
        weekday: The day of a weekly digest, Monday = 0 to Sunday = 6; ignored for daily.

    Raises:
        InvalidNotificationInput: Naming every bad argument.
    """
    problems = _instant_problems(after, "after") + _zone_problems(zone)
    if frequency not in ("daily", "weekly"):
        problems.append(f"digest frequency {frequency!r} is neither 'daily' nor 'weekly'")
    if at.tzinfo is not None:
        problems.append("the digest time must be a wall-clock time without a time zone")
    if frequency == "weekly" and weekday not in range(7):
        problems.append(f"digest weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)")
    if problems:
        raise InvalidNotificationInput(problems)
    timezone = load_zone(zone)
    first_day = after.astimezone(timezone).date() - _ONE_DAY
    # Eight days from the day before hold a match for either frequency.
    for offset in range(9):
        day = first_day + offset * _ONE_DAY
        if frequency == "weekly" and day.weekday() != weekday:
            continue
        instant = _readings(day, at, timezone)[0]
        if instant > after:
            return instant
    raise AssertionError("no digest time within nine days")  # pragma: no cover


def _first_reading_after(instant: datetime, clock: time, timezone: ZoneInfo) -> datetime:
    """The first instant after ``instant`` at which the wall clock reads ``clock``."""
    first_day = instant.astimezone(timezone).date() - _ONE_DAY
    for offset in range(4):
        for reading in _readings(first_day + offset * _ONE_DAY, clock, timezone):
            if reading > instant:
                return reading
    raise AssertionError("a wall-clock time did not recur within four days")  # pragma: no cover


def _readings(day: date, clock: time, timezone: ZoneInfo) -> tuple[datetime, ...]:
    """The UTC instants at which the wall clock in ``timezone`` reads ``clock`` on ``day``.

    Usually one; two, earliest first, when the clocks go back over it; and when they skip
    it, the one instant they jump at (the first valid time after the gap).
    """
    wall = datetime.combine(day, clock)
    # PEP 495: fold=0 reads a wall time with the offset before a transition, fold=1 with
    # the offset after. Equal readings: an ordinary time. fold=0 first: a repeated time.
    # fold=0 last: a skipped time, and the jump lies between the two readings.
    before = wall.replace(tzinfo=timezone, fold=0).astimezone(UTC)
    after = wall.replace(tzinfo=timezone, fold=1).astimezone(UTC)
    if before == after:
        return (before,)
    if before < after:
        return (before, after)
    return (_transition_between(after, before, timezone),)


def _transition_between(earlier: datetime, later: datetime, timezone: ZoneInfo) -> datetime:
    """The first instant in (``earlier``, ``later``] with ``later``'s UTC offset.

    A bisection: zoneinfo offers no transition list, and a gap is at most a day wide, so
    some forty halvings reach the microsecond (transitions fall on whole seconds).
    """
    offset = later.astimezone(timezone).utcoffset()
    while later - earlier > _RESOLUTION:
        middle = earlier + (later - earlier) / 2
        if middle.astimezone(timezone).utcoffset() == offset:
            later = middle
        else:
            earlier = middle
    return later


def _checked(at: datetime, zone: str) -> ZoneInfo:
    problems = _instant_problems(at, "at") + _zone_problems(zone)
    if problems:
        raise InvalidNotificationInput(problems)
    return load_zone(zone)


def _instant_problems(value: datetime, name: str) -> list[str]:
    if value.tzinfo is None or value.utcoffset() is None:
        return [f"{name} must be an aware datetime (with a time zone), not a naive one"]
    return []


def _zone_problems(zone: str) -> list[str]:
    problem = zone_problem(zone)
    return [] if problem is None else [problem]
