"""Time zones by IANA name, and the one way an unknown name is refused."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Files of the host's zone directory that ZoneInfo opens but that name no IANA zone:
# "localtime" is whatever zone the host runs in.
_HOST_FILES = frozenset({"localtime", "posixrules"})


def load_zone(name: str) -> ZoneInfo:
    """The IANA time zone called ``name`` (``"Europe/Berlin"``).

    Args:
        name: An IANA zone name.

    Raises:
        ValueError: No zone has that name (an empty name or a path included).
    """
    if name in _HOST_FILES:
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA zone name, or None when it is one."""
    try:
        load_zone(name)
    except ValueError as error:
        return str(error)
    return None
