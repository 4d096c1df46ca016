"""The cohort spec: what HR systems send to launch a cohort (JSON or YAML, same fields).

The field list is part of the public contract (``CONTRACT.md``, "Cohort spec"). Two layers of
validation run on it:

* field rules, declared on the pydantic models: types, ranges, patterns, IANA time zones,
  ISO 8601 times with an offset and ISO 8601 durations, unknown fields rejected;
* cross-field rules, which need the whole cohort: unique participant ids, known manager and
  avoid ids, no cycle in the reporting line, the program's dates in order, review cycles inside
  the program, at least one mentor and one mentee.

:func:`parse_cohort_spec` is the entry point for input from outside. It validates the program
and every participant separately, then runs the cross-field rules on whatever parsed, so that a
single :class:`CohortSpecInvalid` names every problem at once, each prefixed with its location
(``participants[3].manager_id: unknown participant 'p-999'``). Building the models directly
(``CohortSpec.model_validate``) enforces the same rules, with less precise locations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails

from domain.notification_spec import EmailAddress, NotificationsSpec, hr_contact_problems
from domain.spec_fields import PARTICIPANT_ID_PATTERN as PARTICIPANT_ID_PATTERN
from domain.spec_fields import Name, ParticipantId, TimeZoneName, matching
from domain.text import LIST_ITEMS, Label

REFERENCE_KEY = "person_id"
"""A participant entry with this key references a directory person (`domain.cohort_references`)."""
DEFAULT_TRAINING_MODULES = ("active-listening", "constructive-feedback", "career-goal-setting")

# Passed as validation context by parse_cohort_spec, which runs the cross-field rules itself
# (with exact locations) instead of letting the model validators raise one lumped error.
_DEFER_CROSS_CHECKS = "defer_cross_checks"
_DEFERRED = {_DEFER_CROSS_CHECKS: True}


class CohortSpecInvalid(ValueError):
    """A cohort spec was rejected; ``problems`` lists every problem found, with its location."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"cohort spec has {len(self.problems)} problem(s):\n{listing}")


