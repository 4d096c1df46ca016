"""Reading a people CSV file (HR's export) into rows, naming every problem on the way.

The file is hostile input: it is read whole within `MAX_FILE_BYTES` and `MAX_ROWS`, must be
UTF-8 (a byte order mark is tolerated), and goes through Python's `csv` module only. Each
row becomes a `CsvPerson` holding the profile fields of the columns the file has; a column the
file leaves out is a field the import leaves untouched. Values are stored as text, never
evaluated: a cell starting with ``=``, ``+``, ``-`` or ``@`` is just text here (a spreadsheet
that opens an export of it may still treat it as a formula).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first person row 2.
Problems name the row and the column, never a personal value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from domain.spec_fields import PARTICIPANT_ID_PATTERN
from domain.text import SHORT_TEXT, text_problem

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
"""The largest file read (10 MiB)."""
MAX_ROWS: Final = 50_000
"""The most person rows a file may have."""

COLUMNS: Final[dict[str, str]] = {
    "person_id": "required: the directory id (1-64 letters, digits, '._@-')",
    "user_name": "sign-in name, usually the email",
    "given_name": "given name",
    "family_name": "family name",
    "display_name": "the name shown in mentorflow",
    "email": "work email address",
    "employee_number": "the HR system's employee number",
    "external_id": "the HR system's own id of the person",
    "department": "department or team",
    "manager_id": "the manager's person id (in the file or the directory); empty: none",
    "timezone": "IANA time zone name, e.g. Europe/Berlin",
    "languages": "language codes separated by ';', e.g. en;de",
    "active": "true or false (empty: true); false deactivates, true reactivates",
}
"""The columns a file may have, in the order the help lists them, with their meaning."""

_PROFILE_FIELD: Final = {"display_name": "name"}
"""Columns whose profile field has another name (the others have their own)."""
_PERSON_ID = re.compile(PARTICIPANT_ID_PATTERN)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


@dataclass(frozen=True, slots=True)
class CsvPerson:
    """One person row: what the file says about them."""

    row: int
    """The spreadsheet row number (the header is row 1)."""
    person_id: str
    fields: dict[str, str | list[str] | None]
    """Profile field name to value, for the columns the file has (manager_id None: none)."""
    active: bool


@dataclass(frozen=True, slots=True)
class CsvPeople:
    """A file read: its usable rows and every problem found (empty: the file is clean)."""

    people: list[CsvPerson] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_people_csv(content: bytes) -> CsvPeople:
    """Read a people CSV file; every problem of the file, header and rows is named.

    Rows with problems are left out of ``people``; the caller applies nothing unless
    ``problems`` is empty.
    """
    if len(content) > MAX_FILE_BYTES:
        return CsvPeople(problems=[f"file: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return CsvPeople(problems=[f"file: not UTF-8 (byte {error.start})"])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as error:
        return CsvPeople(problems=[f"row 1: not CSV ({error})"])
    header_problems = _header_problems(header)
    if header_problems:
        return CsvPeople(problems=header_problems)
    return _read_rows(reader, header)


def _header_problems(header: list[str]) -> list[str]:
    if not any(header):
        return ["row 1: the header row is missing (it names the columns, person_id first)"]
    problems = [
        f"row 1: unknown column {name[:SHORT_TEXT]!r}"
        + ("" if name.isprintable() else " (with unprintable characters)")
        for name in header
        if name not in COLUMNS
    ]
    seen: set[str] = set()
    for name in header:
        if name in seen and name in COLUMNS:
            problems.append(f"row 1: column {name!r} appears twice")
        seen.add(name)
    if "person_id" not in header:
        problems.append("row 1: the required column 'person_id' is missing")
    return problems


def _read_rows(reader: Iterator[list[str]], header: list[str]) -> CsvPeople:
    people: list[CsvPerson] = []
    problems: list[str] = []
    row, counted = 1, 0
    try:
        for cells in reader:
            row += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            counted += 1
            if counted > MAX_ROWS:
                problems.append(f"file: more than {MAX_ROWS} rows")
                break
            person, row_problems = _person(row, header, cells)
            problems.extend(row_problems)
            if person is not None:
                people.append(person)
    except csv.Error as error:
        problems.append(f"row {row + 1}: not CSV ({error})")
    return CsvPeople(people, problems)


def _person(row: int, header: list[str], cells: list[str]) -> tuple[CsvPerson | None, list[str]]:
    if len(cells) != len(header):
        return None, [f"row {row}: {len(cells)} fields, the header has {len(header)}"]
    values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    problems = [
        f"row {row}: {name}: {problem}"
        for name, value in values.items()
        if (problem := _cell_problem(name, value)) is not None
    ]
    if problems:
        return None, problems
    fields: dict[str, str | list[str] | None] = {}
    for name, value in values.items():
        if name in ("person_id", "active"):
            continue
        fields[_PROFILE_FIELD.get(name, name)] = _value(name, value)
    active = values.get("active", "").casefold() not in _FALSE
    return CsvPerson(row, values["person_id"], fields, active), []


def _cell_problem(name: str, value: str) -> str | None:
    """Why a cell is refused; the profile's own rules (length, control characters, `sealed:`,
    time zones) are checked again on the whole profile by the directory."""
    if (problem := text_problem(value)) is not None:
        return problem
    if name == "person_id":
        if not value:
            return "missing (every row needs the person's directory id)"
        if not _PERSON_ID.fullmatch(value):
            return "must be a person id (1-64 letters, digits, '._@-')"
    if name == "manager_id" and value and not _PERSON_ID.fullmatch(value):
        return "must be a person id (1-64 letters, digits, '._@-')"
    if name == "email" and value and not _EMAIL.fullmatch(value):
        return "not an email address"
    if name == "active" and value and value.casefold() not in _TRUE + _FALSE:
        return "must be true or false"
    return None


def _value(name: str, value: str) -> str | list[str] | None:
    if name == "languages":
        return [item.strip() for item in value.split(";") if item.strip()]
    if name == "manager_id":
        return value or None
    return value
