"""The profile form: the person's own fields shown for editing, and a posted form read into the
API's own request body (`domain.self_service.OwnProfile`).

Inputs: ``timezone`` (a choice of IANA zones), ``languages`` (codes separated by commas or
spaces), skill rows ``skill-<n>-name`` / ``skill-<n>-level`` (0..5; a row without a name is
ignored: that is how a skill is removed), and ``wants_to_develop`` / ``career_objectives``
(one per line). The body is validated by the API's model itself, so the console accepts
exactly what ``PUT /people/{id}/profile`` accepts; problems are sorted by the input they are
about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from domain.self_service import OwnProfile
from domain.text import LIST_ITEMS
from mentorflow.api.models.profile import OwnProfileView
from mentorflow.console.forms import GENERAL, FieldProblems, FormInvalid

LEVELS = tuple(range(6))
"""Skill levels, 0 (aware of it) to 5 (expert)."""
SPARE_ROWS = 3
"""Empty skill rows below the person's skills, to add new ones without scripts."""
LIST_FIELDS = ("wants_to_develop", "career_objectives")
FIELDS = ("timezone", "languages", "skills", *LIST_FIELDS)
"""Where a problem is shown: next to one of these, or above the form."""


@dataclass(frozen=True, slots=True)
class SkillRow:
    """One skill row of the form, as shown (typed text when the form came back)."""

    name: str
    level: str


@dataclass(frozen=True, slots=True)
class ProfileForm:
    """What the form shows: each input's text, and the skill rows."""

    values: dict[str, str]
    skills: list[SkillRow]


def form_of(own: OwnProfileView) -> ProfileForm:
    """The form filled with the stored fields, and spare empty skill rows."""
    rows = [SkillRow(name, str(level)) for name, level in sorted(own.skills.items())]
    return ProfileForm(
        values={
            "timezone": own.timezone,
            "languages": ", ".join(own.languages),
            "wants_to_develop": "\n".join(own.wants_to_develop),
            "career_objectives": "\n".join(own.career_objectives),
        },
        skills=_with_spares(rows),
    )


def typed_form(form: FormData) -> ProfileForm:
    """The form as it was posted, to show it again with its problems."""
    values = {name: _text(form, name) for name in ("timezone", "languages", *LIST_FIELDS)}
    rows = [row for row in _skill_rows(form) if row.name or row.level]
    return ProfileForm(values=values, skills=_with_spares(rows))


def _with_spares(rows: list[SkillRow]) -> list[SkillRow]:
    spares = max(0, min(SPARE_ROWS, LIST_ITEMS + 1 - len(rows)))
    return [*rows, *(SkillRow("", "") for _ in range(spares))]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


_ROW = re.compile(r"skill-(\d{1,3})-name")


def _skill_rows(form: FormData) -> list[SkillRow]:
    """The posted skill rows in row order (at most a few past the list limit)."""
    numbers = sorted({int(match.group(1)) for key in form if (match := _ROW.fullmatch(key))})
    return [
        SkillRow(_text(form, f"skill-{number}-name"), _text(form, f"skill-{number}-level"))
        for number in numbers[: LIST_ITEMS + SPARE_ROWS + 1]
    ]


def _skills(form: FormData, problems: FieldProblems) -> dict[str, Any]:
    skills: dict[str, Any] = {}
    for number, row in enumerate(_skill_rows(form), start=1):
        if not row.name:
            continue  # an empty row, or a skill removed (its level is left as it was)
        if row.level not in {str(level) for level in LEVELS}:
            problems.add("skills", f"Skill row {number}: choose a level from 0 to 5.")
            continue
        if row.name in skills:
            problems.add("skills", f"Skill row {number}: {row.name!r} is already listed.")
            continue
        skills[row.name] = int(row.level)
    return skills


def read_profile_form(form: FormData) -> OwnProfile:
    """The API request body a posted form asks for.

    Raises:
        FormInvalid: Every problem of the form, by input.
    """
    problems = FieldProblems()
    values: dict[str, Any] = {
        "timezone": _text(form, "timezone"),
        "languages": [part for part in re.split(r"[,\s]+", _text(form, "languages")) if part],
        "skills": _skills(form, problems),
        **{
            name: [line.strip() for line in _text(form, name).splitlines() if line.strip()]
            for name in LIST_FIELDS
        },
    }
    if not values["timezone"]:
        problems.add("timezone", "Choose your time zone.")
    # The model checks everything else even when a row was refused, so that the page names
    # every problem at once.
    try:
        body = OwnProfile.model_validate(values)
    except ValidationError as invalid:
        for error in invalid.errors():
            loc = tuple(error["loc"])
            if loc[:1] == ("timezone",) and not values["timezone"]:
                continue  # named above in the form's words
            problems.add(_input_of(loc), _describe(loc, error["msg"]))
        raise FormInvalid(problems) from invalid
    if problems:
        raise FormInvalid(problems)
    return body


def sort_problems(problems: list[str]) -> FieldProblems:
    """The directory's problems (``skills.go: level 9 …``) by the input each names."""
    sorted_problems = FieldProblems()
    for problem in problems:
        name = re.split(r"[.:\[]", problem, maxsplit=1)[0]
        sorted_problems.add(name if name in FIELDS else GENERAL, _sentence(problem))
    return sorted_problems


def _input_of(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]) if loc and str(loc[0]) in FIELDS else GENERAL


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    text = message.removeprefix("Value error, ")
    if loc[:1] == ("skills",) and len(loc) >= 2:
        text = f"{str(loc[1])!r}: {text}"  # repr: a control character shows as an escape
    elif len(loc) >= 2 and isinstance(loc[1], int):
        text = f"Item {loc[1] + 1}: {text}"
    return _sentence(text)


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
