"""Rendering: the Jinja2 environment, dates in the viewer's time zone, HTML error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC_DIRECTORY = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

SECURITY_HEADERS = {
    # Scripts and styles from the console's own /static only (htmx, its config and ours).
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def time_zone_or_utc(name: str | None) -> str:
    """``name`` when it is an IANA time zone this server knows; ``UTC`` otherwise."""
    if not name or len(name) > 64 or name not in _zones():
        return "UTC"
    return name


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


_ZONES: set[str] | None = None


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone this server knows, sorted (a form's choice of zones)."""
    return tuple(sorted(_zones()))


def local_time(moment: datetime | str | None, zone: str) -> str:
    """A moment as the viewer reads it: ``2027-01-25 10:00 (Europe/Berlin)``."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    try:
        tz = ZoneInfo(zone)
    except ZoneInfoNotFoundError:
        tz = ZoneInfo("UTC")
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def iso_utc(moment: datetime | str | None) -> str:
    """The machine-readable value of a ``<time datetime=…>``."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).isoformat()


templates.env.filters["iso_utc"] = iso_utc
templates.env.filters["local"] = local_time


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """A page, with the console's security headers."""
    return templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=SECURITY_HEADERS
    )


def error_page(
    request: Request, status_code: int, title: str, message: str, viewer: Any = None
) -> HTMLResponse:
    """An error as a page people can read (the API answers JSON; the console, HTML)."""
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "viewer": viewer},
        status_code=status_code,
    )
