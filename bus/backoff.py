"""Exponential backoff with jitter: the event store's, shared by the relay."""

from eventstore.backoff import Backoff, sleep_unless_stopped

__all__ = ["Backoff", "sleep_unless_stopped"]
