"""One mechanism for folding events: handlers registered per event class.

The domain's folds (a relationship's and a cohort's state), the lifecycle rules they share
with the read models, and every projection register their handlers here. A handler is
``(state, event, context) -> None`` and mutates ``state``; ``context`` is what the caller
passes alongside, the event's ``occurred_at`` for projections and ``None`` for the domain's
folds, which depend on events only.

Dispatch is by the event's exact class (every event class of the catalog is a leaf): folding
a million events through five projections calls handlers tens of millions of times, and a
dictionary keyed by the class costs a fraction of a chain of ``isinstance`` checks (pydantic
models check instances through ``ABCMeta``) or of ``functools.singledispatch``. The arity is
fixed for the same reason: ``*args`` forwarding would double the cost of a call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from events.base import DomainEvent

StateT = TypeVar("StateT")
ContextT = TypeVar("ContextT")
HandlerT = TypeVar("HandlerT", bound=Callable[..., None])


class EventHandlers(Generic[StateT, ContextT]):
    """Handlers ``(state, event, context) -> None``, at most one per event class."""

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], Callable[[StateT, Any, ContextT], None]] = {}

    def on(self, *event_types: type[DomainEvent]) -> Callable[[HandlerT], HandlerT]:
        """Register the decorated function for ``event_types``.

        Raises:
            ValueError: An event class already has a handler here (one rule per event).
        """

        def register(handler: HandlerT) -> HandlerT:
            for event_type in event_types:
                if event_type in self._handlers:
                    raise ValueError(f"{event_type.__name__} already has a handler")
                self._handlers[event_type] = handler
            return handler

        return register

    def handles(self, event: DomainEvent) -> bool:
        """Whether a handler is registered for ``event``'s class."""
        return type(event) in self._handlers

    def apply(self, state: StateT, event: DomainEvent, context: ContextT) -> None:
        """Run the handler of ``event``'s class, if any (other events change nothing)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(state, event, context)
