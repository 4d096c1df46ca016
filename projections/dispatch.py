"""Event handlers by exact event type, and JSON codecs for projection states.

Folding a million events through five projections calls a handler tens of millions of
times; a dictionary keyed by the event's class costs a fraction of a chain of ``isinstance``
checks (pydantic models check instances through ``ABCMeta``) or of ``singledispatch``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from events import DomainEvent

StateT = TypeVar("StateT")
HandlerT = TypeVar("HandlerT", bound=Callable[..., None])


class Handlers(Generic[StateT]):
    """Handlers ``(state, event, occurred_at) -> None`` registered per event class."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], Callable[[StateT, Any, datetime], None]] = {}

    def on(self, *event_types: type[DomainEvent]) -> Callable[[HandlerT], HandlerT]:
        """Register the decorated function for ``event_types``."""

        def register(handler: HandlerT) -> HandlerT:
            for event_type in event_types:
                self._handlers[event_type] = handler
            return handler

        return register

    def apply(self, state: StateT, event: DomainEvent, occurred_at: datetime) -> None:
        """Run the handler of ``event``'s class, if any (other events change nothing)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(state, event, occurred_at)


class StateCodec(Generic[StateT]):
    """JSON of a state type (a dataclass), for the checkpoint's ``state`` column."""

    def __init__(self, state_type: type[StateT]) -> None:
        self._adapter: TypeAdapter[StateT] = TypeAdapter(state_type)

    def dump(self, state: StateT) -> str:
        """The state as JSON text."""
        return self._adapter.dump_json(state).decode()

    def load(self, text: str) -> StateT:
        """A state from JSON text."""
        return self._adapter.validate_json(text)
