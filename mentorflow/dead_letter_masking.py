"""What an operator may see of a parked launch command: ids and counts, never personal data.

A launch command's body is a cohort spec: names, addresses, departments, free text. The
masked view keeps what identifies the command and its size (the cohort id, the participant
ids and roles, how many there are) and shows every other field as `PERSONAL`. A value that
does not look like an id (an address used as an id, say) is masked too. The problems the
launcher found may quote a value it received (``(got 'ada@example.org')``): quoted text is
masked in them.
"""

from __future__ import annotations

import json
import re
from typing import Any

PERSONAL = "[personal]"
"""What is shown instead of a personal field."""

_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
_FREE_TEXT_PROBLEM = re.compile(r"^(document: invalid YAML):.*$", re.DOTALL)
_ROLES = ("mentor", "mentee")


def _id_or_masked(value: object) -> str:
    return value if isinstance(value, str) and _ID.fullmatch(value) else PERSONAL


def masked_launch_command(body: str) -> dict[str, Any]:
    """The cohort spec in ``body`` with only ids and counts in clear.

    Args:
        body: The command's body as sent (JSON, though possibly invalid).

    Returns:
        ``cohort_id``, ``fields`` (the top-level field names), ``participants`` (how many),
        ``participant_ids``, ``mentors`` and ``mentees`` (counts by role), and
        ``document`` set to `PERSONAL` when the body is not a JSON object.
    """
    try:
        document = json.loads(body)
    except ValueError:
        return {"document": PERSONAL, "readable": False}
    if not isinstance(document, dict):
        return {"document": PERSONAL, "readable": False}
    participants = document.get("participants")
    people = (
        [p for p in participants if isinstance(p, dict)] if isinstance(participants, list) else []
    )
    roles: list[list[Any]] = [
        person["roles"] if isinstance(person.get("roles"), list) else [] for person in people
    ]
    return {
        "readable": True,
        "cohort_id": _id_or_masked(document.get("cohort_id")),
        "fields": sorted(_id_or_masked(name) for name in document),
        "participants": len(participants) if isinstance(participants, list) else 0,
        "participant_ids": [_id_or_masked(person.get("id")) for person in people],
        **{f"{role}s": sum(role in held for held in roles) for role in _ROLES},
    }


def masked_problem(problem: str) -> str:
    """A launcher's problem with every quoted value masked (the location stays)."""
    problem = _FREE_TEXT_PROBLEM.sub(rf"\1: {PERSONAL}", problem)
    return _QUOTED.sub(PERSONAL, problem)
