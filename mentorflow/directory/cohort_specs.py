"""Cohort specs that reference directory people: read the people, then resolve the spec.

`parse_spec_with_directory` is what every way in that launches a cohort from a document uses
(``POST /cohorts``, the console's launch page, ``mentorflow cohort launch``): a spec without
references is parsed as ever; one with references gets them inlined from the directory
(`domain.cohort_references`) before the same validation and the same launch.

The people are read by folding their streams (`PeopleDirectory.states`), not from the
``people`` read model, which may lag behind: someone provisioned a moment ago (SCIM, a CSV
import) can be launched at once, and someone deactivated a moment ago is refused at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.cohort_references import (
    is_reference,
    managers_to_read,
    parse_referencing_spec,
    referenced_people,
)
from domain.cohort_spec import CohortSpec, parse_cohort_spec
from domain.person import PersonState
from mentorflow.directory.service import PeopleDirectory

MAX_REPORTING_LEVELS = 20
"""How far up a reporting line the managers are read (each level is one read)."""


def has_references(document: Mapping[str, Any]) -> bool:
    """Whether any participant of the spec references a directory person."""
    participants = document.get("participants")
    return isinstance(participants, list) and any(is_reference(item) for item in participants)


async def read_referenced_people(
    directory: PeopleDirectory, document: Mapping[str, Any]
) -> dict[str, PersonState]:
    """The referenced people's states and, level by level, their managers' up to the cohort.

    Raises:
        DatabaseUnavailable: The database went away.
    """
    people = await directory.states(referenced_people(document))
    for _ in range(MAX_REPORTING_LEVELS):
        wanted = managers_to_read(document, people)
        if not wanted:
            break
        people.update(await directory.states(sorted(wanted)))
    return people


async def parse_spec_with_directory(
    document: Mapping[str, Any], directory: PeopleDirectory
) -> CohortSpec:
    """The valid spec of ``document``, its references resolved from the directory.

    Raises:
        CohortSpecInvalid: Every problem of the spec and of its references (unknown,
            deactivated, removed or forgotten people, profiles lacking a field), located.
        DatabaseUnavailable: The database went away.
    """
    if not has_references(document):
        return parse_cohort_spec(document)
    return parse_referencing_spec(document, await read_referenced_people(directory, document))
