"""Every dead letter in one list, masked: notifications, launch commands, projection stalls.

The CLI (`mentorflow.cli.deadletters`) and the ops console page (`mentorflow.console.ops`)
show the same `DeadLetter` rows. A dead letter is named by a reference that says its kind:

- ``12`` or ``notification:12``: a notification of the outbox (`notifications`);
- ``command:7``: the launch command at sequence 7 of the dead-letter stream
  (`mentorflow.command_dead_letters`);
- ``projection:NAME:EVENT_ID``: a projection stalled at an event, or an event skipped by an
  operator (read-only here: ``mentorflow projections skip NAME EVENT_ID --reason …``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from eventstore import Pool
from mentorflow.dead_letter_masking import PERSONAL, masked_launch_command, masked_problem
from notifications import OutboxEntry, PostgresOutbox
from projections.metrics import projection_stalls

if TYPE_CHECKING:  # the bus takes seconds to import; the command line imports this
    from mentorflow.command_dead_letters import CommandDeadLetter, CommandDeadLetters

Kind = Literal["notification", "command", "projection"]

_REFERENCE = re.compile(
    r"(?:(?:notification:)?(?P<notification>[1-9][0-9]{0,17})"
    r"|command:(?P<command>[1-9][0-9]{0,17})"
    r"|projection:(?P<projection>[a-z0-9_]{1,64}):(?P<event>[0-9a-fA-F-]{36}))"
)

_SKIPS = """
SELECT projection, event_id, skipped_by, skipped_at FROM read_models.skips
ORDER BY skipped_at DESC LIMIT $1
"""
_HAS_READ_MODELS = "SELECT to_regclass('read_models.positions') IS NOT NULL"


@dataclass(frozen=True, slots=True)
class Reference:
    """Which dead letter: its kind and its id within the kind."""

    kind: Kind
    id: str
    event_id: UUID | None = None
    """The event, for a projection (``id`` is then the projection's name)."""

    def __str__(self) -> str:
        if self.kind == "notification":
            return self.id
        if self.kind == "command":
            return f"command:{self.id}"
        return f"projection:{self.id}:{self.event_id}"


def parse_reference(text: str) -> Reference:
    """The dead letter ``text`` names.

    Raises:
        ValueError: It names none (the message says which forms there are).
    """
    match = _REFERENCE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a dead letter: use ID or notification:ID, command:SEQUENCE or "
            "projection:NAME:EVENT_ID (as `mentorflow deadletters list` shows them)"
        )
    if match["notification"]:
        return Reference("notification", match["notification"])
    if match["command"]:
        return Reference("command", match["command"])
    try:
        event_id = UUID(match["event"])
    except ValueError:
        raise ValueError(f"{text!r}: {match['event']!r} is not an event id") from None
    return Reference("projection", match["projection"], event_id)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One row of the list, masked."""

    reference: Reference
    since: datetime
    summary: str
    """What it is about, without personal data (ids, channel, counts)."""
    error: str
    """Why it is dead (SMTP reply, error class, problems count): no personal data."""
    actionable: bool
    """Whether ``retry`` and ``discard`` apply (projection rows are read-only)."""
    details: dict[str, Any]
    """Everything ``show`` prints, masked."""

    def as_json(self) -> dict[str, Any]:
        """The row as JSON-ready values."""
        return {
            "kind": self.reference.kind,
            "id": str(self.reference),
            "since": self.since.isoformat(),
            "summary": self.summary,
            "error": self.error,
            "actionable": self.actionable,
            **self.details,
        }


def notification_row(entry: OutboxEntry) -> DeadLetter:
    """An outbox entry as a row (address and subject masked, body left out)."""
    details = entry.model_dump(
        mode="json",
        include={"outbox_id", "event_id", "recipient", "channel", "state", "attempts"},
    )
    details.update(address=PERSONAL, subject=PERSONAL, last_error=entry.last_error)
    return DeadLetter(
        Reference("notification", str(entry.outbox_id)),
        entry.updated_at,
        f"{entry.recipient} by {entry.channel.value}, {entry.attempts} attempt(s)",
        entry.last_error or "",
        entry.state.value == "dead",
        details,
    )


def command_row(letter: CommandDeadLetter) -> DeadLetter:
    """A parked launch command as a row: ids and counts of its spec, problems masked."""
    outcome = letter.outcome
    command = masked_launch_command(letter.parked.command.body) if letter.parked else None
    problems = [masked_problem(problem) for problem in outcome.problems]
    details: dict[str, Any] = {
        "sequence": letter.sequence,
        "status": outcome.status,
        "cohort_id": outcome.cohort_id,
        "problems": problems,
        "retryable": letter.parked is not None,
        "command": command,
        "correlation_id": letter.parked.command.correlation_id if letter.parked else None,
    }
    cohort = outcome.cohort_id or (command or {}).get("cohort_id") or "?"
    people = (command or {}).get("participants", "?")
    reason = letter.error or outcome.status
    return DeadLetter(
        Reference("command", str(letter.sequence)),
        letter.parked_at,
        f"launch cohort {cohort} ({people} participants), {outcome.status}",
        f"{reason}: {len(problems)} problem(s)" if outcome.status == "rejected" else reason,
        True,
        details,
    )


async def projection_rows(pool: Pool, limit: int) -> list[DeadLetter]:
    """Stalled projections (actionable with ``projections skip``) and recorded skips."""
    if not await pool.fetchval(_HAS_READ_MODELS):
        return []
    rows = [
        DeadLetter(
            Reference("projection", name, UUID(stall["event_id"])),
            stall["since"],
            f"projection {name} stalled, {stall['attempts']} attempt(s)",
            stall["error"] or "",
            False,
            {
                "projection": name,
                "event_id": stall["event_id"],
                "state": "stalled",
                "attempts": stall["attempts"],
                "error_class": (stall["error"] or "").split(":", 1)[0],
            },
        )
        for name, stall in (await projection_stalls(pool)).items()
    ]
    for skip in await pool.fetch(_SKIPS, limit):
        rows.append(
            DeadLetter(
                Reference("projection", skip["projection"], skip["event_id"]),
                skip["skipped_at"],
                f"projection {skip['projection']} skipped the event",
                "",
                False,
                {
                    "projection": skip["projection"],
                    "event_id": str(skip["event_id"]),
                    "state": "skipped",
                    "skipped_by": skip["skipped_by"],
                },
            )
        )
    return rows


async def all_dead_letters(
    pool: Pool, commands: CommandDeadLetters | None, limit: int = 100
) -> list[DeadLetter]:
    """Every dead letter, most recent first (``limit`` of each kind).

    Args:
        pool: The database of the outbox and the read models.
        commands: The command dead letters; None when NATS is not reachable (left out).
        limit: At most this many of each kind.
    """
    rows = [notification_row(entry) for entry in await PostgresOutbox(pool).dead_letters(limit)]
    if commands is not None:
        rows += [command_row(letter) for letter in await commands.dead_letters(limit)]
    rows += await projection_rows(pool, limit)
    return sorted(rows, key=lambda row: row.since, reverse=True)


def projection_refusal(reference: Reference) -> str:
    """What to say when asked to retry or discard a projection's row."""
    return (
        f"{reference} is a projection's stall or skip: it is not retried or discarded here. "
        f"Fix the projection and restart the projector, or skip the event with "
        f"`mentorflow projections skip {reference.id} {reference.event_id} --reason …`"
    )
