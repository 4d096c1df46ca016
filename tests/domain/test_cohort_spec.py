"""The cohort spec: parsing JSON and YAML, and naming every problem at once."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from domain.cohort_spec import (
    DEFAULT_TRAINING_MODULES,
    CohortSpec,
    CohortSpecInvalid,
    parse_cohort_spec,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "cohort-small.yaml"


def valid_document() -> dict[str, Any]:
    return {
        "cohort_id": "eng-2027-q1",
        "program": {
            "name": "Engineering Mentorship 2027",
            "starts_at": "2027-01-11T09:00:00+00:00",
            "ends_at": "2027-12-17T17:00:00+00:00",
            "review_cycles": ["2027-06-30T00:00:00+00:00"],
        },
        "participants": [
            {
                "id": "p-001",
                "name": "Ada Obi",
                "roles": ["mentor"],
                "seniority": 7,
                "timezone": "Europe/Berlin",
                "languages": ["en", "de"],
                "skills": {"python": 5, "leadership": 4},
                "career_objectives": ["engineering-management"],
                "traits": {
                    "openness": 0.7,
                    "conscientiousness": 0.8,
                    "extraversion": 0.4,
                    "agreeableness": 0.6,
                    "emotional_stability": 0.7,
                },
                "mentor_capacity": 3,
            },
            {
                "id": "p-002",
                "name": "Bruno Silva",
                "roles": ["mentee"],
                "manager_id": "p-003",
                "seniority": 3,
                "timezone": "America/Sao_Paulo",
                "wants_to_develop": ["python"],
            },
            {
                "id": "p-003",
                "name": "Chen Wei",
                "roles": ["mentor", "mentee"],
                "seniority": 6,
                "timezone": "Asia/Singapore",
            },
        ],
    }


def problems_of(document: Any, format: str = "json") -> list[str]:
    raw = document
    if format == "json":
        raw = json.dumps(document)
    elif format == "yaml":
        raw = yaml.safe_dump(document, sort_keys=False)
    with pytest.raises(CohortSpecInvalid) as caught:
        parse_cohort_spec(raw, format)  # type: ignore[arg-type]
    return caught.value.problems


def test_valid_spec_parses_with_program_defaults() -> None:
    spec = parse_cohort_spec(valid_document())

    assert spec.cohort_id == "eng-2027-q1"
    assert spec.program.conversation_cadence == timedelta(days=14)
    assert spec.program.grace_period == timedelta(days=3)
    assert spec.program.onboarding_window == timedelta(days=21)
    assert spec.program.escalate_after_missed == 2
    assert spec.program.training_modules == DEFAULT_TRAINING_MODULES
    assert spec.program.default_mentor_capacity == 2
    assert spec.program.weights.skills == pytest.approx(0.4)
    assert [p.id for p in spec.mentors] == ["p-001", "p-003"]
    assert [p.id for p in spec.mentees] == ["p-002", "p-003"]


@pytest.mark.parametrize("format", ["json", "yaml"])
def test_json_and_yaml_give_the_same_spec(format: str) -> None:
    document = valid_document()
    text = json.dumps(document) if format == "json" else yaml.safe_dump(document)

    assert parse_cohort_spec(text, format) == parse_cohort_spec(document)  # type: ignore[arg-type]


def test_iso_durations_including_the_accelerated_demo_calendar() -> None:
    document = valid_document()
    document["program"].update(conversation_cadence="PT30S", grace_period="PT5S")

    spec = parse_cohort_spec(document)

    assert spec.program.conversation_cadence == timedelta(seconds=30)
    assert spec.program.grace_period == timedelta(seconds=5)


def test_a_spec_dumped_as_json_reads_back_unchanged() -> None:
    spec = parse_cohort_spec(valid_document())

    assert parse_cohort_spec(json.dumps(spec.model_dump(mode="json"))) == spec


def test_the_small_example_cohort_is_valid() -> None:
    spec = parse_cohort_spec(EXAMPLE.read_text(encoding="utf-8"), "yaml")

    assert len(spec.participants) >= 12
    assert spec.mentors
    assert spec.mentees


def test_yaml_reads_the_language_code_no_as_norwegian_not_false() -> None:
    text = yaml.safe_dump(valid_document()).replace("- de", "- 'no'")
    text = text.replace("- 'no'", "- no")

    spec = parse_cohort_spec(text, "yaml")

    assert "no" in spec.participants[0].languages


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["participants"][1].update(id="p-001"),
            "participants[1].id: duplicate id 'p-001' (also participants[0])",
        ),
        (
            lambda d: d["participants"][1].update(manager_id="p-999"),
            "participants[1].manager_id: unknown participant 'p-999'",
        ),
        (
            lambda d: d["participants"][0].update(avoid=["p-002", "p-998"]),
            "participants[0].avoid[1]: unknown participant 'p-998'",
        ),
        (
            lambda d: d["participants"][2].update(manager_id="p-002"),
            "participants[1].manager_id: the reporting line forms a cycle: p-002 -> p-003 -> p-002",
        ),
        (
            lambda d: d["participants"][0].update(manager_id="p-001"),
            "participants[0].manager_id: a participant cannot be their own manager",
        ),
        (
            lambda d: d["program"].update(ends_at="2027-01-01T00:00:00+00:00"),
            "program.ends_at: 2027-01-01T00:00:00+00:00 must be after "
            "program.starts_at 2027-01-11T09:00:00+00:00",
        ),
        (
            lambda d: d["program"].update(review_cycles=["2028-01-05T00:00:00+00:00"]),
            "program.review_cycles[0]: 2028-01-05T00:00:00+00:00 is outside the program "
            "(2027-01-11T09:00:00+00:00 to 2027-12-17T17:00:00+00:00)",
        ),
        (
            lambda d: [p.update(roles=["mentee"]) for p in d["participants"]],
            "participants: nobody has the role 'mentor'; a cohort needs both",
        ),
        (
            lambda d: [p.update(roles=["mentor"]) for p in d["participants"]],
            "participants: nobody has the role 'mentee'; a cohort needs both",
        ),
        (
            lambda d: d["participants"][0].update(timezone="Europe/Atlantis"),
            "participants[0].timezone: unknown IANA time zone 'Europe/Atlantis'",
        ),
        (
            lambda d: d["participants"][0].update(seniority=11),
            "participants[0].seniority: Input should be less than or equal to 10 (got 11)",
        ),
        (
            lambda d: d["participants"][0]["skills"].update(python=6),
            "participants[0].skills.python: Input should be less than or equal to 5 (got 6)",
        ),
        (
            lambda d: d["participants"][0]["traits"].update(openness=1.5),
            "participants[0].traits.openness: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            lambda d: d["participants"][0].update(roles=["boss"]),
            "participants[0].roles[0]: Input should be 'mentor' or 'mentee' (got 'boss')",
        ),
        (
            lambda d: d["participants"][0].update(roles=[]),
            "participants[0].roles: List should have at least 1 item after validation, not 0",
        ),
        (lambda d: d.update(colour="blue"), "colour: unknown field"),
        (lambda d: d["program"].update(budget=3), "program.budget: unknown field"),
        (
            lambda d: d["participants"][1].update(phone="+49 30 1234"),
            "participants[1].phone: unknown field",
        ),
        (lambda d: d["program"].pop("name"), "program.name: required field is missing"),
        (
            lambda d: d.update(cohort_id="Eng_2027"),
            "cohort_id: 'Eng_2027' must be 3 to 64 characters of a-z, 0-9 and '-'",
        ),
        (
            lambda d: d["program"].update(conversation_cadence="14 days"),
            "program.conversation_cadence: expected an ISO 8601 duration such as P14D or PT30S, "
            "got '14 days'",
        ),
        (
            lambda d: d["program"].update(starts_at="2027-01-11T09:00:00"),
            "program.starts_at: Input should have timezone info (got '2027-01-11T09:00:00')",
        ),
        (
            lambda d: d["program"].update(
                weights={"skills": 0, "objectives": 0, "personality": 0, "logistics": 0}
            ),
            "program.weights: at least one weight must be greater than 0",
        ),
        (
            lambda d: d["program"].update(weights={"skills": -1}),
            "program.weights.skills: Input should be greater than or equal to 0 (got -1)",
        ),
    ],
)
@pytest.mark.parametrize("format", ["json", "yaml"])
def test_each_problem_is_named_with_its_location(
    change: Any,
    expected: str,
    format: str,
) -> None:
    document = copy.deepcopy(valid_document())
    change(document)

    assert expected in problems_of(document, format)


@pytest.mark.parametrize("format", ["json", "yaml", "data"])
def test_every_problem_is_reported_at_once(format: str) -> None:
    document = valid_document()
    document["cohort_id"] = "X"
    document["program"]["ends_at"] = "2026-01-01T00:00:00+00:00"
    document["participants"][0].update(seniority=0, timezone="Mars/Base")
    document["participants"][1].update(manager_id="p-404", hobby="chess")
    document["participants"][2].update(id="p-001")

    problems = problems_of(document, format)

    assert problems == [
        "cohort_id: 'X' must be 3 to 64 characters of a-z, 0-9 and '-'",
        "program.ends_at: 2026-01-01T00:00:00+00:00 must be after "
        "program.starts_at 2027-01-11T09:00:00+00:00",
        "participants[0].seniority: Input should be greater than or equal to 1 (got 0)",
        "participants[0].timezone: unknown IANA time zone 'Mars/Base'",
        "participants[1].hobby: unknown field",
        "participants[2].id: duplicate id 'p-001' (also participants[0])",
        "participants[1].manager_id: unknown participant 'p-404'",
    ]


def test_links_of_a_participant_with_field_errors_are_still_checked() -> None:
    document = valid_document()
    document["participants"][1].update(seniority=99, manager_id="p-999", avoid=["p-998"])
    # p-003 reports to p-002, whose own record is invalid: p-002 is still a known id.
    document["participants"][2].update(manager_id="p-002")

    problems = problems_of(document)

    assert "participants[1].manager_id: unknown participant 'p-999'" in problems
    assert "participants[1].avoid[0]: unknown participant 'p-998'" in problems
    assert not any(problem.startswith("participants[2]") for problem in problems)


def test_program_dates_are_checked_even_when_other_program_fields_are_wrong() -> None:
    document = valid_document()
    document["program"].update(escalate_after_missed=0, ends_at="2026-06-01T00:00:00+00:00")

    problems = problems_of(document)

    assert any(problem.startswith("program.escalate_after_missed:") for problem in problems)
    assert any(problem.startswith("program.ends_at:") for problem in problems)


def test_a_cycle_is_reported_once_at_its_first_member() -> None:
    document = valid_document()
    document["participants"][0]["manager_id"] = "p-002"
    document["participants"][1]["manager_id"] = "p-003"
    document["participants"][2]["manager_id"] = "p-001"

    problems = [p for p in problems_of(document) if "cycle" in p]

    assert problems == [
        "participants[0].manager_id: the reporting line forms a cycle: "
        "p-001 -> p-002 -> p-003 -> p-001"
    ]


@pytest.mark.parametrize(
    ("raw", "format", "start"),
    [
        ('{"cohort_id": ', "json", "document: invalid JSON at line 1"),
        ("cohort_id: [unclosed", "yaml", "document: invalid YAML"),
        ("[1, 2]", "json", "document: expected a mapping"),
    ],
)
def test_unreadable_documents_are_rejected(raw: str, format: str, start: str) -> None:
    with pytest.raises(CohortSpecInvalid) as caught:
        parse_cohort_spec(raw, format)  # type: ignore[arg-type]

    assert caught.value.problems[0].startswith(start)


def test_models_built_directly_enforce_the_cross_field_rules_too() -> None:
    document = valid_document()
    document["participants"][1]["manager_id"] = "p-999"

    with pytest.raises(ValidationError, match="unknown participant 'p-999'"):
        CohortSpec.model_validate(document)


def test_the_error_message_lists_every_problem() -> None:
    error = CohortSpecInvalid(["a: one", "b: two"])

    assert str(error) == "cohort spec has 2 problem(s):\n- a: one\n- b: two"


def test_hostile_text_is_refused_with_its_location() -> None:
    document = valid_document()
    document["program"]["name"] = "sealed:v2:p-001:AAAA"
    document["participants"][0]["department"] = "Plat\x00form"
    document["participants"][1]["wants_to_develop"] = ["python", "x\ud800"]
    document["participants"][2]["career_objectives"] = [f"o-{n}" for n in range(51)]

    problems = problems_of(document, "data")

    assert any(p.startswith("program.name") and "sealed value" in p for p in problems), problems
    assert any(p.startswith("participants[0].department") and "U+0000" in p for p in problems)
    assert any(p.startswith("participants[1].wants_to_develop[1]") for p in problems), problems
    assert any(p.startswith("participants[2].career_objectives") and "50" in p for p in problems), (
        problems
    )
