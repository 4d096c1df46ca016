"""JSON codecs for projection states.

Handlers are registered per event class with `events.handlers.EventHandlers`, the one
registry the domain's folds use too, with the event's ``occurred_at`` as their context.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import TypeAdapter

StateT = TypeVar("StateT")


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
