"""The notifier: a FastStream subscriber of ``mentorflow.events.>`` that fills and sends the outbox.

``mentorflow notifier`` (and ``mentorflow serve``) runs three loops:

* **The subscriber.** A durable pull consumer (``mentorflow-notifier``) with explicit acks.
  Per relationship event, in one transaction: the pair's state moves to the event's stream
  version (``notifications.pairs``) and the messages the event means are recorded in the
  outbox (`notifications.messages.plan`). Only then is the message acked. A redelivered
  event (a kill before the ack, a NATS restart) finds its version taken into account and
  records nothing; an event that arrives before an earlier one of its stream (another
  notifier instance is on it, or it was redelivered late) is nak'ed and comes back after
  it. Contacts come from the public API first (`notifications.directory`); while the API is
  away the event is nak'ed with backoff, never acked unrecorded.
* **The delivery** (`OutboxDelivery`): what is due is sent over SMTP or to a webhook,
  retried with backoff, dead-lettered when it fails for good.
* **The digests**: escalations kept for HR contacts become one message per contact at their
  next digest time (08:00 in their zone, daily or on Mondays), recorded under a key derived
  from the contact and that time, so two notifiers (or a restart) record each digest once.

``PersonForgotten`` (stream ``person-…``) puts the person on the never-again list and erases
their outbox rows; the directory's cache forgets them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import nats
import nats.errors
import nats.js.errors
import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js import api
from pydantic import ValidationError

from bus.broker import broker_options
from bus.config import BusConfig
from events import CATALOG, DomainEvent, EventEnvelope, UnknownEventType
from events.person import PersonForgotten
from eventstore import DatabaseUnavailable, Pool
from eventstore.backoff import Backoff, sleep_unless_stopped
from notifications.config import RetryPolicy, SmtpConfig
from notifications.delivery import DeliveryObserver, OutboxDelivery
from notifications.directory import CohortContacts, Directory, DirectoryUnavailable
from notifications.messages import (
    PEOPLE_CHANGES,
    DigestItem,
    Links,
    Occasion,
    cohorts_of,
    digest_text,
    notifies,
    people_of,
    plan,
    plan_people_change,
)
from notifications.models import OutboxMessage
from notifications.outbox import RECORD, SCHEMA, PostgresOutbox, migrate_outbox, record_arguments
from notifications.pairs import PairState
from notifications.schedule import next_digest_at
from notifications.smtp import SmtpSender
from notifications.webhooks import WebhookSender

log = structlog.get_logger(__name__)
_PEOPLE_CHANGES = frozenset(event.__name__ for event in PEOPLE_CHANGES)

DIGEST_NAMESPACE = uuid.UUID("0b7f4d36-5a4e-4a1f-8e52-9c3a3e1c2f70")
"""Namespace of a digest's outbox event id: uuid5 of (contact, digest time). Never change."""


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    """What the notifier needs besides its pool and directory.

    Attributes:
        bus: The events stream.
        links: The console's URL and the sender address, for the messages.
        smtp: The SMTP server.
        durable: The durable consumer's name (one per set of cooperating notifiers).
        policy: Retries and leases of the delivery.
        poll_interval: Seconds between delivery passes when nothing was due.
        digest_interval: Seconds between looks for due digests.
        max_wait_for_gap: Deliveries an event waits for an earlier one of its stream before
            it is taken as it is (the stream may have lost the earlier one to its max age).
        webhook_ca_file: A CA bundle webhooks' certificates are checked against, instead of
            the system's.
        failure_delays: The waits before each retry of an event whose handling failed
            unexpectedly; after the last, the event is given up (logged, rejected).
    """

    bus: BusConfig
    links: Links
    smtp: SmtpConfig
    durable: str = "mentorflow-notifier"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    poll_interval: float = 0.5
    digest_interval: float = 30.0
    max_wait_for_gap: int = 20
    webhook_ca_file: str | None = None
    failure_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)


