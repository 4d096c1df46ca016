"""The notifier's consumer on a real JetStream: sent from the bus, a poison event given up."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import nats
import pytest
import structlog

from bus.publishing import encode_envelope, message_headers, subject_for
from devstack.stack import StackAddresses
from events import EventEnvelope
from events import departure as d
from eventstore import Pool
from notifications import RetryPolicy
from notifications.directory import CohortContacts
from notifications.messages import Links
from notifications.service import NotifierConfig, run_notifier
from tests.faults.pipeline import isolated_bus
from tests.notifications.conftest import MailSink
from tests.notifications.test_notifier import NOW, Stream, contacts, envelope
from tests.support import assert_eventually

pytestmark = pytest.mark.servers


def departure(tag: str) -> EventEnvelope:
    """A leaver's `DepartureStarted` with one paused relationship of cohort ``c-1``."""
    return envelope(
        f"person-a-{tag}",
        3,
        d.DepartureStarted(
            person_id=f"a-{tag}",
            deactivation_event_id="e-1",
            deactivated_at=NOW,
            relationships=[
                d.DepartedRelationship(
                    stream_id=f"mentorship-c-1-b-{tag}",
                    cohort_id="c-1",
                    side="mentor",
                    other_id=f"b-{tag}",
                    paused=True,
                    resume_by=NOW + timedelta(days=14),
                )
            ],
        ),
        NOW,
    )


class PoisonedDirectory:
    """Answers cohort ``c-1``; fails like a bug for the stream whose people are ``poison``."""

    def __init__(self, answer: CohortContacts) -> None:
        self.answer = answer
        self.calls = 0

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        self.calls += 1
        if any(person.endswith("poison") for person in person_ids):
            raise RuntimeError("a bug")
        return self.answer

    def forget(self, person_id: str) -> None:
        return None


async def publish(nats_url: str, stream: str, prefix: str, items: list[EventEnvelope]) -> None:
    client = await nats.connect(nats_url)
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name=stream, subjects=[f"{prefix}.>"])
        for envelope in items:
            await jetstream.publish(
                subject_for(envelope, prefix),
                encode_envelope(envelope),
                headers=message_headers(envelope),
            )
    finally:
        await client.close()


async def consumer_settled(nats_url: str, stream: str, durable: str) -> tuple[int, int]:
    client = await nats.connect(nats_url)
    try:
        info = await client.jetstream().consumer_info(stream, durable)
        return info.num_pending or 0, info.num_ack_pending or 0
    finally:
        await client.close()


async def test_events_reach_the_sink_from_the_bus_and_a_poison_event_is_given_up(
    stack: StackAddresses, pool: Pool, mail_sink: MailSink
) -> None:
    tag = uuid.uuid4().hex[:8]
    bus = isolated_bus(stack.nats_url)
    good, poison = Stream(tag), Stream("poison")
    good_matched, poison_matched = good.matched(), poison.matched()
    left = departure(tag)  # a person stream's event: HR hears of a leaver
    directory = PoisonedDirectory(contacts(tag))
    config = NotifierConfig(
        bus=bus,
        links=Links("https://mentoring.example.org", "mentorflow@example.org"),
        smtp=mail_sink.smtp_config(),
        durable=f"notifier-{tag}",
        policy=RetryPolicy(initial=timedelta(0), maximum=timedelta(0)),
        poll_interval=0.1,
        failure_delays=(0.1, 0.1),
    )
    stop = asyncio.Event()
    # Started before the stream exists (the relay creates it): the notifier waits for it.
    with structlog.testing.capture_logs() as logs:
        service = asyncio.create_task(run_notifier(pool, directory, config, stop))
        await assert_eventually(
            lambda: asyncio.sleep(0, [entry["event"] for entry in logs]),
            lambda events: any(
                event.startswith("waiting for the events stream") for event in events
            ),
            timeout=30,
            message="the notifier waits for the stream",
        )
    try:
        await publish(
            stack.nats_url,
            bus.stream_name,
            bus.subject_prefix,
            [poison_matched, good_matched, left],
        )
        await assert_eventually(
            lambda: asyncio.to_thread(mail_sink.messages_to, f"ben-{tag}@example.org"),
            timeout=30,
            message="the mentee's match announcement arrived",
        )
        await assert_eventually(
            lambda: asyncio.to_thread(mail_sink.messages_to, f"hr-{tag}@example.org"),
            timeout=30,
            message="HR's notice of the leaver arrived",
        )
        await assert_eventually(
            lambda: consumer_settled(stack.nats_url, bus.stream_name, config.durable),
            (0, 0).__eq__,
            timeout=30,
            message="every message acked or given up",
        )
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(service, 30)

    assert len(mail_sink.messages_to(f"ada-{tag}@example.org")) == 1
    assert directory.calls >= 3  # the poison event: first try and both retries
    recorded = await pool.fetch("SELECT DISTINCT event_id FROM notifications.outbox")
    assert {row["event_id"] for row in recorded} == {good_matched.event_id, left.event_id}
    [notice] = mail_sink.messages_to(f"hr-{tag}@example.org")
    assert notice.message["Subject"] == "A participant left: 1 relationship(s) paused"
