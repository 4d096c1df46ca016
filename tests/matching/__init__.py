"""Tests of the matching engine, and the small cohort builders they share."""

from __future__ import annotations

from typing import Any

from domain.cohort_spec import CohortSpec, parse_cohort_spec

PROGRAM: dict[str, Any] = {
    "name": "Test Mentorship 2027",
    "starts_at": "2027-01-11T09:00:00+00:00",
    "ends_at": "2027-12-17T17:00:00+00:00",
    "min_seniority_gap": 1,
    "default_mentor_capacity": 2,
}


def person(participant_id: str, *roles: str, **fields: Any) -> dict[str, Any]:
    """A participant's spec data; mentee by default, UTC, English, level 3 (mentors 7)."""
    chosen_roles = list(roles) or ["mentee"]
    data: dict[str, Any] = {
        "id": participant_id,
        "name": f"Person {participant_id}",
        "roles": chosen_roles,
        "seniority": 7 if chosen_roles == ["mentor"] else 3,
        "timezone": "UTC",
        "languages": ["en"],
    }
    data.update(fields)
    return data


def cohort(*participants: dict[str, Any], **program: Any) -> CohortSpec:
    """A valid cohort spec of these participants (program fields may be overridden)."""
    return parse_cohort_spec(
        {
            "cohort_id": "test-cohort",
            "program": {**PROGRAM, **program},
            "participants": list(participants),
        }
    )
