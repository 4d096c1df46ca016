"""Importing a people CSV file into the directory: plan everything, then apply it or nothing.

`plan_import` reads the file (`mentorflow.directory.csv_file`), folds every person it names
in one read, and plans each row with the directory's own diff (`domain.person.changes_towards`),
so a dry run shows exactly what applying would record. It names every problem: of the file,
of each row (the profile rules of `domain.person.profile_problems`), a person id on two rows,
a forgotten person, a manager who is neither in the file nor in the directory, a user name
another person has. `apply_import` refuses a plan with any problem (nothing is recorded), and
otherwise hands each changed row to `PeopleDirectory.apply` with ``source="csv"``.

Idempotent: a row already true in the directory plans no event, so importing the same file
twice records nothing the second time. Fields whose column the file leaves out, and the fields
a CSV never owns (skills, skills wanted, career objectives), keep their current values.
The report names changed fields, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from domain.person import DesiredPerson, PersonState, changes_towards, profile_problems
from events.person import PersonProfile
from mentorflow.directory.csv_file import CsvPerson, read_people_csv
from mentorflow.directory.service import Applied, DirectoryError, PeopleDirectory

_DEACTIVATED, _REACTIVATED = "PersonDeactivated", "PersonReactivated"


class PeopleImportInvalid(DirectoryError):
    """The file has problems: nothing was (or would be) applied; ``problems`` names each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"the people file has {len(problems)} problems")
        self.problems = problems


class PersonChange(BaseModel):
    """What importing one row records (or would record) for a person; names, never values."""

    model_config = ConfigDict(frozen=True)

    row: int = Field(description="Spreadsheet row number (the header is row 1)")
    person_id: str
    new: bool = Field(description="The directory did not know the person")
    changed_fields: list[str] = Field(description="Profile fields changed (names only)")
    deactivated: bool
    reactivated: bool
    events: list[str] = Field(description="Event types recorded, in order")


