"""Participants of a cohort spec that reference directory people instead of inlining them.

A participant entry with ``person_id`` is a *reference*::

    {"person_id": "p-001", "roles": ["mentee"], "seniority": 3}

It carries only what belongs to this cohort (`COHORT_FIELDS`: ``roles``, ``seniority``,
``mentor_capacity``, ``avoid``, ``traits``); the person's profile (`DIRECTORY_FIELDS`), and
the Big Five they assessed with consent unless the entry gives ``traits``, comes
from the people directory at launch. `resolve_references` turns every reference into the
inline participant it stands for, and `parse_referencing_spec` then validates the result with
`parse_cohort_spec`, unchanged: a resolved spec is an ordinary spec, launched like any other.

From the directory's profile of the person:

* ``id`` is the person id; ``name`` the display name (or given and family name);
  ``email``, ``department``, ``timezone``, ``languages``, ``skills``, ``wants_to_develop`` and
  ``career_objectives`` as they are (an empty email or department: none);
* ``manager_id`` is the nearest manager up the person's reporting line *who is in the cohort*
  (their manager, or the manager's manager, and so on), or none. A spec's ``manager_id`` must
  name a participant, and the reporting-line rule of the matching only looks at participants:
  so a skip-level manager who mentors in this cohort is still kept from mentoring the person.

A reference is refused, with every problem named at its location in the spec's own format
(``participants[3].person_id: unknown person 'p-404' (not in the people directory)``), when
the person is unknown, deactivated, removed or forgotten, when the directory's profile lacks
a name or time zone, or when the entry carries profile fields of its own. Problems found by
`parse_cohort_spec` in what came from the directory say so.

Pure: the caller reads the people's folded states (``mentorflow.directory``), including the
managers that `managers_to_read` asks for, and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from domain.cohort_spec import (
    REFERENCE_KEY,
    CohortSpec,
    CohortSpecInvalid,
    ParticipantSpec,
    parse_cohort_spec,
)
from domain.person import PersonState
from domain.spec_fields import ParticipantId
from events.person import PersonProfile

COHORT_FIELDS = ("roles", "seniority", "mentor_capacity", "avoid", "traits")
"""What a reference gives itself: how the person takes part in this cohort."""
DIRECTORY_FIELDS = (
    "id",
    "name",
    "email",
    "department",
    "manager_id",
    "timezone",
    "languages",
    "skills",
    "wants_to_develop",
    "career_objectives",
)
"""What a reference takes from the directory (the participant's other fields)."""
_REQUIRED = {"name": "name", "timezone": "time zone"}
"""Profile fields a participant cannot do without, and how a problem names them."""
_PERSON_ID: TypeAdapter[str] = TypeAdapter(ParticipantId)
_LOCATION = re.compile(r"participants\[(\d+)\](?:\.([A-Za-z_]+))?(.*)")


def _reference_model() -> type[BaseModel]:
    """The reference's fields: ``person_id`` and the participant's own cohort fields."""
    fields: dict[str, Any] = {
        name: (ParticipantSpec.model_fields[name].annotation, ParticipantSpec.model_fields[name])
        for name in COHORT_FIELDS
    }
    return create_model(
        "ParticipantReference",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=(
            "A person of the people directory taking part in the cohort: their profile (name, "
            "email, department, manager, time zone, languages, skills, skills wanted, career "
            "objectives) comes from the directory at launch; the entry gives only how they "
            "take part in this cohort."
        ),
        person_id=(
            ParticipantId,
            Field(description="The directory person (also the participant id in the cohort)"),
        ),
        **fields,
    )


ParticipantReference = _reference_model()
"""The shape of a reference, for the spec's JSON schema (the OpenAPI document)."""


def is_reference(item: object) -> bool:
    """Whether a participant entry references a directory person."""
    return isinstance(item, Mapping) and REFERENCE_KEY in item


def _participants(document: Mapping[str, Any]) -> list[Any]:
    participants = document.get("participants")
    return participants if isinstance(participants, list) else []


def referenced_people(document: object) -> list[str]:
    """The valid person ids the spec's references name, in spec order, each once."""
    if not isinstance(document, Mapping):
        return []
    ids = [item.get(REFERENCE_KEY) for item in _participants(document) if is_reference(item)]
    return list(dict.fromkeys(i for i in ids if isinstance(i, str) and _valid_id(i)))


def _valid_id(value: str) -> bool:
    try:
        _PERSON_ID.validate_python(value)
    except ValidationError:
        return False
    return True


def _participant_ids(document: Mapping[str, Any]) -> set[str]:
    """Every readable participant id: inline ``id`` and reference ``person_id``."""
    ids: set[str] = set()
    for item in _participants(document):
        if isinstance(item, Mapping):
            value = item.get(REFERENCE_KEY) if is_reference(item) else item.get("id")
            if isinstance(value, str):
                ids.add(value)
    return ids


def _reporting_line(
    person_id: str, people: Mapping[str, PersonState], stop_at: set[str]
) -> tuple[str | None, str | None]:
    """Walk up from ``person_id``: (the first manager in ``stop_at``, the first one unread).

    At most one of them is set; neither when the line ends (no manager, a cycle, or a
    manager the directory does not know).
    """
    seen = {person_id}
    state = people.get(person_id)
    manager = state.profile.manager_id if state is not None and state.profile else None
    while manager is not None and manager not in seen:
        if manager in stop_at:
            return manager, None
        seen.add(manager)
        if manager not in people:
            return None, manager
        profile = people[manager].profile
        manager = profile.manager_id if profile is not None else None
    return None, None


def managers_to_read(document: Mapping[str, Any], people: Mapping[str, PersonState]) -> set[str]:
    """Managers whose state the reporting lines of the references need and ``people`` lacks.

    Read them, add them to ``people`` and ask again until this is empty.
    """
    participant_ids = _participant_ids(document)
    wanted: set[str] = set()
    for person_id in referenced_people(document):
        _, unread = _reporting_line(person_id, people, participant_ids)
        if unread is not None:
            wanted.add(unread)
    return wanted


@dataclass(frozen=True)
class ResolvedDocument:
    """A spec with its references inlined, and what is wrong with them.

    Attributes:
        document: The spec, each reference replaced by the inline participant it stands for
            (one that could not be resolved by its cohort fields alone).
        problems: Every problem of the references, each with its location.
        references: Index of each reference entry → its person id (or None when invalid).
        unresolved: Indexes of references whose person could not be used at all.
        missing: (index, field) of required profile fields the directory lacks.
    """

    document: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    references: dict[int, str | None] = field(default_factory=dict)
    unresolved: set[int] = field(default_factory=set)
    missing: set[tuple[int, str]] = field(default_factory=set)

    def located(self, problems: Iterable[str]) -> list[str]:
        """``parse_cohort_spec``'s problems of the resolved spec, as they concern the
        original: a reference's ``id`` is its ``person_id``, a problem in what came from the
        directory says so, and one already named by a reference problem is left out."""
        result: list[str] = []
        for problem in problems:
            match = _LOCATION.match(problem)
            index = int(match.group(1)) if match else -1
            if match is None or index not in self.references or match.group(2) is None:
                result.append(problem)
                continue
            name = match.group(2)
            if name not in DIRECTORY_FIELDS:
                result.append(problem)
            elif index in self.unresolved or (index, name) in self.missing:
                continue
            elif name == "id":
                result.append(problem.replace(".id", f".{REFERENCE_KEY}", 1))
            else:
                result.append(f"{problem} (in the directory's profile of {self.references[index]})")
        return result


def resolve_references(
    document: Mapping[str, Any], people: Mapping[str, PersonState]
) -> ResolvedDocument:
    """The spec with every reference inlined from ``people`` (states by person id).

    ``people`` holds every referenced person and the managers `managers_to_read` named; a
    person missing from it counts as unknown.
    """
    participant_ids = _participant_ids(document)
    resolved = ResolvedDocument(document=dict(document))
    entries: list[Any] = []
    for index, item in enumerate(_participants(document)):
        if not is_reference(item):
            entries.append(item)
            continue
        entries.append(_resolve(index, item, people, participant_ids, resolved))
    if "participants" in document and isinstance(document["participants"], list):
        resolved.document["participants"] = entries
    return resolved


def _resolve(
    index: int,
    item: Mapping[str, Any],
    people: Mapping[str, PersonState],
    participant_ids: set[str],
    resolved: ResolvedDocument,
) -> dict[str, Any]:
    """One reference as an inline participant; its problems go to ``resolved``."""
    where = f"participants[{index}]"
    own = {name: item[name] for name in COHORT_FIELDS if name in item}
    resolved.problems.extend(_shape_problems(where, item))
    raw_id = item.get(REFERENCE_KEY)
    person_id = raw_id if isinstance(raw_id, str) and _valid_id(raw_id) else None
    resolved.references[index] = person_id
    if person_id is None:
        resolved.problems.append(_id_problem(where, raw_id))
        resolved.unresolved.add(index)
        return own
    state = people.get(person_id)
    if state is None or state.profile is None or not state.active or state.forgotten:
        resolved.problems.append(f"{where}.{REFERENCE_KEY}: {_refusal(person_id, state)}")
        resolved.unresolved.add(index)
        return {"id": person_id, **own}
    inline = _inline_profile(person_id, state.profile, people, participant_ids)
    if state.traits is not None:
        # The Big Five the person gave with consent; traits in the spec's entry win.
        inline["traits"] = state.traits.model_dump()
    for name, label in _REQUIRED.items():
        if not inline.get(name):
            inline.pop(name, None)
            resolved.missing.add((index, name))
            resolved.problems.append(
                f"{where}.{name}: the directory has no {label} for person {person_id!r}"
            )
    return {**inline, **own}


def _shape_problems(where: str, item: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in item:
        if key == REFERENCE_KEY or key in COHORT_FIELDS:
            continue
        if key == "id":
            problems.append(f"{where}.id: a reference names its person by {REFERENCE_KEY} alone")
        elif key in DIRECTORY_FIELDS:
            problems.append(
                f"{where}.{key}: comes from the people directory for a reference; leave it "
                f"out (or inline the whole participant, with id instead of {REFERENCE_KEY})"
            )
        else:
            problems.append(f"{where}.{key}: unknown field")
    return problems


def _id_problem(where: str, raw_id: object) -> str:
    if not isinstance(raw_id, str):
        return f"{where}.{REFERENCE_KEY}: expected a person id (text)"
    return (
        f"{where}.{REFERENCE_KEY}: {raw_id!r} must be 1 to 64 characters of letters, digits and "
        "'.', '_', '@', '-'"
    )


def _refusal(person_id: str, state: PersonState | None) -> str:
    """Why the person cannot take part."""
    if state is not None and state.forgotten:
        return f"person {person_id!r} was forgotten"
    if state is None or not state.known:
        return f"unknown person {person_id!r} (not in the people directory)"
    if state.removed:
        return f"person {person_id!r} was removed from the people directory"
    return f"person {person_id!r} is deactivated in the people directory"


def _inline_profile(
    person_id: str,
    profile: PersonProfile,
    people: Mapping[str, PersonState],
    participant_ids: set[str],
) -> dict[str, Any]:
    name = profile.name.strip() or f"{profile.given_name} {profile.family_name}".strip()
    manager_id, _ = _reporting_line(person_id, people, participant_ids)
    return {
        "id": person_id,
        "name": name,
        "email": profile.email or None,
        "department": profile.department or None,
        "manager_id": manager_id,
        "timezone": profile.timezone,
        "languages": list(profile.languages),
        "skills": dict(profile.skills),
        "wants_to_develop": list(profile.wants_to_develop),
        "career_objectives": list(profile.career_objectives),
    }


def parse_referencing_spec(
    document: Mapping[str, Any], people: Mapping[str, PersonState]
) -> CohortSpec:
    """Resolve the references of ``document`` from ``people`` and validate the result.

    Returns:
        The valid spec, every participant inline.

    Raises:
        CohortSpecInvalid: With every problem of the references and of the resolved spec, each
            at its location in ``document``.
    """
    resolved = resolve_references(document, people)
    try:
        spec = parse_cohort_spec(resolved.document)
    except CohortSpecInvalid as invalid:
        raise CohortSpecInvalid([*resolved.problems, *resolved.located(invalid.problems)]) from None
    if resolved.problems:
        raise CohortSpecInvalid(resolved.problems)
    return spec


def spec_document_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON schema of a spec as senders write it: each participant inline or a reference.

    Args:
        ref_template: How a ``$ref`` names a model (``#/components/schemas/{model}`` for an
            OpenAPI document); the models are under ``$defs``.
    """
    spec = CohortSpec.model_json_schema(ref_template=ref_template)
    reference = ParticipantReference.model_json_schema(ref_template=ref_template)
    spec["$defs"] = {
        **spec.pop("$defs", {}),
        **reference.pop("$defs", {}),
        "ParticipantReference": reference,
    }
    spec["properties"]["participants"]["items"] = {
        "anyOf": [
            {"$ref": ref_template.format(model="ParticipantSpec")},
            {"$ref": ref_template.format(model="ParticipantReference")},
        ]
    }
    return spec
