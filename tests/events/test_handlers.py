"""The one handler registry of every fold: by exact event class, one handler per class."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from events import mentorship as m
from events.handlers import EventHandlers


@dataclass
class Seen:
    events: list[str] = field(default_factory=list)


def test_handlers_run_by_the_events_class_with_the_callers_context() -> None:
    handlers = EventHandlers[Seen, int]()

    @handlers.on(m.GoalAchieved, m.GoalDropped)
    def _goal(state: Seen, event: m.GoalAchieved | m.GoalDropped, context: int) -> None:
        state.events.append(f"{event.event_type}:{event.goal_id}:{context}")

    seen = Seen()
    handlers.apply(seen, m.GoalAchieved(goal_id="g-1"), 7)
    handlers.apply(seen, m.GoalDropped(goal_id="g-2"), 8)
    handlers.apply(seen, m.GoalRevised(goal_id="g-3"), 9)

    assert seen.events == ["GoalAchieved:g-1:7", "GoalDropped:g-2:8"]
    assert handlers.handles(m.GoalDropped(goal_id="g-2"))
    assert not handlers.handles(m.GoalRevised(goal_id="g-3"))


def test_an_event_class_has_one_handler_per_registry() -> None:
    handlers = EventHandlers[Seen, None]()
    handlers.on(m.GoalAchieved)(lambda state, event, _: None)

    with pytest.raises(ValueError, match="GoalAchieved already has a handler"):
        handlers.on(m.GoalAchieved)(lambda state, event, _: None)
