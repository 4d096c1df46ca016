"""Errors of the dead letters: one base, typed subclasses carrying their data.

Apart from `mentorflow.command_dead_letters` so that the command line's error mapping does
not import the bus (`mentorflow.commands` takes seconds to import).
"""

from __future__ import annotations


class DeadLetterError(Exception):
    """Base of the errors of the dead letters (commands and the listing of every kind)."""


class DeadLetterNotFound(DeadLetterError):
    """Base of the errors saying there is no such dead letter (bad input)."""


class CommandDeadLetterError(DeadLetterError):
    """Base of the command dead letters' errors."""


class CommandDeadLettersUnavailable(CommandDeadLetterError):
    """NATS could not be reached, so the command dead letters cannot be read."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the command dead letters need NATS, which is unreachable ({cause})")
        self.cause = cause


class CommandDeadLetterNotFound(DeadLetterNotFound, CommandDeadLetterError):
    """No dead letter has this sequence, and nobody retried or discarded one that had."""

    def __init__(self, sequence: int) -> None:
        super().__init__(
            f"no command dead letter {sequence}; `mentorflow deadletters list` shows them"
        )
        self.sequence = sequence


class CommandDeadLetterNotRetryable(CommandDeadLetterError):
    """The dead letter does not hold the command (parked before commands were kept)."""

    def __init__(self, sequence: int) -> None:
        super().__init__(
            f"command dead letter {sequence} holds the outcome only, not the command: "
            "it cannot be retried (discard it and have the sender send it again)"
        )
        self.sequence = sequence


class CommandDeadLetterGone(CommandDeadLetterError):
    """The dead letter was already dealt with the other way (retried, not discarded...)."""

    def __init__(self, sequence: int, done: str) -> None:
        super().__init__(f"command dead letter {sequence} was already {done}; nothing changed")
        self.sequence = sequence
        self.done = done


class ProjectionDeadLetterNotFound(DeadLetterNotFound):
    """No projection is stalled at, or skipped, this event."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"no projection stall or skip {reference}; `mentorflow deadletters list` shows them"
        )
        self.reference = reference
