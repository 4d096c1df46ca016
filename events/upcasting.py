"""Upcasters: read an old version of an event's data as the current one.

Stored events are never rewritten. When an event's schema changes, its class gets the next
``schema_version`` and an upcaster is registered from the previous version; reading applies
the chain ``v1 -> v2 -> … -> current`` to the stored ``data``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]


class MissingUpcaster(LookupError):
    """No upcaster leads from a stored version to the next one."""

    def __init__(self, event_type: str, from_version: int) -> None:
        super().__init__(f"no upcaster for {event_type} from schema version {from_version}")
        self.event_type = event_type
        self.from_version = from_version


class UpcasterChain:
    """Upcasters keyed by (event type, version they read)."""

    def __init__(self) -> None:
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register ``function`` as the step ``from_version -> from_version + 1``."""

        def decorate(function: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._upcasters:
                raise ValueError(f"two upcasters for {event_type} v{from_version}")
            self._upcasters[key] = function
            return function

        return decorate

    def upcast(self, event_type: str, version: int, target: int, data: Data) -> Data:
        """Bring ``data`` stored at ``version`` up to ``target``."""
        while version < target:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise MissingUpcaster(event_type, version)
            data = step(data)
            version += 1
        return data
