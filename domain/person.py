"""A directory person: their state folded from the events of ``person-{id}``, and the events
that turn it into a desired one.

`evolve` is the one fold of a person's stream: the directory service uses it to decide what
to append and the ``people`` read model to fill its row, so both agree on who a person is.
`changes_towards` is the diff: it compares the current state with a desired profile and
returns only the events for what differs, so applying the same desired state twice records
nothing the second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from domain.spec_fields import PARTICIPANT_ID_PATTERN, is_known_time_zone
from domain.text import LIST_ITEMS, SHORT_TEXT, text_problem
from events import DomainEvent
from events import person as p
from events.handlers import EventHandlers
from events.person import BigFiveScores, PersonProfile, ProfileChanges, ProfileSource

LookupField = Literal["email", "employee_number", "external_id", "user_name"]
"""Profile fields a person can be found by (single sign-on matches a claim against one)."""
LOOKUP_FIELDS: tuple[LookupField, ...] = get_args(LookupField)
PersonMatch = Literal["person_id", "email", "employee_number", "external_id", "user_name"]
"""What a sign-in's person claim is matched against: the person id, or a `LookupField`."""
PERSON_MATCHES: tuple[PersonMatch, ...] = get_args(PersonMatch)


def person_match(value: str) -> PersonMatch:
    """``value`` as a `PersonMatch`.

    Raises:
        ValueError: It is none of them (the message lists them).
    """
    for match in PERSON_MATCHES:
        if match == value:
            return match
    raise ValueError(f"unknown person match {value!r} (one of: {', '.join(PERSON_MATCHES)})")


_CHANGEABLE = tuple(name for name in ProfileChanges.model_fields)
"""Profile fields a `ProfileUpdated` carries (all but the manager)."""
OWN_FIELDS: frozenset[str] = frozenset(
    {"timezone", "languages", "skills", "wants_to_develop", "career_objectives"}
)
"""Profile fields the person owns and edits themselves (`domain.self_service.OwnProfile`);
SCIM never sets them, a CSV import only the time zone and languages when it has the column."""


@dataclass(slots=True)
class PersonState:
    """Where a person stands in the directory.

    ``profile`` is None until `PersonProfiled`; ``version`` is the stream version folded.
    """

    person_id: str = ""
    profile: PersonProfile | None = None
    active: bool = False
    removed: bool = False
    """Deleted by the provisioning client (SCIM DELETE): gone from its view until reactivated."""
    deactivated_at: datetime | None = None
    deactivation_reason: str | None = None
    forgotten: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0
    traits: BigFiveScores | None = None
    """The person's Big Five, scored from their answers with consent (`TraitsAssessed`);
    None when they never gave them, withdrew their consent, or were forgotten."""
    traits_instrument: str | None = None
    """The questionnaire the traits come from (``Mini-IPIP``)."""
    traits_consented_at: datetime | None = None
    traits_assessed_at: datetime | None = None

    @property
    def known(self) -> bool:
        """Whether the directory has a profile of the person."""
        return self.profile is not None


_HANDLERS = EventHandlers[PersonState, datetime]()


@_HANDLERS.on(p.PersonProfiled)
def _profiled(state: PersonState, event: p.PersonProfiled, at: datetime) -> None:
    state.person_id, state.profile, state.active = event.person_id, event.profile, True
    state.created_at = at


@_HANDLERS.on(p.ProfileUpdated)
def _updated(state: PersonState, event: p.ProfileUpdated, at: datetime) -> None:
    if state.profile is not None:
        changed = event.changes.model_dump(exclude_none=True)
        state.profile = state.profile.model_copy(update=changed)


@_HANDLERS.on(p.ManagerChanged)
def _manager(state: PersonState, event: p.ManagerChanged, at: datetime) -> None:
    if state.profile is not None:
        state.profile = state.profile.model_copy(update={"manager_id": event.manager_id})


@_HANDLERS.on(p.PersonDeactivated)
def _deactivated(state: PersonState, event: p.PersonDeactivated, at: datetime) -> None:
    state.active, state.deactivated_at = False, event.deactivated_at
    state.deactivation_reason, state.removed = event.reason, event.reason == "deleted"


@_HANDLERS.on(p.PersonReactivated)
def _reactivated(state: PersonState, event: p.PersonReactivated, at: datetime) -> None:
    state.active, state.removed = True, False
    state.deactivated_at = state.deactivation_reason = None


@_HANDLERS.on(p.PersonForgotten)
def _forgotten(state: PersonState, event: p.PersonForgotten, at: datetime) -> None:
    state.person_id, state.forgotten, state.active = event.person_id, True, False
    _drop_traits(state)


@_HANDLERS.on(p.TraitsAssessed)
def _traits_assessed(state: PersonState, event: p.TraitsAssessed, at: datetime) -> None:
    state.traits, state.traits_instrument = event.traits, event.instrument
    state.traits_consented_at, state.traits_assessed_at = event.consented_at, at


@_HANDLERS.on(p.TraitsConsentWithdrawn)
def _traits_withdrawn(state: PersonState, event: p.TraitsConsentWithdrawn, at: datetime) -> None:
    _drop_traits(state)


def _drop_traits(state: PersonState) -> None:
    state.traits = state.traits_instrument = None
    state.traits_consented_at = state.traits_assessed_at = None