def _require_iso_duration(value: object) -> object:
    # pydantic also accepts numbers of seconds and "HH:MM:SS"; the contract promises ISO 8601,
    # so anything else in a spec is rejected rather than silently read in another unit.
    if isinstance(value, str) and not re.fullmatch(r"-?P.*", value.strip()):
        raise ValueError(f"expected an ISO 8601 duration such as P14D or PT30S, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"expected an ISO 8601 duration such as P14D or PT30S, got {value!r}")
    return value


def _require_distinct(values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise ValueError(f"repeated value(s): {', '.join(repeated)}")
    return values


CohortId = Annotated[
    str,
    AfterValidator(matching(r"[a-z0-9-]{3,64}", "must be 3 to 64 characters of a-z, 0-9 and '-'")),
]
LanguageCode = Annotated[
    str,
    AfterValidator(
        matching(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*", "must be a language code such as 'de'")
    ),
]
Duration = Annotated[timedelta, BeforeValidator(_require_iso_duration)]
PositiveDuration = Annotated[Duration, Field(gt=timedelta(0))]
Role = Literal["mentor", "mentee"]
SkillLevel = Annotated[int, Field(ge=0, le=5)]
TraitScore = Annotated[float, Field(ge=0.0, le=1.0)]


class _SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchingWeights(_SpecModel):
    """Relative weights of the four parts of a mentor's compatibility for a mentee.

    Only their proportions matter: the matching engine divides by their sum.
    """

    skills: float = Field(default=0.4, ge=0.0, description="Coverage of the mentee's wanted skills")
    objectives: float = Field(default=0.3, ge=0.0, description="Shared career tracks")
    personality: float = Field(default=0.2, ge=0.0, description="Work-style (Big Five) fit")
    logistics: float = Field(default=0.1, ge=0.0, description="Time zones and languages")

    @model_validator(mode="after")
    def _some_weight_counts(self) -> Self:
        if self.skills + self.objectives + self.personality + self.logistics <= 0:
            raise ValueError("at least one weight must be greater than 0")
        return self


class Traits(_SpecModel):
    """Personality and work style as the Big Five dimensions, each from 0 to 1."""

    openness: TraitScore
    conscientiousness: TraitScore
    extraversion: TraitScore
    agreeableness: TraitScore
    emotional_stability: TraitScore


class ProgramSpec(_SpecModel):
    """The program a cohort runs: its calendar, its rules and how matches are weighed."""

    name: Name
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    conversation_cadence: PositiveDuration = timedelta(days=14)
    grace_period: Annotated[Duration, Field(ge=timedelta(0))] = timedelta(days=3)
    onboarding_window: PositiveDuration = timedelta(days=21)
    leaver_grace_period: Annotated[Duration, Field(ge=timedelta(0), le=timedelta(days=366))] = (
        timedelta(days=14)
    )
    """How long a participant the directory deactivated has to come back: their
    relationships are paused meanwhile, then closed (``mentor_left``/``mentee_left``)."""
    escalate_after_missed: int = Field(default=2, ge=1, le=100)
    training_modules: Annotated[tuple[Label, ...], Field(max_length=LIST_ITEMS)] = (
        DEFAULT_TRAINING_MODULES
    )
    review_cycles: Annotated[tuple[AwareDatetime, ...], Field(max_length=LIST_ITEMS)] = ()
    require_hr_approval: bool = False
    min_seniority_gap: int = Field(default=1, ge=0, le=9)
    default_mentor_capacity: int = Field(default=2, ge=1, le=100)
    weights: MatchingWeights = MatchingWeights()

    @model_validator(mode="after")
    def _calendar_is_consistent(self, info: ValidationInfo) -> Self:
        if not _deferred(info):
            _raise_if_any(_program_problems(self))
        return self


class ParticipantSpec(_SpecModel):
    """A person in the cohort: a mentor, a mentee, or both."""

    id: ParticipantId
    name: Name
    roles: Annotated[list[Role], Field(min_length=1), AfterValidator(_require_distinct)]
    department: Label | None = None
    manager_id: ParticipantId | None = None
    seniority: int = Field(ge=1, le=10)
    timezone: TimeZoneName
    languages: Annotated[
        list[LanguageCode], Field(max_length=LIST_ITEMS), AfterValidator(_require_distinct)
    ] = []
    skills: Annotated[dict[Label, SkillLevel], Field(max_length=LIST_ITEMS)] = {}
    wants_to_develop: Annotated[
        list[Label], Field(max_length=LIST_ITEMS), AfterValidator(_require_distinct)
    ] = []
    career_objectives: Annotated[
        list[Label], Field(max_length=LIST_ITEMS), AfterValidator(_require_distinct)
    ] = []
    traits: Traits | None = None
    mentor_capacity: int | None = Field(default=None, ge=1, le=100)
    avoid: Annotated[list[ParticipantId], Field(max_length=LIST_ITEMS)] = []
    email: EmailAddress | None = Field(
        default=None, description="Where notifications go; none: the person gets no email"
    )

    @property
    def is_mentor(self) -> bool:
        """Whether the participant may mentor someone."""
        return "mentor" in self.roles

    @property
    def is_mentee(self) -> bool:
        """Whether the participant is to be mentored."""
        return "mentee" in self.roles


class CohortSpec(_SpecModel):
    """A cohort of a mentoring program, as launched by HR."""

    cohort_id: CohortId
    program: ProgramSpec
    participants: list[ParticipantSpec]
    notifications: NotificationsSpec = NotificationsSpec()

    @model_validator(mode="after")
    def _participants_are_consistent(self, info: ValidationInfo) -> Self:
        if not _deferred(info):
            entries = [
                _Entry.of(index, participant) for index, participant in enumerate(self.participants)
            ]
            _raise_if_any(
                [
                    *_participant_problems(entries),
                    *hr_contact_problems(self.notifications.hr_contacts, _first_indexes(entries)),
                ]
            )
        return self

    @property
    def mentors(self) -> list[ParticipantSpec]:
        """Participants with the mentor role, in spec order."""
        return [participant for participant in self.participants if participant.is_mentor]

    @property
    def mentees(self) -> list[ParticipantSpec]:
        """Participants with the mentee role, in spec order."""
        return [participant for participant in self.participants if participant.is_mentee]

    def mentor_capacities(self) -> dict[str, int]:
        """How many mentees each mentor takes: their own capacity or the program's default."""
        default = self.program.default_mentor_capacity
        return {mentor.id: mentor.mentor_capacity or default for mentor in self.mentors}


def joining_problems(spec: CohortSpec, participant: ParticipantSpec) -> list[str]:
    """Why ``participant`` cannot join the cohort of ``spec`` late: the cohort-wide rules
    (a new id, known manager and avoid ids, no reporting cycle, not an HR contact's id), each
    with its location in the spec the joiner would make. Empty when they can join."""
    people = [*spec.participants, participant]
    entries = [_Entry.of(index, person) for index, person in enumerate(people)]
    return [
        *_participant_problems(entries),
        *hr_contact_problems(spec.notifications.hr_contacts, _first_indexes(entries)),
    ]


def _deferred(info: ValidationInfo) -> bool:
    return isinstance(info.context, Mapping) and bool(info.context.get(_DEFER_CROSS_CHECKS))


def _raise_if_any(problems: list[str]) -> None:
    if problems:
        raise ValueError("; ".join(problems))


# --- cross-field rules -------------------------------------------------------------------------


def _program_problems(program: ProgramSpec) -> list[str]:
    """Problems in the program's calendar: dates out of order, review cycles outside it."""
    return _calendar_problems(
        program.starts_at, program.ends_at, list(enumerate(program.review_cycles))
    )


def _calendar_problems(
    starts_at: datetime, ends_at: datetime, review_cycles: Iterable[tuple[int, datetime]]
) -> list[str]:
    if ends_at <= starts_at:
        return [
            f"program.ends_at: {ends_at.isoformat()} must be after "
            f"program.starts_at {starts_at.isoformat()}"
        ]
    return [
        f"program.review_cycles[{index}]: {review_at.isoformat()} is outside the program "
        f"({starts_at.isoformat()} to {ends_at.isoformat()})"
        for index, review_at in review_cycles
        if not starts_at <= review_at <= ends_at
    ]


@dataclass(frozen=True)
class _Entry:
    """One item of ``participants``, as far as it could be read.

    A participant that failed its own validation still contributes what is readable (its id,
    manager, avoid list and roles), so that one typo in a person does not hide problems in the
    links to and from them, nor produce false "unknown participant" problems for their reports.
    """

    index: int
    id: str | None
    manager_id: str | None
    avoid: tuple[object, ...]
    roles: frozenset[object]

    @classmethod
    def of(cls, index: int, participant: ParticipantSpec) -> _Entry:
        return cls(
            index,
            participant.id,
            participant.manager_id,
            tuple(participant.avoid),
            frozenset(participant.roles),
        )

    @classmethod
    def readable_part(cls, index: int, item: object) -> _Entry:
        if not isinstance(item, Mapping):
            return cls(index, None, None, (), frozenset())
        raw_id, manager_id, avoid, roles = (
            item.get(key) for key in ("id", "manager_id", "avoid", "roles")
        )
        if raw_id is None:
            raw_id = item.get(REFERENCE_KEY)
        return cls(
            index,
            raw_id if isinstance(raw_id, str) else None,
            manager_id if isinstance(manager_id, str) else None,
            tuple(avoid) if isinstance(avoid, list) else (),
            frozenset(role for role in roles if isinstance(role, str))
            if isinstance(roles, list)
            else frozenset(),
        )


def _first_indexes(entries: Sequence[_Entry]) -> dict[str, int]:
    """Each readable participant id and the index of its first appearance."""
    first_index: dict[str, int] = {}
    for entry in entries:
        if entry.id is not None:
            first_index.setdefault(entry.id, entry.index)
    return first_index


def _participant_problems(entries: Sequence[_Entry]) -> list[str]:
    """Problems across participants: duplicate and unknown ids, cycles, missing roles."""
    problems: list[str] = []
    first_index: dict[str, int] = {}
    for entry in entries:
        if entry.id is None:
            continue
        if entry.id in first_index:
            problems.append(
                f"participants[{entry.index}].id: duplicate id {entry.id!r} "
                f"(also participants[{first_index[entry.id]}])"
            )
        else:
            first_index[entry.id] = entry.index

    for entry in entries:
        where = f"participants[{entry.index}]"
        if entry.manager_id is not None and entry.manager_id == entry.id:
            problems.append(f"{where}.manager_id: a participant cannot be their own manager")
        elif entry.manager_id is not None and entry.manager_id not in first_index:
            problems.append(f"{where}.manager_id: unknown participant {entry.manager_id!r}")
        for position, avoided_id in enumerate(entry.avoid):
            if isinstance(avoided_id, str) and avoided_id not in first_index:
                problems.append(f"{where}.avoid[{position}]: unknown participant {avoided_id!r}")

    problems.extend(_reporting_cycles(entries, first_index))

    for role in ("mentor", "mentee"):
        if not any(role in entry.roles for entry in entries):
            problems.append(f"participants: nobody has the role {role!r}; a cohort needs both")
    return problems


def _reporting_cycles(entries: Sequence[_Entry], first_index: Mapping[str, int]) -> list[str]:
    """One problem per cycle in the manager chain (self-management is reported elsewhere)."""
    manager_of: dict[str, str] = {}
    for entry in entries:
        if entry.id is None or first_index[entry.id] != entry.index:
            continue
        if entry.manager_id is not None and entry.manager_id != entry.id:
            manager_of[entry.id] = entry.manager_id

    problems: list[str] = []
    settled: set[str] = set()
    for start in sorted(manager_of, key=first_index.__getitem__):
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current not in settled and current not in on_path:
            path.append(current)
            on_path.add(current)
            current = manager_of.get(current)
        if current is not None and current in on_path:
            cycle = path[path.index(current) :]
            # Name the cycle once, at its member that comes first in the spec.
            anchor = min(cycle, key=first_index.__getitem__)
            rotation = cycle.index(anchor)
            ordered = [*cycle[rotation:], *cycle[:rotation], anchor]
            problems.append(
                f"participants[{first_index[anchor]}].manager_id: the reporting line forms a "
                f"cycle: {' -> '.join(ordered)}"
            )
        settled.update(path)
    return problems


# --- parsing -----------------------------------------------------------------------------------


class _SpecYamlLoader(yaml.SafeLoader):
    """YAML with the YAML 1.2 booleans only, and without base-60 numbers.

    YAML 1.1 reads ``no``, ``yes``, ``on`` and ``off`` as booleans, which would turn the
    language code ``no`` (Norwegian) into ``False``; and it reads ``21:00`` as the base-60
    number 1260, which would turn a quiet-hours time into a number. Both are text here, as
    in YAML 1.2.
    """


_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_SpecYamlLoader.yaml_implicit_resolvers = {
    first: [
        *([("tag:yaml.org,2002:str", _SEXAGESIMAL)] if first in "+-0123456789" else []),
        *((tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"),
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _AliasFreeSpecYamlLoader(_SpecYamlLoader):
    """YAML as `_SpecYamlLoader` reads it, refusing aliases (``*name``).

    A few lines of nested aliases expand into a document exponentially larger than its text
    (the "billion laughs"): PyYAML shares the aliased objects, but validation walks every
    copy. A spec has no need of them, so text from an untrusted sender (an upload in the web
    console) is read with this loader.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted in a cohort spec", event.start_mark
            )
        return super().compose_node(parent, index)


def load_spec_document(
    raw: str | bytes,
    format: Literal["json", "yaml"],
    *,
    aliases: bool = True,
    max_bytes: int | None = None,
) -> object:
    """Decode a spec's text (JSON or YAML, safely: plain data only) without validating it.

    Args:
        raw: The text.
        format: How it is written.
        aliases: Whether YAML aliases are followed; refuse them for untrusted senders.
        max_bytes: The largest text accepted, in UTF-8 bytes.

    Raises:
        CohortSpecInvalid: The text is too large, or not JSON / YAML (where it went wrong).
    """
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if max_bytes is not None and size > max_bytes:
        raise CohortSpecInvalid(
            [f"document: {size} bytes, larger than the limit of {max_bytes} bytes"]
        )
    loader = _SpecYamlLoader if aliases else _AliasFreeSpecYamlLoader
    try:
        if format == "json":
            return json.loads(raw)
        return yaml.load(raw, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as error:
        problem = f"document: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        raise CohortSpecInvalid([problem]) from error
    except yaml.YAMLError as error:
        raise CohortSpecInvalid([f"document: invalid YAML: {error}"]) from error
    except UnicodeDecodeError as error:
        raise CohortSpecInvalid([f"document: not UTF-8 text ({error.reason})"]) from error


def _load_document(raw: str | bytes, format: Literal["json", "yaml"]) -> object:
    return load_spec_document(raw, format)


class _CohortShell(_SpecModel):
    """The top level of a spec, with program, participants and notifications left for
    separate validation."""

    cohort_id: CohortId
    program: dict[str, Any]
    participants: list[Any]
    notifications: dict[str, Any] = {}


def _location(prefix: str, location: Iterable[int | str]) -> str:
    text = prefix
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            text = f"{text}.{part}" if text else part
    return text or "document"


def _describe(error: ErrorDetails, prefix: str) -> str:
    where = _location(prefix, error["loc"])
    if error["type"] == "missing":
        return f"{where}: required field is missing"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    message = error["msg"].removeprefix("Value error, ")
    received = error.get("input")
    if error["type"] != "value_error" and isinstance(received, str | int | float | bool):
        message = f"{message} (got {received!r})"
    return f"{where}: {message}"


def _errors(error: ValidationError, prefix: str) -> list[str]:
    return [_describe(detail, prefix) for detail in error.errors(include_url=False)]


def parse_cohort_spec(
    raw: Mapping[str, Any] | str | bytes,
    format: Literal["json", "yaml"] = "json",
) -> CohortSpec:
    """Validate a cohort spec and name every problem at once.

    Args:
        raw: The spec as text (JSON or YAML) or as already-decoded data.
        format: How ``raw`` is written when it is text; ignored for decoded data.

    Returns:
        The valid spec.

    Raises:
        CohortSpecInvalid: With every problem found, each prefixed with its location.
    """
    document = _load_document(raw, format) if isinstance(raw, str | bytes) else raw
    if not isinstance(document, Mapping):
        raise CohortSpecInvalid(["document: expected a mapping with cohort_id, program and so on"])

    problems: list[str] = []
    shell: _CohortShell | None = None
    try:
        shell = _CohortShell.model_validate(document)
    except ValidationError as error:
        problems.extend(_errors(error, ""))

    program, program_problems = _parse_program(document.get("program"))
    problems.extend(program_problems)

    participants: list[ParticipantSpec] = []
    entries: list[_Entry] = []
    raw_participants = document.get("participants")
    if isinstance(raw_participants, list):
        for index, item in enumerate(raw_participants):
            if isinstance(item, Mapping) and REFERENCE_KEY in item:
                # Resolved by domain.cohort_references before a spec gets here; a way in that
                # reads no directory says so rather than "unknown field".
                problems.append(
                    f"participants[{index}].{REFERENCE_KEY}: a reference to the people "
                    "directory, which is not read here: launch through the API, the console "
                    "or the CLI, or inline the person's profile"
                )
                entries.append(_Entry.readable_part(index, item))
                continue
            try:
                participant = ParticipantSpec.model_validate(item, context=_DEFERRED)
            except ValidationError as error:
                problems.extend(_errors(error, f"participants[{index}]"))
                entries.append(_Entry.readable_part(index, item))
            else:
                participants.append(participant)
                entries.append(_Entry.of(index, participant))
        problems.extend(_participant_problems(entries))

    notifications, notification_problems = _parse_notifications(
        document.get("notifications"), _first_indexes(entries)
    )
    problems.extend(notification_problems)

    if problems or shell is None or program is None or notifications is None:
        raise CohortSpecInvalid(problems or ["document: the spec could not be read"])
    return CohortSpec(
        cohort_id=shell.cohort_id,
        program=program,
        participants=participants,
        notifications=notifications,
    )


def _parse_notifications(
    raw: object, participant_ids: Mapping[str, int]
) -> tuple[NotificationsSpec | None, list[str]]:
    """The ``notifications`` block (the default when absent) and its problems, the HR
    contacts' ids checked against each other and the participants' even when a contact
    has other problems."""
    if raw is None:
        return NotificationsSpec(), []
    if not isinstance(raw, Mapping):
        return None, []  # the shell already reported it
    problems: list[str] = []
    notifications: NotificationsSpec | None = None
    try:
        notifications = NotificationsSpec.model_validate(raw)
    except ValidationError as error:
        problems.extend(_errors(error, "notifications"))
    contacts = raw.get("hr_contacts")
    if isinstance(contacts, list):
        problems.extend(hr_contact_problems(contacts, participant_ids))
    return notifications, problems


class _ProgramCalendar(BaseModel):
    """The program's dates alone, to check their order when other program fields are wrong."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    review_cycles: list[Any] = []


def _parse_program(raw_program: object) -> tuple[ProgramSpec | None, list[str]]:
    if not isinstance(raw_program, Mapping):
        return None, []  # the shell already reported it
    try:
        program = ProgramSpec.model_validate(raw_program, context=_DEFERRED)
    except ValidationError as error:
        problems = _errors(error, "program")
    else:
        return program, _program_problems(program)
    try:
        calendar = _ProgramCalendar.model_validate(raw_program)
    except ValidationError:
        return None, problems  # the dates themselves are wrong, and already reported
    review_cycles = [
        (index, moment)
        for index, raw_moment in enumerate(calendar.review_cycles)
        if (moment := _aware_datetime_or_none(raw_moment)) is not None
    ]
    problems.extend(_calendar_problems(calendar.starts_at, calendar.ends_at, review_cycles))
    return None, problems


_AWARE_DATETIME: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


def _aware_datetime_or_none(value: object) -> datetime | None:
    try:
        return _AWARE_DATETIME.validate_python(value)
    except ValidationError:
        return None
