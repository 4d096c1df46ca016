"""Quiet hours and digest times: wall-clock rules in a person's zone, answered in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.errors import InvalidNotificationInput
from notifications.schedule import QuietHours, next_digest_at

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22, 0), time(7, 0))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Quiet hours


def test_quiet_hours_within_one_day_hold_from_start_until_just_before_end() -> None:
    lunch = QuietHours(time(12, 0), time(14, 0))

    assert not lunch.contains(utc(2027, 1, 4, 11, 59), "UTC")
    assert lunch.contains(utc(2027, 1, 4, 12, 0), "UTC")
    assert lunch.contains(utc(2027, 1, 4, 13, 59), "UTC")
    assert not lunch.contains(utc(2027, 1, 4, 14, 0), "UTC")
    assert lunch.next_allowed(utc(2027, 1, 4, 12, 30), "UTC") == utc(2027, 1, 4, 14, 0)


def test_quiet_hours_spanning_midnight_end_the_next_morning_in_the_persons_zone() -> None:
    # Asia/Tokyo is UTC+9: 22:00 to 07:00 there is 13:00 to 22:00 UTC.
    assert not NIGHT.contains(utc(2027, 1, 4, 12, 59), "Asia/Tokyo")
    assert NIGHT.contains(utc(2027, 1, 4, 13, 0), "Asia/Tokyo")
    assert NIGHT.contains(utc(2027, 1, 4, 21, 59), "Asia/Tokyo")
    assert not NIGHT.contains(utc(2027, 1, 4, 22, 0), "Asia/Tokyo")
    # Before and after local midnight, the quiet hours end the same morning.
    assert NIGHT.next_allowed(utc(2027, 1, 4, 13, 30), "Asia/Tokyo") == utc(2027, 1, 4, 22, 0)
    assert NIGHT.next_allowed(utc(2027, 1, 4, 17, 0), "Asia/Tokyo") == utc(2027, 1, 4, 22, 0)


def test_one_instant_is_quiet_in_one_zone_and_not_in_another() -> None:
    instant = utc(2027, 1, 4, 14, 0)  # 23:00 in Tokyo, 15:00 in Berlin

    assert NIGHT.contains(instant, "Asia/Tokyo")
    assert not NIGHT.contains(instant, "Europe/Berlin")
    assert NIGHT.next_allowed(instant, "Europe/Berlin") == instant


def test_an_instant_outside_is_answered_as_itself_in_utc() -> None:
    instant = datetime(2027, 1, 4, 15, 0, tzinfo=BERLIN)

    allowed = NIGHT.next_allowed(instant, "Europe/Berlin")

    assert allowed == instant
    assert allowed.tzinfo is UTC


def test_quiet_hours_ending_in_the_spring_gap_end_when_the_clocks_jump() -> None:
    # On 2027-03-28 Berlin's clocks go from 02:00 CET to 03:00 CEST (01:00 UTC): 02:30 is
    # never shown, and the first instant after the gap is 03:00 local.
    quiet = QuietHours.parse("22:00", "02:30")
    jump = utc(2027, 3, 28, 1, 0)

    for instant in (utc(2027, 3, 27, 21, 30), utc(2027, 3, 28, 0, 59)):
        assert quiet.contains(instant, "Europe/Berlin")
        assert quiet.next_allowed(instant, "Europe/Berlin") == jump
    assert jump.astimezone(BERLIN).time() == time(3, 0)


def test_quiet_hours_in_the_repeated_autumn_hour_follow_the_wall_clock() -> None:
    # On 2027-10-31 Berlin's clocks go back from 03:00 CEST to 02:00 CET (01:00 UTC):
    # 02:30 is shown at 00:30 UTC and again at 01:30 UTC.
    quiet = QuietHours.parse("22:00", "02:30")

    assert quiet.next_allowed(utc(2027, 10, 30, 21, 0), "Europe/Berlin") == utc(2027, 10, 31, 0, 30)
    # 02:15 the second time round is quiet again, until the second 02:30.
    assert quiet.contains(utc(2027, 10, 31, 1, 15), "Europe/Berlin")
    assert quiet.next_allowed(utc(2027, 10, 31, 1, 15), "Europe/Berlin") == utc(2027, 10, 31, 1, 30)


def test_a_skipped_day_does_not_end_the_quiet_hours_inside_the_next_night() -> None:
    # Samoa skipped 2011-12-30: after 23:59:59 on the 29th (UTC-10) came 00:00 on the 31st
    # (UTC+14), inside the quiet hours again, which then end at 07:00 on the 31st.
    allowed = NIGHT.next_allowed(utc(2011, 12, 30, 9, 0), "Pacific/Apia")

    assert allowed.astimezone(ZoneInfo("Pacific/Apia")) == datetime(
        2011, 12, 31, 7, 0, tzinfo=ZoneInfo("Pacific/Apia")
    )


def test_parse_reads_hours_and_minutes() -> None:
    assert QuietHours.parse("22:30", "06:45") == QuietHours(time(22, 30), time(6, 45))


@pytest.mark.parametrize(
    ("start", "end", "named"),
    [
        ("24:00", "07:00", ["start '24:00'"]),
        ("22:00", "7am", ["end '7am'"]),
        ("", "7:00", ["start ''", "end '7:00'"]),
        ("22:60", "22:00 ", ["start '22:60'", "end '22:00 '"]),
    ],
)
def test_parse_names_every_bad_value(start: str, end: str, named: list[str]) -> None:
    with pytest.raises(InvalidNotificationInput) as refused:
        QuietHours.parse(start, end)

    assert isinstance(refused.value, ValueError)
    assert len(refused.value.problems) == len(named)
    for name in named:
        assert name in str(refused.value)


def test_equal_start_and_end_are_refused() -> None:
    with pytest.raises(ValueError, match="both 22:00; they must differ"):
        QuietHours.parse("22:00", "22:00")
    with pytest.raises(ValueError, match="they must differ"):
        QuietHours(time(1, 0), time(1, 0))


def test_a_naive_instant_and_an_unknown_zone_are_both_named() -> None:
    with pytest.raises(ValueError, match="at must be an aware datetime") as refused:
        NIGHT.next_allowed(datetime(2027, 1, 4, 23, 0), "Europe/Nowhere")

    assert "unknown time zone 'Europe/Nowhere'" in str(refused.value)


ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Australia/Lord_Howe",  # a half-hour daylight-saving shift
        "Pacific/Chatham",  # UTC+12:45 / +13:45
        "America/Santiago",  # clocks change at midnight
        "Pacific/Apia",  # skipped a whole day
    ]
)
CLOCKS = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))
INSTANTS = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(start=CLOCKS, end=CLOCKS, at=INSTANTS, zone=ZONES)
def test_next_allowed_is_the_first_instant_outside_the_quiet_hours(
    start: time, end: time, at: datetime, zone: str
) -> None:
    if start == end:
        return
    quiet = QuietHours(start, end)

    allowed = quiet.next_allowed(at, zone)

    assert allowed.utcoffset() == timedelta(0)
    assert allowed >= at
    assert not quiet.contains(allowed, zone)
    if not quiet.contains(at, zone):
        assert allowed == at
    else:
        # The instant just before is still quiet: nothing earlier was allowed.
        assert quiet.contains(allowed - timedelta(microseconds=1), zone)
        assert allowed - at <= timedelta(days=2)


# Digests


def test_a_daily_digest_is_the_next_local_eight_strictly_after() -> None:
    assert next_digest_at(utc(2027, 1, 4, 6, 0), "Europe/Berlin", "daily") == utc(2027, 1, 4, 7, 0)
    assert next_digest_at(utc(2027, 1, 4, 7, 0), "Europe/Berlin", "daily") == utc(2027, 1, 5, 7, 0)
    assert next_digest_at(utc(2027, 1, 4, 7, 0), "Asia/Tokyo", "daily", at=time(18, 30)) == utc(
        2027, 1, 4, 9, 30
    )


def test_a_weekly_digest_waits_for_its_weekday() -> None:
    wednesday = utc(2027, 1, 6, 12, 0)
    monday_eight = utc(2027, 1, 11, 7, 0)

    assert next_digest_at(wednesday, "Europe/Berlin", "weekly") == monday_eight
    assert next_digest_at(monday_eight, "Europe/Berlin", "weekly") == utc(2027, 1, 18, 7, 0)
    assert next_digest_at(wednesday, "Europe/Berlin", "weekly", weekday=2) == utc(2027, 1, 13, 7, 0)


def test_a_digest_in_the_persons_zone_can_fall_on_another_utc_day() -> None:
    # Monday 08:00 in Tokyo is Sunday 23:00 UTC.
    assert next_digest_at(utc(2027, 1, 6, 12, 0), "Asia/Tokyo", "weekly") == utc(2027, 1, 10, 23, 0)


def test_digests_keep_their_local_time_across_daylight_saving_changes() -> None:
    sent = utc(2027, 3, 6, 12, 0)  # a Saturday; New York springs forward on the 14th
    weekly: list[datetime] = []
    for _ in range(3):
        sent = next_digest_at(sent, "America/New_York", "weekly", at=time(7, 30))
        weekly.append(sent)

    local = [instant.astimezone(ZoneInfo("America/New_York")) for instant in weekly]
    assert all((moment.weekday(), moment.time()) == (0, time(7, 30)) for moment in local)
    assert [instant.hour for instant in weekly] == [12, 11, 11]

    assert next_digest_at(utc(2027, 3, 27, 7, 0), "Europe/Berlin", "daily") == utc(
        2027, 3, 28, 6, 0
    )
    assert next_digest_at(utc(2027, 10, 30, 6, 0), "Europe/Berlin", "daily") == utc(
        2027, 10, 31, 7, 0
    )


def test_a_digest_time_the_clocks_skip_goes_out_when_they_jump() -> None:
    assert next_digest_at(utc(2027, 3, 27, 12, 0), "Europe/Berlin", "daily", at=time(2, 30)) == utc(
        2027, 3, 28, 1, 0
    )


def test_a_digest_time_the_clocks_repeat_counts_once_the_first_time() -> None:
    first = next_digest_at(utc(2027, 10, 30, 12, 0), "Europe/Berlin", "daily", at=time(2, 30))
    following = next_digest_at(first, "Europe/Berlin", "daily", at=time(2, 30))

    assert first == utc(2027, 10, 31, 0, 30)
    assert following == utc(2027, 11, 1, 1, 30)  # not the second 02:30 an hour later


def test_bad_digest_arguments_are_refused_naming_each() -> None:
    with pytest.raises(InvalidNotificationInput) as refused:
        next_digest_at(
            datetime(2027, 1, 4),
            "Nowhere",
            "monthly",  # type: ignore[arg-type]
            at=time(8, 0, tzinfo=UTC),
        )

    assert len(refused.value.problems) == 4
    for expected in ("after must be an aware", "'Nowhere'", "'monthly'", "wall-clock time"):
        assert expected in str(refused.value)
    with pytest.raises(ValueError, match="weekday 7 is not 0"):
        next_digest_at(utc(2027, 1, 4), "UTC", "weekly", weekday=7)


@given(after=INSTANTS, zone=ZONES, clock=CLOCKS, weekly=st.booleans(), weekday=st.integers(0, 6))
def test_a_digest_is_the_first_matching_local_time_after(
    after: datetime, zone: str, clock: time, weekly: bool, weekday: int
) -> None:
    timezone = ZoneInfo(zone)

    digest = next_digest_at(after, zone, "weekly" if weekly else "daily", at=clock, weekday=weekday)

    local = digest.astimezone(timezone)
    assert digest.utcoffset() == timedelta(0)
    assert digest > after
    assert digest - after <= timedelta(days=8 if weekly else 2)
    if local.time() == clock:
        assert not weekly or local.weekday() == weekday
    else:
        # Only a time the clocks skipped is replaced, by the instant they jump at.
        before_jump = (digest - timedelta(microseconds=1)).astimezone(timezone)
        assert before_jump.utcoffset() != local.utcoffset()
        assert before_jump.time() < clock < local.time() or local.time() < before_jump.time()
