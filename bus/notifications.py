"""Waking the relay when events commit: the event store's `AppendNotifications`."""

from eventstore.notifications import APPENDED_CHANNEL, AppendNotifications

__all__ = ["APPENDED_CHANNEL", "AppendNotifications"]
