"""Generate a large synthetic cohort spec, reproducibly from a seed.

The cohort looks like a real engineering organisation: departments with reporting lines (most
mentors manage someone, so the "never in the mentee's reporting line" rule bites), offices in
a dozen time zones with their languages, skills and career tracks that cluster by department,
Big Five traits for most people, a few avoid lists, and a few people who are both mentor and
mentee.

    python examples/generate_cohort.py --mentees 1000 --mentors 400 --seed 7 -o cohort.json
    python examples/generate_cohort.py --mentees 50 --mentors 20 --format yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DEPARTMENTS: dict[str, tuple[list[str], list[str]]] = {
    # department: (skills it values, career tracks people there pursue)
    "Platform": (
        ["go", "kubernetes", "distributed-systems", "observability", "system-design"],
        ["staff-engineering", "architecture", "engineering-management"],
    ),
    "Payments": (
        ["java", "sql", "security", "system-design", "testing"],
        ["staff-engineering", "engineering-management", "architecture"],
    ),
    "Mobile": (
        ["kotlin", "swift", "testing", "accessibility", "typescript"],
        ["staff-engineering", "engineering-management", "product-management"],
    ),
    "Data": (
        ["python", "sql", "statistics", "machine-learning", "experimentation"],
        ["data-science", "staff-engineering", "people-leadership"],
    ),
    "Security": (
        ["security", "threat-modeling", "go", "incident-response", "cloud-infrastructure"],
        ["architecture", "staff-engineering", "people-leadership"],
    ),
    "Product": (
        ["roadmap-planning", "user-research", "experimentation", "written-communication"],
        ["product-management", "people-leadership", "entrepreneurship"],
    ),
    "Design": (
        ["user-research", "accessibility", "visual-design", "prototyping"],
        ["design-leadership", "product-management", "people-leadership"],
    ),
    "Customer Success": (
        ["negotiation", "stakeholder-management", "written-communication", "sql"],
        ["people-leadership", "sales-leadership", "product-management"],
    ),
}
SHARED_SKILLS = [
    "leadership",
    "stakeholder-management",
    "public-speaking",
    "coaching",
    "hiring",
    "conflict-resolution",
    "written-communication",
]
OFFICES = [  # (time zone, languages, share of people)
    ("Europe/Berlin", ["en", "de"], 0.18),
    ("Europe/London", ["en"], 0.14),
    ("America/New_York", ["en"], 0.14),
    ("America/Los_Angeles", ["en", "es"], 0.10),
    ("Asia/Kolkata", ["en", "hi"], 0.10),
    ("Europe/Paris", ["en", "fr"], 0.07),
    ("America/Sao_Paulo", ["pt", "en"], 0.06),
    ("Asia/Singapore", ["en", "zh"], 0.05),
    ("Europe/Warsaw", ["pl", "en"], 0.05),
    ("Africa/Lagos", ["en", "yo"], 0.04),
    ("Asia/Tokyo", ["ja", "en"], 0.04),
    ("Australia/Sydney", ["en"], 0.03),
]
FIRST_NAMES = [
    "Ada", "Amara", "Ana", "Aiko", "Bruno", "Chen", "Chloe", "Dario", "Dev", "Elif", "Emeka",
    "Farah", "Femi", "Greta", "Hana", "Ines", "Ivan", "Jonas", "Kai", "Kemi", "Lars", "Lea",
    "Lina", "Luca", "Maya", "Mei", "Mateo", "Nadia", "Nia", "Noor", "Omar", "Priya", "Raj",
    "Rosa", "Sami", "Sofia", "Tariq", "Tomas", "Uma", "Vera", "Wei", "Yara", "Yusuf", "Zara",
]  # fmt: skip
LAST_NAMES = [
    "Obi", "Okafor", "Schmidt", "Tanaka", "Silva", "Kowalski", "Nguyen", "Haddad", "Rossi",
    "Novak", "Mensah", "Dubois", "Patel", "Costa", "Larsen", "Kim", "Moreau", "Adeyemi",
    "Fischer", "Sato", "Ivanova", "Gomez", "Weber", "Chowdhury", "Hughes", "Lindqvist",
]  # fmt: skip


def generate_cohort(
    mentees: int,
    mentors: int,
    *,
    seed: int,
    capacity: int = 3,
    both_share: float = 0.02,
    cohort_id: str | None = None,
) -> dict[str, Any]:
    """A cohort spec (JSON-ready data) with the given numbers of mentees and mentors.

    Args:
        mentees: Participants with the mentee role.
        mentors: Participants with the mentor role; ``both_share`` of them are mentees too and
            count in both numbers.
        seed: Seed of the random generator; the same arguments give the same cohort.
        capacity: The program's default mentor capacity.
        both_share: Share of mentors who are also mentees.
        cohort_id: Defaults to ``synthetic-{mentees}x{mentors}-s{seed}``.
    """
    random = np.random.default_rng(seed)
    both = min(round(mentors * both_share), mentees)
    people = [_person(random, "mentor") for _ in range(mentors)]
    for person in people[:both]:
        person["roles"] = ["mentor", "mentee"]
        person["seniority"] = int(random.integers(5, 8))
        _add_mentee_wishes(random, person)
    people += [_person(random, "mentee") for _ in range(mentees - both)]
    order = random.permutation(len(people))
    people = [people[index] for index in order]
    width = len(str(len(people)))
    for number, person in enumerate(people, start=1):
        person["id"] = f"p-{number:0{width}d}"
    _assign_managers(random, people)
    _assign_avoid_lists(random, people)
    return {
        "cohort_id": cohort_id or f"synthetic-{mentees}x{mentors}-s{seed}",
        "program": {
            "name": f"Synthetic Mentorship 2027 ({mentees} x {mentors})",
            "starts_at": "2027-01-11T09:00:00+00:00",
            "ends_at": "2027-12-17T17:00:00+00:00",
            "conversation_cadence": "P14D",
            "grace_period": "P3D",
            "onboarding_window": "P21D",
            "escalate_after_missed": 2,
            "review_cycles": ["2027-06-30T00:00:00+00:00", "2027-12-01T00:00:00+00:00"],
            "require_hr_approval": False,
            "min_seniority_gap": 1,
            "default_mentor_capacity": capacity,
            "weights": {"skills": 0.4, "objectives": 0.3, "personality": 0.2, "logistics": 0.1},
        },
        "participants": [
            {key: person[key] for key in _FIELD_ORDER if key in person} for person in people
        ],
    }


_FIELD_ORDER = [
    "id", "name", "roles", "department", "manager_id", "seniority", "timezone", "languages",
    "skills", "wants_to_develop", "career_objectives", "traits", "avoid",
]  # fmt: skip


def _choose(random: np.random.Generator, items: Sequence[str], count: int) -> list[str]:
    picked = random.choice(len(items), size=min(count, len(items)), replace=False)
    return [items[index] for index in sorted(picked)]


def _person(random: np.random.Generator, role: str) -> dict[str, Any]:
    department = str(random.choice(list(DEPARTMENTS)))
    department_skills, tracks = DEPARTMENTS[department]
    office = int(random.choice(len(OFFICES), p=[share for _, _, share in OFFICES]))
    time_zone, languages, _ = OFFICES[office]
    mentor = role == "mentor"
    seniority = int(
        random.choice([5, 6, 7, 8, 9, 10], p=[0.15, 0.25, 0.25, 0.18, 0.12, 0.05])
        if mentor
        else random.choice([1, 2, 3, 4, 5, 6, 7], p=[0.08, 0.17, 0.25, 0.22, 0.15, 0.09, 0.04])
    )
    pool = list(dict.fromkeys(department_skills + SHARED_SKILLS))
    skill_count = int(random.integers(4, 9)) if mentor else int(random.integers(2, 5))
    top_level = 5 if mentor else 3
    skills = {
        skill: int(random.integers(max(1, top_level - 3 + seniority // 4), top_level + 1))
        for skill in _choose(random, pool, skill_count)
    }
    person: dict[str, Any] = {
        "name": f"{random.choice(FIRST_NAMES)} {random.choice(LAST_NAMES)}",
        "roles": [role],
        "department": department,
        "seniority": seniority,
        "timezone": time_zone,
        "languages": list(languages),
        "skills": skills,
        "career_objectives": _choose(
            random, tracks, int(random.integers(1, 3 if mentor else 2) + 1)
        ),
    }
    if random.random() < 0.9:  # some HR systems have no personality data for everyone
        traits = np.clip(random.beta(4.0, 4.0, size=5), 0.0, 1.0)
        person["traits"] = dict(
            zip(
                [
                    "openness",
                    "conscientiousness",
                    "extraversion",
                    "agreeableness",
                    "emotional_stability",
                ],
                (round(float(value), 2) for value in traits),
                strict=True,
            )
        )
    if not mentor:
        _add_mentee_wishes(random, person)
    return person


def _add_mentee_wishes(random: np.random.Generator, person: dict[str, Any]) -> None:
    department_skills, _ = DEPARTMENTS[person["department"]]
    # Mostly skills of their own department, sometimes one from elsewhere (a career move).
    pool = [
        skill
        for skill in dict.fromkeys(department_skills + SHARED_SKILLS)
        if skill not in person["skills"]
    ]
    wants = _choose(random, pool, int(random.integers(2, 5)))
    if random.random() < 0.2:
        other = DEPARTMENTS[str(random.choice(list(DEPARTMENTS)))][0]
        wants = sorted({*wants, str(random.choice(other))})
    person["wants_to_develop"] = wants


def _assign_managers(random: np.random.Generator, people: list[dict[str, Any]]) -> None:
    """A reporting tree per department: everyone reports to someone more senior, if anyone."""
    for department in DEPARTMENTS:
        members = [person for person in people if person["department"] == department]
        members.sort(key=lambda person: (-person["seniority"], person["id"]))
        for position, person in enumerate(members):
            seniors = [
                other for other in members[:position] if other["seniority"] > person["seniority"]
            ]
            if seniors:
                # Prefer someone just above: managers are a level or two above their reports.
                closest = seniors[-min(len(seniors), 8) :]
                person["manager_id"] = closest[int(random.integers(len(closest)))]["id"]
            else:
                person["manager_id"] = None


def _assign_avoid_lists(random: np.random.Generator, people: list[dict[str, Any]]) -> None:
    for person in people:
        person["avoid"] = []
        if random.random() < 0.03:
            others = [int(index) for index in random.choice(len(people), size=2, replace=False)]
            person["avoid"] = sorted(
                {people[index]["id"] for index in others if people[index]["id"] != person["id"]}
            )


def main(argv: Sequence[str] | None = None) -> None:
    """Write a synthetic cohort spec as JSON or YAML."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mentees", type=int, default=1000)
    parser.add_argument("--mentors", type=int, default=400)
    parser.add_argument("--capacity", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cohort-id")
    parser.add_argument("--format", choices=["json", "yaml"], default="json")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    arguments = parser.parse_args(argv)
    spec = generate_cohort(
        arguments.mentees,
        arguments.mentors,
        seed=arguments.seed,
        capacity=arguments.capacity,
        cohort_id=arguments.cohort_id,
    )
    if arguments.format == "json":
        text = json.dumps(spec, indent=1)
    else:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(spec, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    if arguments.output is None:
        sys.stdout.write(text)
    else:
        arguments.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