class _Retry(Exception):
    """Not now: nak the message and have it again after ``delay`` seconds."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay


class Notifier:
    """Turns events into outbox entries (the subscriber's work, without the broker).

    Args:
        pool: The database of the outbox and the notifier's state.
        directory: Where contacts come from.
        links: For the messages.
        clock: The current time (tests pass their own).
    """

    def __init__(
        self,
        pool: Pool,
        directory: Directory,
        links: Links,
        *,
        clock: Callable[[], datetime] | None = None,
        max_wait_for_gap: int = 20,
    ) -> None:
        self.pool, self.directory, self.links = pool, directory, links
        self.clock = clock or (lambda: datetime.now(UTC))
        self.max_wait_for_gap = max_wait_for_gap
        self._streams: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    async def handle(self, envelope: EventEnvelope, delivery: int = 1) -> int:
        """Record what ``envelope`` means; how many outbox entries are new.

        The subscriber hands a fetched batch's messages over at once; events of one stream
        take their turn in the order they arrived (a FIFO lock per stream), other streams
        go on meanwhile.

        Raises:
            _Retry: The event must come again later (earlier event missing, API away).
            DatabaseUnavailable: The database is away (the event comes again).
        """
        lock, users = self._streams.setdefault(envelope.stream_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                return await self._handle(envelope, delivery)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._streams[envelope.stream_id]

    async def _handle(self, envelope: EventEnvelope, delivery: int) -> int:
        if envelope.event_type == PersonForgotten.__name__:
            await self._forget(envelope)
            return 0
        if envelope.event_type in _PEOPLE_CHANGES:
            return await self._people_change(envelope)
        if envelope.stream_type != "mentorship":
            return 0
        event: DomainEvent | None
        try:
            event = CATALOG.decode(envelope).event
        except (UnknownEventType, ValidationError) as error:
            # Not one this version knows (a newer producer): nothing to say about it, but
            # its place in the stream is taken, so the events after it do not wait for it.
            log.warning(
                "event not understood, skipped",
                event_id=str(envelope.event_id),
                event_type=envelope.event_type,
                error_type=type(error).__name__,
            )
            event = None
        version, state = await self._pair(envelope.stream_id)
        if envelope.stream_version <= version:
            return 0  # taken into account before (a redelivery)
        if envelope.stream_version > version + 1 and delivery < self.max_wait_for_gap:
            raise _Retry("an earlier event of the stream is still to come", 1.0)
        if event is None:
            return await self._record(envelope, version, state, [], [])
        change = state.follow(event, envelope.occurred_at)
        if change is None and not notifies(event):
            return await self._record(envelope, version, state, [], [])  # no API call
        contacts = await self._contacts(state)
        occasion = Occasion(envelope.event_id, envelope.stream_id, event, self.clock())
        planned = plan(occasion, state, change, contacts, self.links)
        return await self._record(envelope, version, state, planned.messages, planned.digest_items)

    async def _people_change(self, envelope: EventEnvelope) -> int:
        """HR's notice of a leaver or mover event (the outbox keeps one per event and
        recipient, so a redelivery records nothing new)."""
        event = CATALOG.decode(envelope).event
        contacts = []
        for cohort_id in cohorts_of(event):
            try:
                contacts.append(await self.directory.contacts(cohort_id, people_of(event)))
            except DirectoryUnavailable as error:
                raise _Retry(str(error), 5.0) from error
        occasion = Occasion(envelope.event_id, envelope.stream_id, event, self.clock())
        planned = plan_people_change(occasion, contacts, self.links)
        new = 0
        async with self.pool.acquire() as connection, connection.transaction():
            forgotten = {
                row["person_id"]
                for row in await connection.fetch(
                    f"SELECT person_id FROM {SCHEMA}.forgotten WHERE person_id = ANY($1::text[])",
                    [message.recipient for message in planned.messages],
                )
            }
            for message in planned.messages:
                if message.recipient not in forgotten:
                    record = await connection.fetchval(RECORD, *record_arguments(message))
                    new += record is not None
        log.info(
            "event notified",
            event_id=str(envelope.event_id),
            event_type=envelope.event_type,
            recorded=new,
        )
        return new

    async def _pair(self, stream_id: str) -> tuple[int, PairState]:
        row = await self.pool.fetchrow(
            f"SELECT version, state::text AS state FROM {SCHEMA}.pairs WHERE stream_id = $1",
            stream_id,
        )
        if row is None:
            return 0, PairState()
        return row["version"], PairState.model_validate_json(row["state"])

    async def _contacts(self, state: PairState) -> CohortContacts:
        if not state.known:
            return CohortContacts(cohort_id=state.cohort_id)
        try:
            contacts = await self.directory.contacts(
                state.cohort_id, [state.mentor_id, state.mentee_id]
            )
        except DirectoryUnavailable as error:
            raise _Retry(str(error), 5.0) from error
        forgotten = {
            row["person_id"]
            for row in await self.pool.fetch(
                f"SELECT person_id FROM {SCHEMA}.forgotten WHERE person_id = ANY($1::text[])",
                [state.mentor_id, state.mentee_id, *(c.id for c in contacts.hr_contacts)],
            )
        }
        if not forgotten:
            return contacts
        return contacts.model_copy(
            update={
                "people": [p for p in contacts.people if p.person_id not in forgotten],
                "hr_contacts": [c for c in contacts.hr_contacts if c.id not in forgotten],
            }
        )

    async def _record(
        self,
        envelope: EventEnvelope,
        seen_version: int,
        state: PairState,
        messages: list[OutboxMessage],
        digest_items: list[DigestItem],
    ) -> int:
        now = self.clock()
        async with self.pool.acquire() as connection, connection.transaction():
            current = await connection.fetchval(
                f"SELECT version FROM {SCHEMA}.pairs WHERE stream_id = $1 FOR UPDATE",
                envelope.stream_id,
            )
            if (current or 0) != seen_version:
                # Another notifier moved the pair meanwhile: look again from the start.
                raise _Retry("the pair moved meanwhile", 0.2)
            await connection.execute(
                f"INSERT INTO {SCHEMA}.pairs (stream_id, version, state) VALUES ($1, $2, $3) "
                "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
                "state = excluded.state, updated_at = now()",
                envelope.stream_id,
                envelope.stream_version,
                state.model_dump_json(),
            )
            new = 0
            for message in messages:
                new += await connection.fetchval(RECORD, *record_arguments(message)) is not None
            for item in digest_items:
                await connection.execute(
                    f"INSERT INTO {SCHEMA}.digest_items (recipient, event_id, cohort_id, address, "
                    "timezone, frequency, line, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                    "$8) ON CONFLICT DO NOTHING",
                    item.recipient,
                    envelope.event_id,
                    item.cohort_id,
                    item.address,
                    item.timezone,
                    item.frequency,
                    item.line,
                    now,
                )
        log.info(
            "event notified",
            event_id=str(envelope.event_id),
            event_type=envelope.event_type,
            recorded=new,
        )
        return new

    async def _forget(self, envelope: EventEnvelope) -> None:
        event = CATALOG.decode(envelope).event
        assert isinstance(event, PersonForgotten)
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                f"INSERT INTO {SCHEMA}.forgotten (person_id, forgotten_at) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING",
                event.person_id,
                event.forgotten_at,
            )
            erased = await connection.execute(
                f"DELETE FROM {SCHEMA}.outbox WHERE recipient = $1", event.person_id
            )
            await connection.execute(
                f"DELETE FROM {SCHEMA}.digest_items WHERE recipient = $1", event.person_id
            )
        self.directory.forget(event.person_id)
        log.info("person forgotten by the notifier", erased=erased)

    async def record_due_digests(self) -> int:
        """Record the digests due now (one per HR contact and digest time); how many."""
        now = self.clock()
        rows = await self.pool.fetch(
            f"SELECT recipient, address, timezone, frequency, min(occurred_at) AS first "
            f"FROM {SCHEMA}.digest_items WHERE digest_id IS NULL "
            "GROUP BY recipient, address, timezone, frequency"
        )
        recorded = 0
        for row in rows:
            due = next_digest_at(row["first"], row["timezone"], row["frequency"])
            if due > now:
                continue
            recorded += await self._record_digest(row["recipient"], row["address"], due)
        return recorded

    async def _record_digest(self, recipient: str, address: str, due: datetime) -> int:
        digest_id = uuid.uuid5(DIGEST_NAMESPACE, f"{recipient}/{due.isoformat()}")
        async with self.pool.acquire() as connection, connection.transaction():
            items = await connection.fetch(
                f"SELECT event_id, line FROM {SCHEMA}.digest_items WHERE recipient = $1 "
                "AND address = $2 AND digest_id IS NULL AND occurred_at < $3 "
                "ORDER BY occurred_at, event_id FOR UPDATE SKIP LOCKED",
                recipient,
                address,
                due,
            )
            if not items:
                return 0
            message = OutboxMessage(
                event_id=digest_id,
                recipient=recipient,
                address=address,
                subject=f"Mentoring escalations: {len(items)} since your last digest",
                text_body=(
                    f"{digest_text(item['line'] for item in items)}\n"
                    f"Notification preferences: {self.links.preferences()}\n"
                ),
                category="digest",
                headers={"List-Unsubscribe": f"<{self.links.preferences()}?unsubscribe=digest>"},
            )
            new = await connection.fetchval(RECORD, *record_arguments(message)) is not None
            await connection.execute(
                f"UPDATE {SCHEMA}.digest_items SET digest_id = $2 WHERE recipient = $1 "
                "AND event_id = ANY($3::uuid[])",
                recipient,
                digest_id,
                [item["event_id"] for item in items],
            )
        return int(new)


def notifier_router(notifier: Notifier, config: NotifierConfig) -> NatsRouter:
    """The router with the notifier's durable consumer of every event."""
    router = NatsRouter()
    stream = JStream(config.bus.stream_name, declare=False)

    @router.subscriber(
        f"{config.bus.subject_prefix}.>",
        stream=stream,
        durable=config.durable,
        # A long fetch timeout: nats-py raises a bare TimeoutError (which FastStream then
        # logs as a crash and restarts) when its no-wait probe takes the whole timeout.
        pull_sub=PullSub(batch_size=50, timeout=5.0),
        config=api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=60,
            deliver_policy=api.DeliverPolicy.ALL,
            max_ack_pending=1000,
        ),
        ack_policy=AckPolicy.MANUAL,
        title="notify people of relationship events",
        description="Every event; the notifier records the messages it means, then acks.",
    )
    async def notify(message: NatsMessage) -> None:
        delivery = int(message.raw_message.metadata.num_delivered)
        try:
            envelope = EventEnvelope.model_validate_json(message.body)
        except ValidationError:
            log.warning("not an event envelope, dropped", subject=message.raw_message.subject)
            await message.reject()
            return
        try:
            await notifier.handle(envelope, delivery)
        except _Retry as retry:
            log.info("event deferred", event_id=str(envelope.event_id), reason=str(retry))
            await message.nack(delay=retry.delay)
            return
        except DatabaseUnavailable as error:
            log.warning("database unavailable, event deferred", error=str(error))
            await message.nack(delay=min(2.0 * delivery, 30.0))
            return
        except Exception as error:
            # A bug or an event this notifier cannot render: a few tries, then the event is
            # given up (logged with its id) so that it never holds its stream's later events.
            if delivery <= len(config.failure_delays):
                log.warning(
                    "event failed, will retry",
                    event_id=str(envelope.event_id),
                    error_type=type(error).__name__,
                    delivery=delivery,
                )
                await message.nack(delay=config.failure_delays[delivery - 1])
                return
            log.error(
                "event given up: its messages are not sent",
                event_id=str(envelope.event_id),
                event_type=envelope.event_type,
                stream_id=envelope.stream_id,
                error_type=type(error).__name__,
            )
            await message.reject()
            return
        await message.ack()

    return router


