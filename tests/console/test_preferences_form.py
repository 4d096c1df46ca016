"""The notification-preferences form, without servers: choices in, the API's request body out,
every problem by input; the unsubscribe categories the page knows."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from domain.notification_spec import QuietHours
from mentorflow.api.models.preferences import (
    NotificationPreferencesRequest,
    NotificationPreferencesView,
)
from mentorflow.console.forms import FormInvalid
from mentorflow.console.preferences_form import (
    UNSUBSCRIBE,
    form_choices,
    read_preferences_form,
    stopped,
    unsubscribe_of,
)
from notifications.messages import COMPLIANCE

NOTHING = NotificationPreferencesView(person_id="p-1")
STORED = NotificationPreferencesView(
    person_id="p-1",
    channel="email",
    quiet_hours=QuietHours(start="21:00", end="07:00"),
    digest="weekly",
)


def _read(*fields: tuple[str, str], with_digest: bool = False) -> NotificationPreferencesRequest:
    return read_preferences_form(FormData(list(fields)), STORED, with_digest=with_digest)


def _problems(*fields: tuple[str, str], with_digest: bool = False) -> dict[str, list[str]]:
    with pytest.raises(FormInvalid) as refused:
        _read(*fields, with_digest=with_digest)
    return refused.value.problems.by_field


def test_a_window_is_read_as_the_apis_quiet_hours_and_a_participant_keeps_their_digest() -> None:
    body = _read(
        ("channel", "none"),
        ("quiet_hours", "window"),
        ("quiet_start", "22:30"),
        ("quiet_end", "06:45"),
        ("digest", "daily"),  # not on a participant's form: ignored
    )

    assert body == NotificationPreferencesRequest(
        channel="none", quiet_hours=QuietHours(start="22:30", end="06:45"), digest="weekly"
    )


def test_default_and_off_are_null_and_off_and_times_are_ignored_without_a_window() -> None:
    defaults = _read(
        ("channel", "default"),
        ("quiet_hours", "default"),
        ("quiet_start", "25:99"),
        ("digest", "default"),
        with_digest=True,
    )
    off = _read(("quiet_hours", "off"), ("digest", "off"), with_digest=True)

    assert defaults == NotificationPreferencesRequest()
    assert off == NotificationPreferencesRequest(quiet_hours="off", digest="off")


def test_every_problem_of_a_form_is_named_by_its_input() -> None:
    problems = _problems(
        ("channel", "sms"),
        ("quiet_hours", "window"),
        ("quiet_start", "25:00"),
        ("quiet_end", ""),
        ("digest", "hourly"),
        with_digest=True,
    )
    unknown_mode = _problems(("quiet_hours", "sometimes"))

    assert problems == {
        "channel": ["Choose one of the options."],
        "digest": ["Choose one of the options."],
        "quiet_start": ["'25:00' must be a time of day as HH:MM, from 00:00 to 23:59."],
        "quiet_end": ["Give a time of day as HH:MM, from 00:00 to 23:59."],
    }
    assert unknown_mode == {"quiet_hours": ["Choose one of the options."]}


def test_a_bad_time_and_an_empty_window_get_the_api_models_own_words() -> None:
    bad_time = _problems(("quiet_hours", "window"), ("quiet_start", "25:00"), ("quiet_end", "7:00"))
    empty = _problems(("quiet_hours", "window"), ("quiet_start", "22:00"), ("quiet_end", "22:00"))

    assert bad_time == {
        "quiet_start": ["'25:00' must be a time of day as HH:MM, from 00:00 to 23:59."],
        "quiet_end": ["'7:00' must be a time of day as HH:MM, from 00:00 to 23:59."],
    }
    assert empty == {"quiet_hours": ["Start and end are both 22:00: quiet hours need a window."]}


def test_the_form_shows_the_stored_choices() -> None:
    assert form_choices(STORED) == {
        "channel": "email",
        "quiet_hours": "window",
        "quiet_start": "21:00",
        "quiet_end": "07:00",
        "digest": "weekly",
    }
    assert form_choices(NOTHING) == {
        "channel": "default",
        "quiet_hours": "default",
        "quiet_start": "",
        "quiet_end": "",
        "digest": "default",
    }
    assert form_choices(NOTHING.model_copy(update={"quiet_hours": "off"}))["quiet_hours"] == "off"


def test_stopping_changes_one_choice_and_keeps_the_others() -> None:
    reminders = unsubscribe_of("reminders")
    digest = unsubscribe_of("digest")
    escalations = unsubscribe_of("escalations")
    assert reminders is not None
    assert digest is not None
    assert escalations is not None

    assert stopped(STORED, reminders) == NotificationPreferencesRequest(
        channel="none", quiet_hours=QuietHours(start="21:00", end="07:00"), digest="weekly"
    )
    assert stopped(STORED, digest).model_dump() == {
        **stopped(STORED, reminders).model_dump(),
        "channel": "email",
        "digest": "off",
    }
    with pytest.raises(ValueError, match="escalations"):
        stopped(STORED, escalations)


def test_only_the_unsubscribable_categories_are_known() -> None:
    assert unsubscribe_of(None) is None
    assert unsubscribe_of("") is None
    assert unsubscribe_of("<script>") is None
    assert unsubscribe_of("match") is None  # sent whatever the channel: no unsubscribe link
    assert set(UNSUBSCRIBE) == {
        "reminders",
        "nudges",
        "check_ins",
        "surveys",
        "calendar",
        "onboarding",
        "escalations",
        "review_outcomes",
        "digest",
    }
    assert not set(UNSUBSCRIBE) & COMPLIANCE
