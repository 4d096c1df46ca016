"""Errors of the notifications: one base, typed subclasses carrying their data.

SMTP client errors are translated into `DeliveryFailed` kinds at one place
(`notifications.smtp`); database errors leave as the event store's kinds
(`eventstore.errors.translated`).
"""

from __future__ import annotations

from collections.abc import Sequence


class NotificationError(Exception):
    """Base of every notifications error."""


class OutboxEntryNotFound(NotificationError):
    """No outbox entry has this id."""

    def __init__(self, outbox_id: int) -> None:
        super().__init__(
            f"no notification {outbox_id} in the outbox; `mentorflow deadletters list` "
            "shows the dead letters"
        )
        self.outbox_id = outbox_id


class NotADeadLetter(NotificationError):
    """An operator asked to retry or discard an entry that is not dead-lettered."""

    def __init__(self, outbox_id: int, state: str) -> None:
        super().__init__(
            f"notification {outbox_id} is {state}, not dead: only dead letters can be "
            "retried or discarded"
        )
        self.outbox_id = outbox_id
        self.state = state


class DeliveryFailed(NotificationError):
    """The SMTP server did not take a message.

    Attributes:
        code: The SMTP reply code, None when there was no reply (connection lost).
        reason: What the server said, or what happened; may quote the address, so it goes
            to the outbox row, never to the logs.
    """

    permanent: bool = False

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code} {reason}" if code is not None else reason)
        self.code = code
        self.reason = reason


class TransientDeliveryFailure(DeliveryFailed):
    """Worth trying again later: a 4xx reply, a lost or refused connection, a timeout."""


class PermanentDeliveryFailure(DeliveryFailed):
    """Trying again cannot help: a 5xx reply to this message or its recipient."""

    permanent = True


class InvalidNotificationInput(NotificationError, ValueError):
    """Quiet hours, a digest time or a calendar series that cannot be used.

    A `ValueError`, so callers that validate with ``except ValueError`` catch it too.

    Attributes:
        problems: Every problem found, one sentence each (never an address or a name).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)
