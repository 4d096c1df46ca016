"""The notifier from bus to SMTP sink, next to raw aiosmtplib sending the same messages.

Run ``python -m bench.notifier_bench [--pairs N] [--reminders R] [--json]`` with the local
stack up (``mentorflow stack up``, then ``set -a; . .mentorflow/stack.env; set +a``): it
uses the stack's PostgreSQL (a fresh database of its own), NATS (a stream of its own) and
SMTP sink.

``--pairs`` relationships each have a ``MentorshipMatched`` and ``--reminders``
``ConversationReminderDue`` events (each reminder carries the pair's iCalendar series), all
published to JetStream first. The notifier (`notifications.service.run_notifier`, in
process) then consumes them, records two messages per event in the outbox (one per person)
and delivers them over one kept SMTP connection; the figure is messages per second from its
start until the outbox holds no unsent entry. The baseline, in the same run, sends exactly
those messages again (`build_email` of each outbox entry) with raw ``aiosmtplib`` over one
connection to the same sink. The target is at least half the raw rate.

Contacts come from an in-memory directory: the API's answer is cached per pair by the
notifier (`ApiDirectory.ttl`), so a steady stream costs one lookup per pair and TTL, which
this benchmark leaves out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiosmtplib
import nats

from bench.eventstore_bench import fresh_database
from bus import BusConfig
from bus.publishing import encode_envelope, message_headers, subject_for
from events import DomainEvent, EventEnvelope
from events import mentorship as m
from eventstore import create_pool
from eventstore.pool import DatabaseSettings
from mentorflow.logging import configure_logging
from mentorflow.settings import LogFormat, load_settings
from notifications import PostgresOutbox, build_email, migrate_outbox
from notifications.directory import CohortContacts, PersonContact
from notifications.messages import Links
from notifications.service import NotifierConfig, run_notifier

TARGET_SHARE = 0.5
START = datetime(2027, 1, 11, 9, tzinfo=UTC)


class BenchDirectory:
    """Every person of the benchmark, with an address at the sink."""

    def __init__(self, pairs: int) -> None:
        people = [
            PersonContact(
                person_id=f"{side}-{index:05d}",
                name=f"{side.title()} {index}",
                email=f"{side}-{index:05d}@bench.example.org",
                timezone="Europe/Berlin",
            )
            for index in range(pairs)
            for side in ("mentor", "mentee")
        ]
        self.answer = CohortContacts(cohort_id="bench", people=people)

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        return self.answer

    def forget(self, person_id: str) -> None:
        return None


def envelopes(pairs: int, reminders: int) -> list[EventEnvelope]:
    """Each pair's match and reminders, stream by stream in order."""
    result: list[EventEnvelope] = []
    position = 0
    for index in range(pairs):
        stream = f"mentorship-bench-{index:05d}"
        events: list[DomainEvent] = [
            m.MentorshipMatched(
                cohort_id="bench",
                mentor_id=f"mentor-{index:05d}",
                mentee_id=f"mentee-{index:05d}",
                match_score=0.8,
                reasons=["covers python"],
                program_ends_at=START + timedelta(days=180),
                conversation_cadence=timedelta(days=14),
            ),
            *(
                m.ConversationReminderDue(
                    conversation_number=n + 1, due_at=START + timedelta(days=14 * (n + 1))
                )
                for n in range(reminders)
            ),
        ]
        for version, event in enumerate(events, start=1):
            position += 1
            result.append(
                EventEnvelope(
                    event_id=uuid.uuid4(),
                    event_type=event.event_type,
                    schema_version=type(event).schema_version,
                    stream_id=stream,
                    stream_version=version,
                    global_position=position,
                    occurred_at=START,
                    recorded_at=START,
                    correlation_id=stream,
                    data=event.to_data(),
                )
            )
    return result


