"""The cohort spec's ``notifications`` block and participants' email addresses.

What the notifier needs from HR's spec: the participants' default channel and quiet hours,
the HR contacts who receive HR-facing notices (with their digest frequency) and the
program's webhooks (Slack, Teams). People may override the defaults for themselves
(``PUT /people/{id}/notification-preferences``); the values here are the program's.

Field rules live on the models, as in the rest of the spec; the one rule that needs the
whole cohort (HR contact ids distinct among themselves and from participant ids) is
`hr_contact_problems`, run by `domain.cohort_spec` with the participants' ids.

Email addresses and webhook URLs are personal or secret: problems name what is wrong with
them, never the value itself (problem lists travel to callers and parked bus messages).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from domain.spec_fields import Name, ParticipantId, TimeZoneName
from domain.text import text_problem

MAX_EMAIL_LENGTH = 320
"""The longest address SMTP allows: 64 before the ``@``, 255 after it."""
MAX_HR_CONTACTS = 20
MAX_WEBHOOKS = 5
MAX_WEBHOOK_URL_LENGTH = 2048

CLOCK_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
"""A time of day, ``HH:MM`` on a 24-hour clock."""

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
_WHITESPACE = re.compile(r"\s")

Channel = Literal["email", "none"]
"""How a participant is reached: by email, or not at all."""
Digest = Literal["daily", "weekly", "off"]
"""How often an HR contact gets the digest of HR-facing notices."""
WebhookKind = Literal["slack", "teams"]


def email_problem(value: str) -> str | None:
    """Why ``value`` is not an email address mentorflow sends to, or None when it is.

    Deliberately stricter than RFC 5322: ASCII only (an internationalised domain in its
    ``xn--`` form), no quoted local parts, no comments, a domain name with at least one dot.
    """
    if (unsafe := text_problem(value)) is not None:
        return unsafe
    if len(value) > MAX_EMAIL_LENGTH:
        return f"longer than {MAX_EMAIL_LENGTH} characters"
    if _WHITESPACE.search(value):
        return "contains a space or other white space"
    if value.count("@") != 1:
        return "must contain exactly one '@'"
    local, domain = value.split("@")
    if not 1 <= len(local) <= 64:
        return "the part before the '@' must be 1 to 64 characters"
    if not _LOCAL_PART.fullmatch(local):
        return (
            "the part before the '@' may hold ASCII letters, digits and !#$%&'*+/=?^_`{|}~- "
            "and single dots between them"
        )
    if len(domain) > 255 or not _DOMAIN.fullmatch(domain):
        return "the part after the '@' must be a domain name such as example.com"
    return None


def _require_email(value: str) -> str:
    problem = email_problem(value)
    if problem is not None:
        raise ValueError(f"not an email address such as ada@example.com: {problem}")
    return value


def _require_clock_time(value: str) -> str:
    if not re.fullmatch(CLOCK_TIME_PATTERN, value):
        raise ValueError(f"{value!r} must be a time of day as HH:MM, from 00:00 to 23:59")
    return value


def webhook_url_problem(value: str) -> str | None:
    """Why ``value`` is not a webhook URL mentorflow posts to, or None when it is."""
    if (unsafe := text_problem(value)) is not None:
        return unsafe
    if len(value) > MAX_WEBHOOK_URL_LENGTH:
        return f"longer than {MAX_WEBHOOK_URL_LENGTH} characters"
    if _WHITESPACE.search(value):
        return "contains a space or other white space"
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "is not a URL"
    if parts.scheme != "https":
        return "must be an https:// URL"
    if not host:
        return "has no host name"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password before the host"
    return None


def _require_webhook_url(value: str) -> str:
    problem = webhook_url_problem(value)
    if problem is not None:
        raise ValueError(f"not a webhook URL: {problem}")
    return value


EmailAddress = Annotated[
    str,
    Field(
        max_length=MAX_EMAIL_LENGTH,
        description="An email address (ASCII, one '@', a domain name with a dot)",
        examples=["ada@example.com"],
    ),
    AfterValidator(_require_email),
]
ClockTime = Annotated[
    str,
    Field(
        description="A time of day, HH:MM on a 24-hour clock",
        examples=["21:00"],
        json_schema_extra={"pattern": CLOCK_TIME_PATTERN},
    ),
    AfterValidator(_require_clock_time),
]
WebhookUrl = Annotated[
    str,
    Field(max_length=MAX_WEBHOOK_URL_LENGTH, description="An https:// URL"),
    AfterValidator(_require_webhook_url),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Model):
    """A daily window in which nobody is notified, in the recipient's own time zone.

    ``end`` before ``start`` spans midnight (21:00 to 07:00).
    """

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError(f"start and end are both {self.start}: quiet hours need a window")
        return self


QUIET_HOURS_OFF: Literal["off"] = "off"


def _off_or_window(value: Any, _handler: ValidatorFunctionWrapHandler) -> Any:
    # Validated here rather than as a plain union, so that a wrong window is reported at
    # quiet_hours.start / .end, not once per member of the union.
    if value is None or value == QUIET_HOURS_OFF:
        return value
    if isinstance(value, str):
        raise ValueError("expected {'start': 'HH:MM', 'end': 'HH:MM'}, 'off' or null")
    return QuietHours.model_validate(value)


QuietHoursChoice = Annotated[
    QuietHours | Literal["off"] | None,
    WrapValidator(_off_or_window),
    Field(
        description="A window ({start, end} as HH:MM in the person's time zone), 'off' for "
        "none, or null for the program's default"
    ),
]
"""A person's own quiet hours: a window, ``"off"`` (none, whatever the program's), or None
(the program's default)."""


class HrContact(_Model):
    """Someone in HR who receives HR-facing notices (escalations, unmatched mentees)."""

    id: ParticipantId = Field(description="Unique in the cohort, also among participant ids")
    name: Name
    email: EmailAddress
    timezone: TimeZoneName = Field(description="IANA time zone name, e.g. Europe/Berlin")
    digest: Digest = "daily"


class Webhook(_Model):
    """A program-level post of HR-facing notices to a chat channel."""

    kind: WebhookKind
    url: WebhookUrl


class NotificationsSpec(_Model):
    """How the program notifies: participants' defaults, HR contacts, webhooks."""

    channel: Channel = Field(default="email", description="Participants' default channel")
    quiet_hours: QuietHours | None = Field(
        default=None, description="Participants' default quiet hours; null: none"
    )
    hr_contacts: Annotated[tuple[HrContact, ...], Field(max_length=MAX_HR_CONTACTS)] = ()
    webhooks: Annotated[tuple[Webhook, ...], Field(max_length=MAX_WEBHOOKS)] = ()


def hr_contact_problems(
    raw_contacts: Sequence[object], participant_ids: Mapping[str, int]
) -> list[str]:
    """HR contact ids repeated, or also a participant's id, each at its location.

    Args:
        raw_contacts: The ``hr_contacts`` items as far as they could be read (a contact that
            failed its own validation still has its id checked).
        participant_ids: Each participant id and its first index in ``participants``.
    """
    problems: list[str] = []
    first_index: dict[str, int] = {}
    for index, contact in enumerate(raw_contacts):
        contact_id = _readable_id(contact)
        if contact_id is None:
            continue
        where = f"notifications.hr_contacts[{index}].id"
        if contact_id in first_index:
            problems.append(
                f"{where}: duplicate id {contact_id!r} "
                f"(also notifications.hr_contacts[{first_index[contact_id]}])"
            )
            continue
        first_index[contact_id] = index
        if contact_id in participant_ids:
            problems.append(
                f"{where}: {contact_id!r} is also the id of "
                f"participants[{participant_ids[contact_id]}]; HR contact ids must differ "
                "from participant ids"
            )
    return problems


def _readable_id(contact: object) -> str | None:
    if isinstance(contact, HrContact):
        return contact.id
    if isinstance(contact, Mapping):
        raw: Any = contact.get("id")
        return raw if isinstance(raw, str) else None
    return None
