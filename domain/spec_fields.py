"""Field types shared by the parts of the cohort spec: ids, names, time zones.

`domain.cohort_spec` (participants) and `domain.notification_spec` (HR contacts) both use
them, so that a person id or a time zone means one thing wherever a spec names one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, StringConstraints

from domain.text import refuse_unsafe


@lru_cache(maxsize=1024)
def _is_known_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_known_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    return _is_known_time_zone(name)


def _require_time_zone(name: str) -> str:
    if not _is_known_time_zone(name):
        raise ValueError(f"unknown IANA time zone {name!r}")
    return name


def matching(pattern: str, explanation: str) -> Callable[[str], str]:
    """A validator accepting the values that match ``pattern`` whole, refusing others with
    ``'<value>' <explanation>``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} {explanation}")
        return value

    return check


# Participant ids end up in workflow ids and URL paths: no slashes, no whitespace.
PARTICIPANT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"
"""What a participant (person) id is, unanchored; the API and ``people forget`` use it too."""
ParticipantId = Annotated[
    str,
    AfterValidator(
        matching(
            PARTICIPANT_ID_PATTERN,
            "must be 1 to 64 characters of letters, digits and '.', '_', '@', '-'",
        )
    ),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(refuse_unsafe),
]
TimeZoneName = Annotated[str, AfterValidator(_require_time_zone)]
