"""What a projection is: a per-stream state folded from typed events, and the rows it shows.

A projection never writes SQL itself. It folds a stream's events into a state of its own
(`apply`) and maps that state to read-model rows (`rows`); the runner stores the state with
the stream's checkpoint and writes the difference in rows, in one transaction. Keeping the
projection pure makes its handlers testable without a database, lets the live path and a
rebuild share every rule, and lets a rebuild fold a million events in memory before
copying the result in bulk.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from events import DomainEvent
from projections.dispatch import StateCodec
from projections.tables import Rows, Table

StateT = TypeVar("StateT")


def stream_type_of(stream_id: str) -> str:
    """``cohort`` or ``mentorship``: the stream id up to its first dash (as the envelope)."""
    return stream_id.split("-", 1)[0]


class Projection(ABC, Generic[StateT]):
    """A read model maintained from the events of some stream types.

    Subclasses set the class attributes and implement the methods. States are dataclasses
    (cheap to mutate a million times in a rebuild), stored as JSON. ``apply`` may mutate the
    state it is given (the runner hands it a state of its own) and must be deterministic: a
    rebuild has to reproduce the live rows exactly, so rows depend on events only, never on
    the clock.
    """

    name: ClassVar[str]
    """Identifier: checkpoint key, consumer name, CLI argument (``[a-z_]+``)."""
    description: ClassVar[str]
    stream_types: ClassVar[frozenset[str]]
    """Streams the projection reads; events of other streams never reach it."""
    tables: ClassVar[tuple[Table, ...]]
    """The tables it owns, written by nobody else."""

    def handles(self, stream_id: str) -> bool:
        """Whether events of ``stream_id`` are for this projection."""
        return stream_type_of(stream_id) in self.stream_types

    @abstractmethod
    def new_state(self, stream_id: str) -> StateT:
        """The state of a stream before its first event."""

    @abstractmethod
    def load_state(self, stream_id: str, text: str) -> StateT:
        """A state from the JSON stored with the checkpoint."""

    @abstractmethod
    def dump_state(self, state: StateT) -> str:
        """The state as JSON, stored with the checkpoint."""

    @abstractmethod
    def apply(self, state: StateT, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold the stream's next event, which happened at ``occurred_at``, into ``state``."""

    @abstractmethod
    def rows(self, stream_id: str, state: StateT) -> Rows:
        """The read-model rows of the stream in ``state``, by table name."""

    def table(self, name: str) -> Table:
        """One of the projection's tables."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


@dataclass(slots=True)
class StreamProgress:
    """Where a projection stands in one stream (the checkpoint without the state)."""

    version: int = 0
    """Last applied stream version: every version up to it was applied, in order."""
    skipped: int = 0
    """Events of unknown types, acknowledged without effect."""
    last_position: int = 0
    """Global position of the last applied event."""


class SingleStateProjection(Projection[StateT]):
    """A projection whose streams all have the same state type."""

    def __init__(self, factory: Callable[[], StateT], codec: StateCodec[StateT]) -> None:
        self._factory = factory
        self._codec = codec

    def new_state(self, stream_id: str) -> StateT:
        """A fresh state."""
        return self._factory()

    def load_state(self, stream_id: str, text: str) -> StateT:
        """The stored state."""
        return self._codec.load(text)

    def dump_state(self, state: StateT) -> str:
        """The state as JSON."""
        return self._codec.dump(state)
