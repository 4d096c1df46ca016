"""A rejected cohort spec's problems, grouped by participant and field for the launch page.

`domain.cohort_spec.parse_cohort_spec` names each problem with its location
(``participants[3].manager_id: unknown participant 'p-999'``); HR reads them better against
the participant they are about (its id and name, when the spec gives them) and its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_PARTICIPANT = re.compile(r"participants\[(\d+)\](?:\.(.+))?")
WHOLE = "(the participant)"
"""The field of a problem about a participant as a whole."""


@dataclass(slots=True)
class ParticipantProblems:
    """Every problem of one participant, by field path."""

    index: int
    participant_id: str | None
    name: str | None
    fields: dict[str, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``p-003 (Ada Obi)``, or its position when the spec gives no usable id."""
        who = self.participant_id or f"participant {self.index + 1} (no id)"
        return f"{who} ({self.name})" if self.participant_id and self.name else who


@dataclass(slots=True)
class SpecProblems:
    """The problems of the spec as a whole (document, cohort id, program), and per participant."""

    general: dict[str, list[str]] = field(default_factory=dict)
    participants: list[ParticipantProblems] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many problems there are."""
        general = sum(len(messages) for messages in self.general.values())
        return general + sum(
            len(messages) for p in self.participants for messages in p.fields.values()
        )


def group_problems(problems: Sequence[str], document: object) -> SpecProblems:
    """Group located problems; ``document`` (the decoded spec) names the participants."""
    grouped = SpecProblems()
    by_index: dict[int, ParticipantProblems] = {}
    for problem in problems:
        location, separator, message = problem.partition(": ")
        if not separator:
            location, message = "document", problem
        match = _PARTICIPANT.fullmatch(location)
        if match is None:
            grouped.general.setdefault(location, []).append(message)
            continue
        index = int(match.group(1))
        if index not in by_index:
            by_index[index] = ParticipantProblems(index, *_who(document, index))
        by_index[index].fields.setdefault(match.group(2) or WHOLE, []).append(message)
    grouped.participants = [by_index[index] for index in sorted(by_index)]
    return grouped


def _who(document: object, index: int) -> tuple[str | None, str | None]:
    if not isinstance(document, Mapping):
        return None, None
    participants = document.get("participants")
    if not isinstance(participants, list) or index >= len(participants):
        return None, None
    entry = participants[index]
    if not isinstance(entry, Mapping):
        return None, None
    # A reference to a directory person names them by person_id (its name is the directory's).
    participant_id, name = entry.get("id", entry.get("person_id")), entry.get("name")
    return (
        participant_id if isinstance(participant_id, str) and participant_id else None,
        name if isinstance(name, str) and name else None,
    )
