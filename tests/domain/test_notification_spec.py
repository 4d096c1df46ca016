"""The cohort spec's notifications block and participants' email addresses: parsed, and every
problem named with its path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from domain.cohort_spec import CohortSpec, ParticipantSpec, joining_problems, parse_cohort_spec
from domain.cohort_state import with_participant
from domain.notification_spec import NotificationsSpec, QuietHours, email_problem
from tests.domain.test_cohort_spec import problems_of, valid_document

SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"


def with_notifications() -> dict[str, Any]:
    document = valid_document()
    document["participants"][0]["email"] = "ada.obi@example.com"
    document["participants"][1]["email"] = "bruno+mentoring@mail.example.org"
    document["notifications"] = {
        "channel": "email",
        "quiet_hours": {"start": "21:00", "end": "07:00"},
        "hr_contacts": [
            {
                "id": "hr-ops",
                "name": "HR Operations",
                "email": "hr@example.com",
                "timezone": "Europe/Berlin",
                "digest": "weekly",
            },
            {"id": "hr-2", "name": "Dana", "email": "dana@example.com", "timezone": "UTC"},
        ],
        "webhooks": [
            {"kind": "slack", "url": SLACK},
            {"kind": "teams", "url": "https://example.webhook.office.com/webhookb2/abc"},
        ],
    }
    return document


def test_a_valid_notifications_block_parses() -> None:
    spec = parse_cohort_spec(with_notifications())

    assert spec.participants[0].email == "ada.obi@example.com"
    assert spec.participants[2].email is None
    notifications = spec.notifications
    assert notifications.channel == "email"
    assert notifications.quiet_hours == QuietHours(start="21:00", end="07:00")
    assert [(c.id, c.digest) for c in notifications.hr_contacts] == [
        ("hr-ops", "weekly"),
        ("hr-2", "daily"),
    ]
    assert [w.kind for w in notifications.webhooks] == ["slack", "teams"]
    assert notifications.webhooks[0].url == SLACK


def test_a_spec_without_the_block_gets_the_defaults() -> None:
    spec = parse_cohort_spec(valid_document())

    assert spec.notifications == NotificationsSpec()
    assert spec.notifications.channel == "email"
    assert spec.notifications.quiet_hours is None
    assert spec.notifications.hr_contacts == ()


def test_unquoted_yaml_times_are_read_as_times_not_base_60_numbers() -> None:
    text = yaml.safe_dump(with_notifications(), sort_keys=False)
    text = text.replace("'21:00'", "21:00").replace("'07:00'", "07:00")
    assert "start: 21:00" in text

    spec = parse_cohort_spec(text, "yaml")

    assert spec == parse_cohort_spec(with_notifications())


def test_a_spec_with_the_block_reads_back_unchanged_and_built_directly_is_the_same() -> None:
    spec = parse_cohort_spec(with_notifications())
    dumped = spec.model_dump(mode="json")

    assert parse_cohort_spec(json.dumps(dumped)) == spec
    assert CohortSpec.model_validate(dumped) == spec


@pytest.mark.parametrize("format", ["json", "yaml", "data"])
def test_every_problem_of_the_block_is_named_with_its_path(format: str) -> None:
    document = with_notifications()
    document["participants"][1]["email"] = "bruno at example.com"
    notifications = document["notifications"]
    notifications["channel"] = "sms"
    notifications["quiet_hours"] = {"start": "22:00", "end": "22:00"}
    notifications["hr_contacts"][0]["email"] = "hr@@example.com"
    notifications["hr_contacts"][1].update(id="hr-ops", timezone="Mars/Base", digest="hourly")
    notifications["hr_contacts"].append(
        {"id": "p-002", "name": "Clash", "email": "c@example.com", "timezone": "UTC", "x": 1}
    )
    notifications["webhooks"][0]["url"] = "http://hooks.example.com/plain"
    notifications["webhooks"][1]["kind"] = "irc"
    notifications["pager"] = True

    problems = problems_of(document, format)

    at = "not an email address such as ada@example.com"
    assert problems == [
        f"participants[1].email: {at}: contains a space or other white space",
        "notifications.channel: Input should be 'email' or 'none' (got 'sms')",
        "notifications.quiet_hours: start and end are both 22:00: quiet hours need a window",
        f"notifications.hr_contacts[0].email: {at}: must contain exactly one '@'",
        "notifications.hr_contacts[1].timezone: unknown IANA time zone 'Mars/Base'",
        "notifications.hr_contacts[1].digest: Input should be 'daily', 'weekly' or 'off' "
        "(got 'hourly')",
        "notifications.hr_contacts[2].x: unknown field",
        "notifications.webhooks[0].url: not a webhook URL: must be an https:// URL",
        "notifications.webhooks[1].kind: Input should be 'slack' or 'teams' (got 'irc')",
        "notifications.pager: unknown field",
        "notifications.hr_contacts[1].id: duplicate id 'hr-ops' "
        "(also notifications.hr_contacts[0])",
        "notifications.hr_contacts[2].id: 'p-002' is also the id of participants[1]; HR "
        "contact ids must differ from participant ids",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda n: n.update(quiet_hours={"start": "7:00", "end": "24:00"}),
            [
                "notifications.quiet_hours.start: '7:00' must be a time of day as HH:MM, "
                "from 00:00 to 23:59",
                "notifications.quiet_hours.end: '24:00' must be a time of day as HH:MM, "
                "from 00:00 to 23:59",
            ],
        ),
        (
            lambda n: n.update(quiet_hours={"start": "21:00"}),
            ["notifications.quiet_hours.end: required field is missing"],
        ),
        (
            lambda n: n.update(
                hr_contacts=[{**n["hr_contacts"][0], "id": f"hr-{i}"} for i in range(21)]
            ),
            ["notifications.hr_contacts: Tuple should have at most 20 items after validation"],
        ),
        (
            lambda n: n.update(webhooks=[n["webhooks"][0]] * 6),
            ["notifications.webhooks: Tuple should have at most 5 items after validation"],
        ),
        (
            lambda n: n["webhooks"][0].update(url="https://" + "a" * 2050 + ".example.com"),
            ["notifications.webhooks[0].url: String should have at most 2048 characters"],
        ),
        (
            lambda n: n["webhooks"][0].update(url="https://user:secret@hooks.example.com/x"),
            [
                "notifications.webhooks[0].url: not a webhook URL: must not carry a user name "
                "or password before the host"
            ],
        ),
        (
            lambda n: n["hr_contacts"][0].update(name="HR\x00Ops"),
            ["notifications.hr_contacts[0].name: contains the control character U+0000"],
        ),
        (
            lambda n: n.update(hr_contacts="hr@example.com"),
            ["notifications.hr_contacts: Input should be a valid tuple"],
        ),
    ],
)
def test_each_problem_names_its_field(change: Any, expected: list[str]) -> None:
    document = copy.deepcopy(with_notifications())
    change(document["notifications"])

    problems = problems_of(document, "data")

    for problem in expected:
        assert any(p.startswith(problem) for p in problems), problems
    assert len(problems) == len(expected), problems


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "x@xn--80ak6aa92e.xn--p1ai",
        f"{'a' * 64}@{'b' * 63}.{'c' * 63}.example.com",
    ],
)
def test_ordinary_addresses_are_accepted(address: str) -> None:
    assert email_problem(address) is None


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("", "exactly one '@'"),
        ("ada.example.com", "exactly one '@'"),
        ("ada@b@example.com", "exactly one '@'"),
        ("ada @example.com", "white space"),
        ("ada@example.com\n", "white space"),
        ("ada\x00@example.com", "U+0000"),
        ("ada\x7f@example.com", "U+007F"),
        ("@example.com", "1 to 64 characters"),
        (f"{'a' * 65}@example.com", "1 to 64 characters"),
        (".ada@example.com", "single dots"),
        ("ada..obi@example.com", "single dots"),
        ('"ada"@example.com', "single dots"),
        ("zoë@example.com", "single dots"),
        ("ada@localhost", "domain name"),
        ("ada@-example.com", "domain name"),
        ("ada@example.com.", "domain name"),
        ("ada@[127.0.0.1]", "domain name"),
        ("ada@exämple.com", "domain name"),
        (f"ada@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 63}.com", "domain name"),
        ("a" * 300 + "@" + "b" * 30 + ".com", "longer than 320"),
        ("sealed:v1:p-1:AAAA@example.com", "sealed value"),
    ],
)
def test_malformed_addresses_are_refused_naming_the_problem(address: str, problem: str) -> None:
    found = email_problem(address)

    assert found is not None
    assert problem in found, found


def test_a_problem_never_quotes_the_address() -> None:
    document = with_notifications()
    document["participants"][0]["email"] = "secret-person example.com"
    document["notifications"]["webhooks"][0]["url"] = "http://hooks.example.com/T0/SECRET"

    problems = problems_of(document, "data")

    assert len(problems) == 2, problems
    assert not any("secret-person" in p or "SECRET" in p for p in problems), problems


def test_models_built_directly_refuse_hr_ids_that_are_participant_ids() -> None:
    document = with_notifications()
    document["notifications"]["hr_contacts"][1]["id"] = "p-003"

    with pytest.raises(ValidationError, match=r"'p-003' is also the id of participants\[2\]"):
        CohortSpec.model_validate(document)


def test_a_late_joiner_with_an_hr_contacts_id_is_refused_at_its_location() -> None:
    spec = parse_cohort_spec(with_notifications())
    joiner = ParticipantSpec(
        id="hr-ops", name="Late", roles=["mentor"], seniority=5, timezone="UTC", manager_id="x"
    )

    problems = joining_problems(spec, joiner)

    assert problems == [
        "participants[3].manager_id: unknown participant 'x'",
        "notifications.hr_contacts[0].id: 'hr-ops' is also the id of participants[3]; HR "
        "contact ids must differ from participant ids",
    ]
    with pytest.raises(ValueError, match="'hr-ops' is also the id of participants"):
        with_participant(spec, joiner)
    assert joining_problems(spec, joiner.model_copy(update={"id": "p-9", "manager_id": None})) == []