def evolve(state: PersonState, event: DomainEvent, occurred_at: datetime) -> PersonState:
    """Fold the stream's next event into ``state`` (mutated and returned)."""
    _HANDLERS.apply(state, event, occurred_at)
    if _HANDLERS.handles(event):
        state.updated_at = occurred_at
    state.version += 1
    return state


@dataclass(frozen=True, slots=True)
class DesiredPerson:
    """What a source of truth (SCIM, a CSV row) says a person should be."""

    profile: PersonProfile
    active: bool = True
    removed: bool = False
    """Deactivate as deleted (SCIM DELETE) rather than as inactive in the HR system."""
    kept: frozenset[str] = frozenset()
    """Profile fields the source does not set: they keep whatever the person's state holds
    when the change is planned, so that a change another writer made meanwhile (the person's
    own edit, say) is not undone by values the source read before it."""

    def towards(self, current: PersonProfile | None) -> PersonProfile:
        """The profile to reach from ``current``: the source's, with the kept fields kept."""
        if current is None or not self.kept:
            return self.profile
        return self.profile.model_copy(update={name: getattr(current, name) for name in self.kept})


@dataclass(frozen=True, slots=True)
class PlannedChanges:
    """The events that bring a person to a desired state (none: already there)."""

    events: list[DomainEvent] = field(default_factory=list)

    @property
    def changed_fields(self) -> list[str]:
        """Profile field names the events change (for dry runs; values are not named)."""
        names: list[str] = []
        for event in self.events:
            if isinstance(event, p.ProfileUpdated):
                names.extend(event.changes.model_dump(exclude_none=True))
            elif isinstance(event, p.ManagerChanged):
                names.append("manager_id")
        return names


def changes_towards(
    state: PersonState,
    person_id: str,
    desired: DesiredPerson,
    *,
    source: ProfileSource,
    now: datetime,
) -> PlannedChanges:
    """The events that turn ``state`` into ``desired``, in the order to record them.

    A forgotten person gets none (see `PersonState.forgotten`: the caller refuses first).
    """
    if state.forgotten:
        return PlannedChanges()
    events: list[DomainEvent] = []
    target = desired.towards(state.profile)
    if state.profile is None:
        events.append(p.PersonProfiled(person_id=person_id, profile=target, source=source))
        current = target
        active = True
    else:
        current, active = state.profile, state.active
        update = _profile_changes(current, target)
        if update is not None:
            events.append(p.ProfileUpdated(person_id=person_id, changes=update, source=source))
        if current.manager_id != target.manager_id:
            events.append(
                p.ManagerChanged(
                    person_id=person_id,
                    manager_id=target.manager_id,
                    previous_manager_id=current.manager_id,
                    source=source,
                )
            )
    removed = state.removed if state.profile is not None else False
    if desired.active and not active:
        events.append(p.PersonReactivated(person_id=person_id, reactivated_at=now, source=source))
    elif not desired.active and (active or (desired.removed and not removed)):
        events.append(
            p.PersonDeactivated(
                person_id=person_id,
                deactivated_at=now,
                reason="deleted" if desired.removed else "hris",
                source=source,
            )
        )
    return PlannedChanges(events)


def _profile_changes(current: PersonProfile, desired: PersonProfile) -> ProfileChanges | None:
    changed = {
        name: getattr(desired, name)
        for name in _CHANGEABLE
        if getattr(desired, name) != getattr(current, name)
    }
    return ProfileChanges(**changed) if changed else None


_TEXT_FIELDS = (
    "user_name",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_type",
    "external_id",
    "employee_number",
    "department",
)
_LIST_FIELDS = ("languages", "wants_to_develop", "career_objectives")
_PERSON_ID = re.compile(PARTICIPANT_ID_PATTERN)


def profile_problems(profile: PersonProfile) -> list[str]:
    """Every reason ``profile`` may not be recorded (empty: it may), by field name.

    Values are never quoted for the personal fields: the message may reach a log.
    """
    problems: list[str] = []
    for name in _TEXT_FIELDS:
        value: str = getattr(profile, name)
        if len(value) > SHORT_TEXT:
            problems.append(f"{name}: longer than {SHORT_TEXT} characters")
        elif (problem := text_problem(value)) is not None:
            problems.append(f"{name}: {problem}")
    if profile.timezone and not is_known_time_zone(profile.timezone):
        problems.append(f"timezone: unknown IANA time zone {profile.timezone!r}")
    if profile.manager_id is not None and not _PERSON_ID.fullmatch(profile.manager_id):
        problems.append("manager_id: must be a person id (1-64 letters, digits, '._@-')")
    for name in _LIST_FIELDS:
        values: list[str] = getattr(profile, name)
        problems.extend(_list_problems(name, values))
    problems.extend(_list_problems("skills", list(profile.skills)))
    problems.extend(
        f"skills.{skill}: level {level} is not within 0..5"
        for skill, level in profile.skills.items()
        if not 0 <= level <= 5
    )
    return problems


def _list_problems(name: str, values: list[str]) -> list[str]:
    problems: list[str] = []
    if len(values) > LIST_ITEMS:
        problems.append(f"{name}: more than {LIST_ITEMS} items")
    for value in values:
        if not value or len(value) > SHORT_TEXT:
            problems.append(f"{name}: each item has 1 to {SHORT_TEXT} characters")
        elif (problem := text_problem(value)) is not None:
            problems.append(f"{name}: {problem}")
    return problems