async def run_notifier(
    pool: Pool,
    directory: Directory,
    config: NotifierConfig,
    stop: asyncio.Event,
    *,
    started: Callable[[], Awaitable[None]] | None = None,
    on_delivery: DeliveryObserver | None = None,
) -> None:
    """Run the subscriber, the delivery and the digests until ``stop`` is set.

    The events stream is the relay's (it creates it; the notifier's NATS user may not): until
    it exists, the notifier waits for it, as it waits for NATS itself. ``on_delivery`` is
    told of every delivery attempt's channel and outcome (`OutboxDelivery`).
    """
    await migrate_outbox(pool)
    if not await _stream_exists(config.bus, stop):
        return  # stopped while waiting
    notifier = Notifier(pool, directory, config.links, max_wait_for_gap=config.max_wait_for_gap)
    # Each event is processed in a span continuing the trace in its headers.
    broker = NatsBroker(config.bus.nats_url, **broker_options())
    broker.include_router(notifier_router(notifier, config))
    sender = SmtpSender(config.smtp)
    webhooks = WebhookSender(ca_file=config.webhook_ca_file)
    delivery = OutboxDelivery(
        PostgresOutbox(pool), sender, config.policy, webhooks=webhooks, on_outcome=on_delivery
    )
    await broker.start()
    try:
        if started is not None:
            await started()
        await asyncio.gather(
            delivery.run(stop, poll_interval=config.poll_interval),
            _digests(notifier, stop, config.digest_interval),
        )
    finally:
        await broker.stop()
        await sender.close()
        await webhooks.close()


async def _stream_exists(bus: BusConfig, stop: asyncio.Event) -> bool:
    """Wait until NATS answers and the events stream exists; False when stopped first."""
    backoff = Backoff(initial=0.5, maximum=10.0)
    while not stop.is_set():
        try:
            client = await nats.connect(bus.nats_url, allow_reconnect=False, connect_timeout=5)
        except (nats.errors.Error, OSError) as error:
            log.info("waiting for NATS", error_type=type(error).__name__)
        else:
            try:
                await client.jetstream().stream_info(bus.stream_name)
                return True
            except nats.js.errors.NotFoundError:
                log.info("waiting for the events stream (the relay creates it)")
            except nats.errors.Error as error:
                log.info("waiting for the events stream", error_type=type(error).__name__)
            finally:
                await client.close()
        if await sleep_unless_stopped(stop, backoff.next_delay()):
            return False
    return False


async def _digests(notifier: Notifier, stop: asyncio.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            await notifier.record_due_digests()
        except DatabaseUnavailable as error:
            log.warning("digests postponed, database unavailable", error=str(error))
        if await sleep_unless_stopped(stop, interval):
            return
