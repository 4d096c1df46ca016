"""What a fault run must leave behind: every event once, contiguous streams, no fact twice.

`audit_store` reads the whole store the way tailing readers do (`read_all`) and stream by
stream (`read_stream`) and counts what is lost (a gap in a stream, an event one reader sees
and the other not, an expected stream without events) and what is duplicated (an event id
twice, a version twice, a fact recorded twice, such as a second ``MentorshipClosed`` or the
same training module completed twice). The other checks compare it with what the
participants were told and what the workflows returned.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from events import EventEnvelope
from eventstore import PostgresEventStore
from tests.faults.cohort import Accepted
from tests.projections.streams import stored_envelopes
from workflows.mentorship_models import MentorshipWorkflowResult

FACT_KEYS: Mapping[str, tuple[str, ...]] = {
    # Once per stream.
    "CohortLaunched": (),
    "MatchingCompleted": (),
    "CohortClosed": (),
    "MentorshipMatched": (),
    "OnboardingStarted": (),
    "OnboardingReminderDue": (),
    "OnboardingOverdue": (),
    "OnboardingCompleted": (),
    "ClosureStarted": (),
    "MentorshipClosed": (),
    # Once per thing they are about.
    "TrainingModuleCompleted": ("person_id", "module"),
    "GoalSet": ("goal_id",),
    "ConversationHeld": ("conversation_number",),
    "ConversationMissed": ("conversation_number",),
    "ConversationReminderDue": ("conversation_number", "due_at"),
    "ActionItemCheckInDue": ("item_id",),
    "ActionItemCompleted": ("item_id",),
    "SurveySubmitted": ("person_id",),
}
"""Facts a stream records at most once (per the values of the named data fields)."""


@dataclass
class StoreAudit:
    """The store after a run."""

    streams: dict[str, list[EventEnvelope]]
    events: int
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)

    def lose(self, count: int, problem: str) -> None:
        """Count ``count`` lost events."""
        self.lost += count
        self.problems.append(problem)

    def duplicate(self, count: int, problem: str) -> None:
        """Count ``count`` duplicated events."""
        self.duplicated += count
        self.problems.append(problem)


async def audit_store(store: PostgresEventStore, expected_streams: Iterable[str]) -> StoreAudit:
    """Read every event twice (tailing, by stream) and count what is lost or duplicated."""
    tailed = await stored_envelopes(store)
    by_stream: dict[str, list[EventEnvelope]] = defaultdict(list)
    for envelope in tailed:
        by_stream[envelope.stream_id].append(envelope)
    audit = StoreAudit(streams={}, events=len(tailed))
    repeated = sum(count - 1 for count in Counter(e.event_id for e in tailed).values())
    if repeated:
        audit.duplicate(repeated, f"{repeated} event ids read twice by a tailing reader")
    for stream_id in sorted({*by_stream, *expected_streams}):
        stored = await store.read_stream(stream_id)
        audit.streams[stream_id] = stored
        if not stored:
            audit.lose(1, f"{stream_id}: no events")
            continue
        _check_stream(audit, stream_id, stored, by_stream[stream_id])
    return audit


def _check_stream(
    audit: StoreAudit,
    stream_id: str,
    stored: list[EventEnvelope],
    tailed: list[EventEnvelope],
) -> None:
    versions = [envelope.stream_version for envelope in stored]
    if versions != list(range(1, len(versions) + 1)):
        gaps = len(set(range(1, max(versions) + 1)) - set(versions))
        audit.lose(gaps, f"{stream_id}: versions not contiguous {versions}")
    unread = {e.event_id for e in stored} - {e.event_id for e in tailed}
    if unread:
        audit.lose(len(unread), f"{stream_id}: {len(unread)} events a tailing reader skipped")
    if [e.stream_version for e in tailed] != sorted(e.stream_version for e in tailed):
        audit.problems.append(f"{stream_id}: a tailing reader saw versions out of order")
    facts = Counter(
        (envelope.event_type, *(str(envelope.data.get(name)) for name in names))
        for envelope in stored
        if (names := FACT_KEYS.get(envelope.event_type)) is not None
    )
    twice = {fact: count for fact, count in facts.items() if count > 1}
    if twice:
        audit.duplicate(sum(twice.values()) - len(twice), f"{stream_id}: facts twice {twice}")
    started = [
        stream
        for envelope in stored
        if envelope.event_type == "MentorshipsStarted"
        for stream in envelope.data["stream_ids"]
    ]
    if len(started) != len(set(started)):
        audit.duplicate(len(started) - len(set(started)), f"{stream_id}: a stream started twice")


def check_accepted_updates(audit: StoreAudit, accepted: Sequence[Accepted]) -> None:
    """Every accepted update's events are in its stream, exactly where the answer said."""
    for update in accepted:
        stream = audit.streams.get(update.stream_id, [])
        result = update.result
        first = result.stream_version - len(result.recorded)
        found = [envelope.event_type for envelope in stream[first : result.stream_version]]
        if found != result.recorded:
            audit.lose(
                len(result.recorded),
                f"{update.stream_id}: update {update.update_id} answered {result.recorded} at "
                f"version {result.stream_version}, the stream holds {found}",
            )


def check_workflow_results(
    audit: StoreAudit,
    results: Mapping[str, MentorshipWorkflowResult],
    expected_reasons: Mapping[str, str],
) -> None:
    """Each relationship closed as expected, and its workflow and stream agree on everything."""
    for stream_id, result in results.items():
        stream = audit.streams.get(stream_id, [])
        if result.stream_version != len(stream):
            difference = result.stream_version - len(stream)
            problem = (
                f"{stream_id}: the workflow recorded {result.stream_version} events, "
                f"the stream holds {len(stream)}"
            )
            if difference > 0:
                audit.lose(difference, problem)
            else:
                audit.duplicate(-difference, problem)
        if not stream or stream[-1].event_type != "MentorshipClosed":
            audit.problems.append(f"{stream_id}: does not end with MentorshipClosed")
        held = sum(envelope.event_type == "ConversationHeld" for envelope in stream)
        if result.conversations_held != held:
            audit.problems.append(f"{stream_id}: {result.conversations_held} held, {held} stored")
        if result.reason != expected_reasons[stream_id]:
            audit.problems.append(
                f"{stream_id}: closed for {result.reason!r}, not {expected_reasons[stream_id]!r}"
            )


@dataclass
class BusAudit:
    """The events stream on the bus against the store."""

    messages: int
    lost: int
    duplicated: int


def audit_bus(stored: Sequence[EventEnvelope], bus_event_ids: Sequence[Any]) -> BusAudit:
    """Every stored event once on the bus: nothing missing, nothing twice, nothing foreign."""
    on_bus = Counter(str(event_id) for event_id in bus_event_ids)
    stored_ids = {str(envelope.event_id) for envelope in stored}
    lost = len(stored_ids - on_bus.keys())
    duplicated = sum(count - 1 for count in on_bus.values()) + len(on_bus.keys() - stored_ids)
    return BusAudit(messages=len(bus_event_ids), lost=lost, duplicated=duplicated)