async def publish(bus: BusConfig, items: list[EventEnvelope]) -> None:
    """Create the benchmark's stream and publish every envelope to it."""
    client = await nats.connect(bus.nats_url)
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name=bus.stream_name, subjects=[f"{bus.subject_prefix}.>"])
        for envelope in items:
            await jetstream.publish(
                subject_for(envelope, bus.subject_prefix),
                encode_envelope(envelope),
                headers=message_headers(envelope),
            )
    finally:
        await client.close()


async def drop_stream(bus: BusConfig) -> None:
    client = await nats.connect(bus.nats_url)
    try:
        await client.jetstream().delete_stream(bus.stream_name)
    finally:
        await client.close()


async def run(pairs: int, reminders: int) -> dict[str, object]:
    settings = load_settings()
    token = uuid.uuid4().hex[:8]
    bus = BusConfig(
        nats_url=settings.nats_url,
        stream_name=f"BENCH_NOTIFY_{token}",
        subject_prefix=f"b{token}.events",
    )
    items = envelopes(pairs, reminders)
    expected = 2 * len(items)
    await publish(bus, items)
    smtp = settings.smtp_config()
    async with fresh_database(settings.database_url, "notifier") as database_url:
        pool = await create_pool(DatabaseSettings(database_url, min_size=2, max_size=10))
        try:
            await migrate_outbox(pool)
            config = NotifierConfig(
                bus=bus,
                links=Links("https://mentoring.example.org", smtp.from_address),
                smtp=smtp,
                durable=f"bench-{token}",
                poll_interval=0.05,
            )
            stop = asyncio.Event()
            started = time.perf_counter()
            service = asyncio.create_task(run_notifier(pool, BenchDirectory(pairs), config, stop))
            recorded_seconds = None
            while True:
                counts = await pool.fetchrow(
                    "SELECT count(*) AS recorded, count(*) FILTER (WHERE state = 'sent') AS sent "
                    "FROM notifications.outbox"
                )
                assert counts is not None
                recorded, sent = counts["recorded"], counts["sent"]
                if recorded_seconds is None and recorded >= expected:
                    recorded_seconds = time.perf_counter() - started
                if sent >= expected or service.done():
                    break
                await asyncio.sleep(0.05)
            notifier_seconds = time.perf_counter() - started
            stop.set()
            await service
            entries = [
                await PostgresOutbox(pool).entry(row["outbox_id"])
                for row in await pool.fetch("SELECT outbox_id FROM notifications.outbox")
            ]
        finally:
            await pool.close()
    await drop_stream(bus)
    messages = [build_email(entry, smtp) for entry in entries]
    client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, timeout=smtp.timeout)
    started = time.perf_counter()
    await client.connect()
    for message in messages:
        await client.send_message(message)
    await client.quit()
    raw_seconds = time.perf_counter() - started
    notifier_rate = len(entries) / notifier_seconds
    raw_rate = len(messages) / raw_seconds
    return {
        "events": len(items),
        "messages": len(entries),
        "notifier_seconds": round(notifier_seconds, 2),
        "all_recorded_after_seconds": round(recorded_seconds or 0.0, 2),
        "notifier_messages_per_second": round(notifier_rate, 1),
        "raw_aiosmtplib_messages_per_second": round(raw_rate, 1),
        "share_of_raw": round(notifier_rate / raw_rate, 3),
        "target_share": TARGET_SHARE,
        "meets_target": notifier_rate / raw_rate >= TARGET_SHARE,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.notifier_bench")
    parser.add_argument("--pairs", type=int, default=250, help="relationships")
    parser.add_argument("--reminders", type=int, default=3, help="reminders per relationship")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    arguments = parser.parse_args(argv)
    configure_logging(LogFormat.CONSOLE, "WARNING")
    report = asyncio.run(run(arguments.pairs, arguments.reminders))
    if arguments.json:
        print(json.dumps(report, indent=2))
        return
    print("Notifier: bus -> outbox -> SMTP sink, next to raw aiosmtplib (same messages)")
    for key, value in report.items():
        print(f"  {key:36} {value}")


if __name__ == "__main__":
    main()
