"""Facts: the event envelope, the catalog of domain events, versions and upcasters.

This package imports nothing else of mentorflow and no I/O library.
"""

from events.base import DomainEvent
from events.catalog import CATALOG, EventCatalog, UnknownEventType
from events.envelope import EventEnvelope, NewEvent, RecordedEvent

__all__ = [
    "CATALOG",
    "DomainEvent",
    "EventCatalog",
    "EventEnvelope",
    "NewEvent",
    "RecordedEvent",
    "UnknownEventType",
]
