"""The stage machine of a relationship and how a pause shifts its dates: the rules once.

The domain state (`domain.mentorship.state`, folded by the workflow) and the read models
(`projections.relationship`) both follow a relationship's stage through its events and both
shift open action items by the length of a pause when it resumes. They do it with the
functions here, so a read model cannot disagree with the workflow about where a relationship
stands. The rules are pure: they read events and mutate what they are given, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from events import DomainEvent
from events import mentorship as m
from events.handlers import EventHandlers


class Stage(StrEnum):
    """Stages of the contract."""

    MATCHED = "matched"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSING = "closing"
    CLOSED = "closed"


ENDED_STAGES = frozenset({Stage.CLOSING, Stage.CLOSED})
"""Stages of a relationship that is ending or over: it no longer occupies its mentor."""
OCCUPYING_STAGES = frozenset(Stage) - ENDED_STAGES
"""Stages in which a relationship occupies its mentor (matched, onboarding, active, paused)."""


class Staged(Protocol):
    """Whatever follows a relationship's stage.

    The domain state holds `Stage` values; a read model may hold the same values as plain
    strings (its stored JSON), empty before the relationship is matched. Either way the rules
    set `Stage` members, which are strings too.
    """

    @property
    def stage(self) -> str: ...

    @stage.setter
    def stage(self, value: Stage) -> None: ...

    @property
    def stage_before_pause(self) -> str | None: ...

    @stage_before_pause.setter
    def stage_before_pause(self, value: Stage | None) -> None: ...


class DueItem(Protocol):
    """An action item as far as a pause concerns it: open or not, and its due date."""

    @property
    def status(self) -> str: ...

    due_at: datetime


STAGE_RULES = EventHandlers[Staged, None]()
"""How each event moves the stage; other events leave it where it is."""


def follow_stage(target: Staged, event: DomainEvent) -> None:
    """Move ``target``'s stage through ``event``."""
    STAGE_RULES.apply(target, event, None)


@STAGE_RULES.on(m.MentorshipMatched)
def _matched(target: Staged, event: m.MentorshipMatched, _: None) -> None:
    target.stage = Stage.MATCHED


@STAGE_RULES.on(m.OnboardingStarted)
def _onboarding(target: Staged, event: m.OnboardingStarted, _: None) -> None:
    target.stage = Stage.ONBOARDING


@STAGE_RULES.on(m.OnboardingCompleted)
def _active(target: Staged, event: m.OnboardingCompleted, _: None) -> None:
    target.stage = Stage.ACTIVE


@STAGE_RULES.on(m.MentorshipPaused)
def _paused(target: Staged, event: m.MentorshipPaused, _: None) -> None:
    target.stage_before_pause = Stage(target.stage) if target.stage else None
    target.stage = Stage.PAUSED


@STAGE_RULES.on(m.MentorshipResumed)
def _resumed(target: Staged, event: m.MentorshipResumed, _: None) -> None:
    before = target.stage_before_pause
    target.stage = Stage(before) if before else Stage.ACTIVE
    target.stage_before_pause = None


@STAGE_RULES.on(m.ClosureStarted)
def _closing(target: Staged, event: m.ClosureStarted, _: None) -> None:
    target.stage = Stage.CLOSING


@STAGE_RULES.on(m.MentorshipClosed)
def _closed(target: Staged, event: m.MentorshipClosed, _: None) -> None:
    target.stage = Stage.CLOSED


def shift_open_items(items: Iterable[DueItem], paused_for: timedelta) -> None:
    """Move the due date of every open item by the length of the pause that just ended."""
    for item in items:
        if item.status == "open":
            item.due_at += paused_for
