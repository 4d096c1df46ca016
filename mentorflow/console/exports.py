"""CSV downloads for HR: proper quoting, dates in the viewer's time zone, and no formulas.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some with a tab
or carriage return) as a formula, so a name such as ``=HYPERLINK(…)`` typed into a cohort spec
would run on HR's machine. Such cells get a leading apostrophe, which spreadsheets show as
text; the csv module's quoting takes care of commas, quotes and line breaks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from mentorflow.console.web import SECURITY_HEADERS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object, zone: ZoneInfo) -> str:
    """One cell's text: dates in ``zone``, numbers as they are, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]], zone: ZoneInfo) -> str:
    """A header row and the rows, as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(column, zone) for column in columns])
    writer.writerows([cell(value, zone) for value in row] for row in rows)
    return buffer.getvalue()


def csv_download(filename: str, text: str) -> Response:
    """``text`` as a CSV attachment called ``filename`` ([a-z0-9.-] only)."""
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
