"""The people reactor: directory facts become signals to the person-changes workflow.

It tails the event store like a projection (`projections.runner.ProjectionRunner`: the safe
tailing order from a saved position, LISTEN wake-ups with polling, one active instance per
database through an advisory lock, a failing event retried with backoff and shown as
stalled), but instead of writing rows it signals ``person-changes-{id}`` with each
`PersonDeactivated`, `PersonReactivated` and `ManagerChanged`, starting the workflow when it
is not running (signal-with-start), and only then moves its position.

Delivery is at least once: a reactor killed between a signal and its position signals again,
and the workflow knows the event ids it has seen (and acts on the person's current standing,
so a repeat after it ended finds nothing to do). It is not a read model: a rebuild of the
read models never replays it, so old departures are never acted on twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

from temporalio.client import Client

from eventstore import Position, PostgresEventStore, StoredEvent
from eventstore.notifications import AppendNotifications
from projections.base import Projection
from projections.runner import ProjectionRunner, RunnerOptions, hold_projection
from projections.schema import migrate_read_models
from projections.tables import Rows, Table
from workflows.ids import person_changes_workflow_id
from workflows.person_changes import PersonChange, PersonChangesInput, PersonChangesWorkflow

NAME = "people_reactor"
TRIGGERS = frozenset({"PersonDeactivated", "PersonReactivated", "ManagerChanged"})


class _Triggers(Projection[None]):
    """The reactor's place among the positions: person streams, no tables of its own."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = "Signals the person-changes workflow with directory facts"
    stream_types: ClassVar[frozenset[str]] = frozenset({"person"})
    tables: ClassVar[tuple[Table, ...]] = ()

    def new_state(self, stream_id: str) -> None:
        """No state."""

    def load_state(self, stream_id: str, text: str) -> None:
        """No state."""

    def dump_state(self, state: None) -> str:
        """No state."""
        return "null"

    def apply(self, state: None, event: object, occurred_at: object) -> None:
        """Nothing: the reactor acts in `PeopleReactor._apply`."""

    def rows(self, stream_id: str, state: None) -> Rows:
        """No rows."""
        return {}


class PeopleReactor(ProjectionRunner):
    """Signals each trigger to its person's workflow, then moves the position past it."""

    def __init__(
        self,
        store: PostgresEventStore,
        client: Client,
        task_queue: str,
        *,
        options: RunnerOptions | None = None,
        notifications: AppendNotifications | None = None,
    ) -> None:
        super().__init__(
            _Triggers(),
            store,
            options=options,
            wake_ups=notifications.subscribe() if notifications is not None else None,
        )
        self._client = client
        self._task_queue = task_queue

    async def _apply(self, events: Sequence[StoredEvent]) -> None:
        for event in events:
            if event.event_type in TRIGGERS and event.stream_id.startswith("person-"):
                await self._signal(event)
        last: Position = events[-1].position
        async with self.store.pool.acquire() as connection:
            await self.writer.apply_streams(connection, {}, last)
        self.position = last

    async def _signal(self, event: StoredEvent) -> None:
        person_id = event.stream_id.removeprefix("person-")
        await self._client.start_workflow(
            PersonChangesWorkflow.run,
            PersonChangesInput(person_id=person_id),
            id=person_changes_workflow_id(person_id),
            task_queue=self._task_queue,
            start_signal="person_changed",
            start_signal_args=[
                PersonChange(
                    event_id=str(event.event_id),
                    event_type=event.event_type,  # type: ignore[arg-type]
                    occurred_at=event.occurred_at,
                    correlation_id=event.envelope.correlation_id,
                )
            ],
        )
        self.log.info(
            "people_reactor.signalled", event_type=event.event_type, stream_id=event.stream_id
        )


async def run_people_reactor(
    store: PostgresEventStore,
    dsn: str,
    client: Client,
    task_queue: str,
    stop: asyncio.Event,
    *,
    options: RunnerOptions | None = None,
) -> None:
    """Run the reactor until ``stop`` (waiting while another process holds its lock)."""
    options = options or RunnerOptions()
    await migrate_read_models(store.pool)
    notifications = AppendNotifications(dsn)
    reactor = PeopleReactor(store, client, task_queue, options=options, notifications=notifications)
    await notifications.start()
    try:
        await hold_projection(reactor, dsn, stop, options)
    finally:
        await notifications.close()