class ImportReport(BaseModel):
    """The diff of an import (dry run or applied) and every problem found."""

    model_config = ConfigDict(frozen=True)

    dry_run: bool
    applied: bool = Field(description="Whether the changes were recorded")
    rows: int = Field(description="Person rows read")
    changes: list[PersonChange] = Field(description="Rows that change something")
    problems: list[str] = Field(description="Every problem, 'row N: column: reason'")
    events_recorded: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def new(self) -> int:
        """People the directory did not know."""
        return sum(change.new for change in self.changes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def changed(self) -> int:
        """Known people whose profile changes."""
        return sum(bool(change.changed_fields) for change in self.changes if not change.new)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deactivated(self) -> int:
        """People deactivated."""
        return sum(change.deactivated for change in self.changes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reactivated(self) -> int:
        """People reactivated."""
        return sum(change.reactivated for change in self.changes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unchanged(self) -> int:
        """Rows already true in the directory."""
        return self.rows - len(self.changes)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """A planned import: its report (a dry run's answer) and the rows to apply."""

    report: ImportReport
    to_apply: list[CsvPerson]


async def plan_import(
    directory: PeopleDirectory, content: bytes, *, now: datetime | None = None
) -> ImportPlan:
    """Read ``content`` and plan every row against the directory; nothing is recorded.

    Raises:
        DatabaseUnavailable: The database went away.
    """
    at = now or datetime.now(UTC)
    read = read_people_csv(content)
    people = read.people
    known = {state.person_id: state for state in await directory.all_people()}
    asked = {person.person_id for person in people} | _managers(people)
    states = known | await directory.states(sorted(asked - known.keys()))
    problems = [*read.problems, *_duplicates(people), *_user_name_clashes(people, known)]
    changes: list[PersonChange] = []
    to_apply: list[CsvPerson] = []
    in_file = {person.person_id for person in people}
    for person in people:
        state = states[person.person_id]
        row_problems = _row_problems(person, state, states, in_file)
        problems.extend(row_problems)
        if row_problems:
            continue
        change = _change(person, state, at)
        if change.events:
            changes.append(change)
            to_apply.append(person)
    report = ImportReport(
        dry_run=True,
        applied=False,
        rows=len(people),
        changes=changes,
        problems=sorted(problems, key=_row_order),
    )
    return ImportPlan(report, to_apply)


async def apply_import(
    directory: PeopleDirectory, plan: ImportPlan, *, now: datetime | None = None
) -> ImportReport:
    """Record a plan's changes row by row through `PeopleDirectory.apply` (``source="csv"``).

    Each person is read again just before: what changed since the plan (a participant's own
    skills, say) is kept, and a row that became true meanwhile records nothing.

    Raises:
        PeopleImportInvalid: The plan has problems; nothing was recorded.
        PersonIsForgotten: A person was forgotten since the plan (earlier rows are recorded).
        DirectoryBusy: Other writers kept changing a person (earlier rows are recorded).
        DatabaseUnavailable: The database went away (earlier rows are recorded).
    """
    if plan.report.problems:
        raise PeopleImportInvalid(plan.report.problems)
    at = now or datetime.now(UTC)
    changes: list[PersonChange] = []
    for person in plan.to_apply:
        state = (await directory.states([person.person_id]))[person.person_id]
        applied = await directory.apply(
            person.person_id, _desired(person, state), source="csv", now=at
        )
        if applied.recorded:
            changes.append(_described(person, applied))
    return ImportReport(
        dry_run=False,
        applied=True,
        rows=plan.report.rows,
        changes=changes,
        problems=[],
        events_recorded=sum(len(change.events) for change in changes),
    )


def _desired(person: CsvPerson, state: PersonState) -> DesiredPerson:
    before = state.profile or PersonProfile()
    # The columns the file lacks are kept as the directory holds them when the row is
    # recorded, not as read here: a change landing in between is not undone.
    kept = frozenset(PersonProfile.model_fields) - set(person.fields)
    return DesiredPerson(
        profile=before.model_copy(update=person.fields), active=person.active, kept=kept
    )


def _change(person: CsvPerson, state: PersonState, at: datetime) -> PersonChange:
    planned = changes_towards(
        state, person.person_id, _desired(person, state), source="csv", now=at
    )
    events = [event.event_type for event in planned.events]
    return PersonChange(
        row=person.row,
        person_id=person.person_id,
        new=not state.known,
        changed_fields=planned.changed_fields,
        deactivated=_DEACTIVATED in events,
        reactivated=_REACTIVATED in events,
        events=events,
    )


def _described(person: CsvPerson, applied: Applied) -> PersonChange:
    return PersonChange(
        row=person.row,
        person_id=person.person_id,
        new=applied.created,
        changed_fields=applied.changed_fields,
        deactivated=_DEACTIVATED in applied.recorded,
        reactivated=_REACTIVATED in applied.recorded,
        events=applied.recorded,
    )


def _row_problems(
    person: CsvPerson,
    state: PersonState,
    states: dict[str, PersonState],
    in_file: set[str],
) -> list[str]:
    prefix = f"row {person.row}: "
    if state.forgotten:
        return [prefix + f"person_id: {person.person_id} was forgotten; nothing more is recorded"]
    problems = [prefix + problem for problem in profile_problems(_desired(person, state).profile)]
    manager_id = person.fields.get("manager_id")
    if isinstance(manager_id, str):
        manager = states.get(manager_id)
        if manager_id == person.person_id:
            problems.append(prefix + "manager_id: a person cannot be their own manager")
        elif manager_id not in in_file and (
            manager is None or not manager.known or manager.forgotten
        ):
            problems.append(
                prefix + f"manager_id: {manager_id} is neither in the file nor in the directory"
            )
    return problems


def _managers(people: list[CsvPerson]) -> set[str]:
    return {
        manager for person in people if isinstance(manager := person.fields.get("manager_id"), str)
    }


def _duplicates(people: list[CsvPerson]) -> list[str]:
    first: dict[str, int] = {}
    problems: list[str] = []
    for person in people:
        if person.person_id in first:
            problems.append(
                f"row {person.row}: person_id: {person.person_id} is also on row "
                f"{first[person.person_id]}"
            )
        else:
            first[person.person_id] = person.row
    return problems


def _user_name_clashes(people: list[CsvPerson], known: dict[str, PersonState]) -> list[str]:
    """A user name on two rows, or held by someone visible the file does not name."""
    in_file = {person.person_id for person in people}
    holders: dict[str, str] = {
        state.profile.user_name.casefold(): f"the directory's {person_id}"
        for person_id, state in known.items()
        if person_id not in in_file
        and state.profile is not None
        and state.profile.user_name
        and not state.removed
        and not state.forgotten
    }
    problems: list[str] = []
    for person in people:
        user_name = person.fields.get("user_name")
        if not isinstance(user_name, str) or not user_name:
            continue
        key = user_name.casefold()
        if key in holders:
            problems.append(f"row {person.row}: user_name: already the user name of {holders[key]}")
        else:
            holders[key] = f"row {person.row}"
    return problems


def _row_order(problem: str) -> int:
    """File-wide problems first, then by row number (a row's own problems keep their order)."""
    number = problem.split(":", 1)[0].removeprefix("row ")
    return int(number) if number.isdigit() else 0
