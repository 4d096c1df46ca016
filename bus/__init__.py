"""The event bus: NATS JetStream through FastStream.

Names of the contract (`bus.subjects`), the broker factory, the events stream, publishing
envelopes, the relay from the event store, and the AsyncAPI document.
"""

from bus.broker import close_broker, create_broker
from bus.checkpoints import RelayCheckpoints, migrate_bus_schema
from bus.config import BusConfig
from bus.errors import BusError, StreamConfigConflict, UnpublishableEvent
from bus.lag import RelayLag, relay_lags
from bus.notifications import APPENDED_CHANNEL, AppendNotifications
from bus.publishing import EventPublisher, encode_envelope, message_headers, subject_for
from bus.relay import EventRelay, RelayOptions, RelayStats
from bus.service import run_relay
from bus.stream import ensure_stream, events_jstream, stream_config
from bus.subjects import (
    COHORT_LAUNCH_SUBJECT,
    EVENTS_STREAM,
    EVENTS_SUBJECT_PREFIX,
    MESSAGE_ID_HEADER,
    event_subject,
    events_filter,
    stream_type_of,
)
from bus.tail import TailedEvent, tail_events

__all__ = [
    "APPENDED_CHANNEL",
    "COHORT_LAUNCH_SUBJECT",
    "EVENTS_STREAM",
    "EVENTS_SUBJECT_PREFIX",
    "MESSAGE_ID_HEADER",
    "AppendNotifications",
    "BusConfig",
    "BusError",
    "EventPublisher",
    "EventRelay",
    "RelayCheckpoints",
    "RelayLag",
    "RelayOptions",
    "RelayStats",
    "StreamConfigConflict",
    "TailedEvent",
    "UnpublishableEvent",
    "close_broker",
    "create_broker",
    "encode_envelope",
    "ensure_stream",
    "event_subject",
    "events_filter",
    "events_jstream",
    "message_headers",
    "migrate_bus_schema",
    "relay_lags",
    "run_relay",
    "stream_config",
    "stream_type_of",
    "subject_for",
    "tail_events",
]
