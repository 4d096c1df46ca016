"""Errors of the bus: one base, typed subclasses carrying their data."""

from __future__ import annotations


class BusError(Exception):
    """Base of every bus error."""


class UnpublishableEvent(BusError):
    """A stored event cannot be mapped onto a NATS subject (a bug upstream, never transient).

    The relay stops on it rather than skip the event: skipping would break the guarantee that
    the bus carries every stored event.
    """

    def __init__(self, event_id: str, stream_id: str, event_type: str, reason: str) -> None:
        super().__init__(f"event {event_id} of {stream_id!r} ({event_type}) {reason}")
        self.event_id = event_id
        self.stream_id = stream_id
        self.event_type = event_type
        self.reason = reason


class StreamConfigConflict(BusError):
    """The JetStream stream exists with a setting that cannot be changed in place."""

    def __init__(self, stream_name: str, setting: str, actual: str, wanted: str) -> None:
        super().__init__(
            f"JetStream stream {stream_name} has {setting}={actual}, configuration wants "
            f"{wanted}; it cannot be changed in place (recreate the stream and re-publish "
            "with `mentorflow relay --from-start`)"
        )
        self.stream_name = stream_name
        self.setting = setting
        self.actual = actual
        self.wanted = wanted
