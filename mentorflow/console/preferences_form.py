"""The notification-preferences form: its choices, the emails' unsubscribe categories, and a
posted form read into the API's own request body (`NotificationPreferencesRequest`).

The form offers a choice for every value the API stores: "the program's default" (null),
and each value of the channel, the quiet hours and the digest. It is validated by the API's
request model itself, so the console accepts exactly what ``PUT
/people/{id}/notification-preferences`` accepts; its problems are sorted by the input they
are about (`FieldProblems`).

An email's ``List-Unsubscribe`` link names its category (``?unsubscribe=reminders``). Only
the categories in `UNSUBSCRIBE` mean anything to the page; any other value is ignored and
never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError
from starlette.datastructures import FormData

from domain.notification_spec import QUIET_HOURS_OFF, Channel, Digest, QuietHours
from mentorflow.api.models.preferences import (
    NotificationPreferencesRequest,
    NotificationPreferencesView,
)
from mentorflow.console.forms import GENERAL, FieldProblems, FormInvalid

DEFAULT = "default"
"""The form's word for null: the program's default applies."""
WINDOW = "window"
"""The quiet-hours choice that takes a from–to window."""
CHANNELS: dict[str, Channel | None] = {DEFAULT: None, "email": "email", "none": "none"}
DIGESTS: dict[str, Digest | None] = {
    DEFAULT: None,
    "daily": "daily",
    "weekly": "weekly",
    "off": "off",
}
QUIET_HOURS = (DEFAULT, QUIET_HOURS_OFF, WINDOW)
FIELDS = ("channel", "quiet_hours", "quiet_start", "quiet_end", "digest")
"""The form's inputs; a problem is shown next to one of them, or above the form."""

Stops = Literal["channel", "digest"]


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """A kind of email that links to the page with ``?unsubscribe=<category>``.

    Attributes:
        category: The email's category (`notifications.messages`).
        what: The kind of email, in the page's words.
        stops: What the page's "stop" button changes: the channel (to none: only the
            messages about consent and the relationship's status still come), the digest
            (to off), or nothing, for the HR notices every HR contact of the cohort gets.
    """

    category: str
    what: str
    stops: Stops | None


UNSUBSCRIBE = {
    entry.category: entry
    for entry in (
        Unsubscribe("reminders", "reminders of your next conversation", "channel"),
        Unsubscribe("nudges", "nudges after a missed conversation", "channel"),
        Unsubscribe("check_ins", "check-ins on your action items", "channel"),
        Unsubscribe("surveys", "invitations to the closing survey", "channel"),
        Unsubscribe("calendar", "calendar updates of your conversations", "channel"),
        Unsubscribe("onboarding", "onboarding messages", "channel"),
        Unsubscribe("escalations", "escalations of relationships at risk", None),
        Unsubscribe("review_outcomes", "outcomes of review summaries", None),
        Unsubscribe("digest", "the digest of HR notices", "digest"),
    )
}
"""The categories whose emails carry ``List-Unsubscribe`` (not the consent and status
notices, which are sent whatever the channel)."""


def unsubscribe_of(category: str | None) -> Unsubscribe | None:
    """The kind of email ``category`` names; None for no category or an unknown one."""
    return UNSUBSCRIBE.get(category or "")


def form_choices(stored: NotificationPreferencesView) -> dict[str, str]:
    """What the form shows selected and typed for the stored choices."""
    window = stored.quiet_hours if isinstance(stored.quiet_hours, QuietHours) else None
    if window is not None:
        quiet_hours = WINDOW
    elif stored.quiet_hours == QUIET_HOURS_OFF:
        quiet_hours = QUIET_HOURS_OFF
    else:
        quiet_hours = DEFAULT
    return {
        "channel": stored.channel or DEFAULT,
        "quiet_hours": quiet_hours,
        "quiet_start": window.start if window else "",
        "quiet_end": window.end if window else "",
        "digest": stored.digest or DEFAULT,
    }


def typed_values(form: FormData) -> dict[str, str]:
    """The form's inputs as typed, to show them again with their problems."""
    return {name: _text(form, name) for name in FIELDS}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _choice(
    form: FormData, name: str, choices: Mapping[str, str | None], problems: FieldProblems
) -> str | None:
    value = _text(form, name) or DEFAULT
    if value not in choices:
        problems.add(name, "Choose one of the options.")
        return None
    return choices[value]


def _quiet_hours(form: FormData, problems: FieldProblems) -> dict[str, str] | Literal["off"] | None:
    mode = _text(form, "quiet_hours") or DEFAULT
    if mode not in QUIET_HOURS:
        problems.add("quiet_hours", "Choose one of the options.")
        return None
    if mode == DEFAULT:
        return None
    if mode == QUIET_HOURS_OFF:
        return QUIET_HOURS_OFF
    start, end = _text(form, "quiet_start"), _text(form, "quiet_end")
    for name, value in (("quiet_start", start), ("quiet_end", end)):
        if not value:
            problems.add(name, "Give a time of day as HH:MM, from 00:00 to 23:59.")
    return {"start": start, "end": end}


def read_preferences_form(
    form: FormData, stored: NotificationPreferencesView, *, with_digest: bool
) -> NotificationPreferencesRequest:
    """The API request body a posted form asks for.

    Args:
        form: The posted form.
        stored: The person's current choices.
        with_digest: Whether the form had the digest choice (HR's does); without it, the
            stored digest is kept.

    Raises:
        FormInvalid: Every problem of the form, by input.
    """
    problems = FieldProblems()
    channel = _choice(form, "channel", CHANNELS, problems)
    digest = _choice(form, "digest", DIGESTS, problems) if with_digest else stored.digest
    quiet_hours = _quiet_hours(form, problems)
    # The model checks the rest (the times, the window) even when a choice was refused, so
    # that the page names every problem at once; an input names its first problem only.
    values = {"channel": channel, "quiet_hours": quiet_hours, "digest": digest}
    try:
        body = NotificationPreferencesRequest.model_validate(values)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = _input_of(tuple(error["loc"]))
            if name not in problems.by_field:
                problems.add(name, _sentence(error["msg"]))
        raise FormInvalid(problems) from invalid
    if problems:
        raise FormInvalid(problems)
    return body


def _input_of(loc: tuple[int | str, ...]) -> str:
    if loc[:1] == ("quiet_hours",) and len(loc) > 1 and loc[1] in ("start", "end"):
        return f"quiet_{loc[1]}"
    return str(loc[0]) if loc and str(loc[0]) in FIELDS else GENERAL


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def stopped(
    stored: NotificationPreferencesView, entry: Unsubscribe
) -> NotificationPreferencesRequest:
    """The stored choices with the emails of ``entry`` stopped; the others as they are.

    Raises:
        ValueError: ``entry`` cannot be stopped from the page (HR notices).
    """
    if entry.stops is None:
        raise ValueError(f"{entry.category} emails are not stopped by a preference")
    kept = stored.model_dump(exclude={"person_id"})
    changed = {"channel": "none"} if entry.stops == "channel" else {"digest": "off"}
    return NotificationPreferencesRequest.model_validate({**kept, **changed})
