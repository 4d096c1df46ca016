"""The cohort-launch command's dead letters: list, retry and discard them.

A dead letter is a message on the dead-letter stream (`CommandsConfig.dead_letter_stream`),
named by its stream sequence. It holds the outcome and the command as it arrived
(`mentorflow.commands.ParkedLaunchCommand`). Older dead letters hold the outcome only: they
can be discarded, not retried.

``retry`` publishes the command again to the launch subject with a ``Nats-Msg-Id`` derived
from the dead letter (`retry_message_id`), records who and why in
``notifications.dead_letter_actions`` and deletes the dead letter; ``discard`` records and
deletes. Each runs under a transaction-scoped advisory lock on the dead letter, and the
dead letter is deleted only after the action is recorded, so:

- two retries at once publish once (the lock), and a retry asked again finds its recorded
  action and changes nothing (it only finishes the delete if that was interrupted);
- a crash after the publish and before the commit leaves the dead letter in place and
  nothing recorded: the next retry publishes the same message id, which JetStream drops as a
  duplicate within its window, and the cohort's workflow id is never reused after it;
- if a retried command fails again it is parked again, as a new dead letter.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from eventstore import Pool
from eventstore.errors import translating
from mentorflow.commands import CommandsConfig, LaunchCommandOutcome, ParkedLaunchCommand
from mentorflow.dead_letter_errors import (
    CommandDeadLetterGone,
    CommandDeadLetterNotFound,
    CommandDeadLetterNotRetryable,
)
from notifications.models import OperatorAction, RecordedAction

KIND = "command"
"""The kind of these dead letters in ``notifications.dead_letter_actions``."""

_FORWARDED_HEADERS = ("traceparent", "tracestate")
"""Headers sent again with a retried command (the message id is new, the reply inbox gone)."""

_ACTIONS = """
SELECT action, actor, reason, acted_at FROM notifications.dead_letter_actions
WHERE kind = 'command' AND dead_letter_id = $1 ORDER BY action_id
"""
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_DONE = {"retry": "retried", "discard": "discarded"}
_RECORD = """
INSERT INTO notifications.dead_letter_actions (kind, dead_letter_id, action, actor, reason)
VALUES ('command', $1, $2, $3, $4)
"""


@dataclass(frozen=True, slots=True)
class CommandDeadLetter:
    """A parked launch command."""

    sequence: int
    parked_at: datetime
    error: str
    """The ``Mentorflow-Error`` header: the error class, or ``invalid cohort spec``."""
    outcome: LaunchCommandOutcome
    parked: ParkedLaunchCommand | None
    """The outcome and command; None for a dead letter parked before commands were kept."""


@dataclass(frozen=True, slots=True)
class CommandDeadLetterAction:
    """What a retry or discard did."""

    sequence: int
    action: Literal["retry", "discard"]
    changed: bool
    """False when it had been done already (asked again: nothing changed)."""
    duplicate: bool = False
    """For a retry: JetStream dropped the command as a duplicate of an earlier retry."""


def retry_message_id(config: CommandsConfig, sequence: int) -> str:
    """The ``Nats-Msg-Id`` of dead letter ``sequence`` sent again: the same every time."""
    return f"deadletter:{config.dead_letter_stream}:{sequence}"


class CommandDeadLetters:
    """The dead-letter stream of the launch command, with the operators' actions.

    Args:
        connection: A NATS connection allowed to read and delete on the dead-letter stream
            and to publish launch commands.
        pool: A pool on the database holding ``notifications.dead_letter_actions``
            (migrated by `notifications.migrate_outbox`).
        config: The names of the streams and subjects.
    """

    def __init__(self, connection: NatsClient, pool: Pool, config: CommandsConfig) -> None:
        self._jetstream = connection.jetstream()
        self._pool = pool
        self._config = config

    def dead_letter_id(self, sequence: int) -> str:
        """Its id in ``notifications.dead_letter_actions`` (unique across streams)."""
        return f"{self._config.dead_letter_stream}:{sequence}"

    async def dead_letters(self, limit: int = 1000) -> list[CommandDeadLetter]:
        """The dead letters, most recently parked first (at most ``limit``)."""
        found: list[CommandDeadLetter] = []
        sequence = 1
        while True:
            letter = await self._next(sequence)
            if letter is None:
                break
            found.append(letter)
            sequence = letter.sequence + 1
        return sorted(found, key=lambda letter: letter.sequence, reverse=True)[:limit]

    async def get(self, sequence: int) -> CommandDeadLetter:
        """The dead letter ``sequence``.

        Raises:
            CommandDeadLetterNotFound: There is none (never was, or retried or discarded).
        """
        letter = await self._get(sequence)
        if letter is None:
            raise CommandDeadLetterNotFound(sequence)
        return letter

    @translating
    async def actions(self, sequence: int) -> list[RecordedAction]:
        """Who retried or discarded it, oldest first."""
        rows = await self._pool.fetch(_ACTIONS, self.dead_letter_id(sequence))
        return [RecordedAction.model_validate(dict(row.items())) for row in rows]

    async def retry(self, sequence: int, operator: OperatorAction) -> CommandDeadLetterAction:
        """Send the command again (its outcome comes as for any command) and forget it.

        Raises:
            CommandDeadLetterNotFound: No such dead letter.
            CommandDeadLetterNotRetryable: It does not hold the command.
            CommandDeadLetterGone: It was discarded.
        """
        return await self._act(sequence, "retry", operator)

    async def discard(self, sequence: int, operator: OperatorAction) -> CommandDeadLetterAction:
        """Give the command up: delete the dead letter.

        Raises:
            CommandDeadLetterNotFound: No such dead letter.
            CommandDeadLetterGone: It was retried.
        """
        return await self._act(sequence, "discard", operator)

    @translating
    async def _act(
        self, sequence: int, action: Literal["retry", "discard"], operator: OperatorAction
    ) -> CommandDeadLetterAction:
        dead_letter_id = self.dead_letter_id(sequence)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK, f"dead-letter:{KIND}:{dead_letter_id}")
            done = [row["action"] for row in await connection.fetch(_ACTIONS, dead_letter_id)]
            letter = await self._get(sequence)
            if done and done[-1] != action:
                raise CommandDeadLetterGone(sequence, _DONE[done[-1]])
            if not done and letter is None:
                raise CommandDeadLetterNotFound(sequence)
            duplicate = False
            if not done:
                assert letter is not None  # checked above
                if action == "retry":
                    if letter.parked is None:
                        raise CommandDeadLetterNotRetryable(sequence)
                    duplicate = await self._publish(sequence, letter.parked)
                await connection.execute(
                    _RECORD, dead_letter_id, action, operator.by, operator.reason
                )
        # Deleted once the action is recorded: a crash in between leaves the dead letter,
        # and the next call (finding the action recorded) deletes it without acting again.
        if letter is not None:
            await self._delete(sequence)
        return CommandDeadLetterAction(sequence, action, changed=not done, duplicate=duplicate)

    async def _publish(self, sequence: int, parked: ParkedLaunchCommand) -> bool:
        command = parked.command
        headers = {
            name: command.headers[name] for name in _FORWARDED_HEADERS if name in command.headers
        }
        headers["Nats-Msg-Id"] = retry_message_id(self._config, sequence)
        acknowledgement = await self._jetstream.publish(
            self._config.launch_subject,
            command.body.encode(),
            stream=self._config.stream,
            headers=headers,
        )
        return bool(acknowledgement.duplicate)

    async def _delete(self, sequence: int) -> None:
        with suppress(NotFoundError):  # deleted meanwhile: what we wanted
            await self._jetstream.delete_msg(self._config.dead_letter_stream, sequence)

    async def _get(self, sequence: int) -> CommandDeadLetter | None:
        letter = await self._next(sequence)
        return letter if letter is not None and letter.sequence == sequence else None

    async def _next(self, sequence: int) -> CommandDeadLetter | None:
        """The first dead letter at or after ``sequence``; None when there is none."""
        try:
            raw = await self._jetstream.get_msg(
                self._config.dead_letter_stream,
                seq=sequence,
                subject=self._config.dead_letter_subject,
                next=True,
            )
        except NotFoundError:  # no such message, or no such stream (nothing parked yet)
            return None
        assert raw.seq is not None  # always set by the server
        assert raw.time is not None
        return _letter(raw.seq, raw.time, raw.data or b"", raw.headers or {})


def _letter(
    sequence: int, parked_at: datetime, data: bytes, headers: dict[str, str]
) -> CommandDeadLetter:
    error = headers.get("Mentorflow-Error", "")
    try:
        parked: ParkedLaunchCommand | None = ParkedLaunchCommand.model_validate_json(data)
    except ValidationError:
        parked = None
    if parked is not None:
        outcome = parked.outcome
    else:
        try:
            outcome = LaunchCommandOutcome.model_validate_json(data)
        except ValidationError:
            outcome = LaunchCommandOutcome(status="failed", problems=["unreadable dead letter"])
    return CommandDeadLetter(sequence, parked_at, error, outcome, parked)
