"""Temporal worker wiring: clients, adapters and activity instances, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.event_store import EventStoreActivities
from activities.matching import MatchingActivities
from activities.person_changes import PersonChangesActivities
from activities.review import ReviewActivities
from eventstore import PostgresEventStore, create_pool
from mentorflow.converter import data_converter
from mentorflow.directory.reactor import run_people_reactor
from mentorflow.metrics import observe_append
from mentorflow.settings import Settings
from mentorflow.telemetry import temporal_interceptors
from vault import PersonalDataVault
from workflows.cohort import CohortWorkflow
from workflows.mentorship import MentorshipWorkflow
from workflows.person_changes import PersonChangesWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS: Sequence[type[Any]] = (CohortWorkflow, MentorshipWorkflow, PersonChangesWorkflow)


async def connect_client(settings: Settings) -> Client:
    """A Temporal client with the encrypting pydantic data converter (used by every caller).

    Its tracing interceptor serves the workers built on it too.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        interceptors=temporal_interceptors(),
        data_converter=data_converter(
            settings.payload_keyring(),
            require_encryption=settings.require_encrypted_payloads,
        ),
    )


def build_worker(
    client: Client, store: PostgresEventStore, task_queue: str, vault: PersonalDataVault
) -> Worker:
    """The worker with every workflow and activity of mentorflow registered."""
    event_store_activities = EventStoreActivities(store, vault)
    review_activities = ReviewActivities(store, vault)
    matching_activities = MatchingActivities()
    person_changes = PersonChangesActivities(client, store.pool, vault)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            event_store_activities.append_events,
            review_activities.draft_review_summary,
            matching_activities.match_cohort,
            matching_activities.rematch_mentee,
            person_changes.person_standing,
            person_changes.find_relationships,
            person_changes.departure_terms,
            person_changes.relationship_command,
            person_changes.propose_rematch,
            person_changes.reports_of,
            person_changes.reporting_line,
            person_changes.record_person_event,
        ],
        # Matching is CPU-bound numpy/scipy work: it runs in threads, off the event loop.
        activity_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="matching"),
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the worker until ``stop`` is set (or forever)."""
    master = settings.master_keyring()
    pool = await create_pool(settings.database)
    try:
        store = await PostgresEventStore.open(pool, on_append=observe_append)
        try:
            vault = await PersonalDataVault.create(pool, master)
            client = await connect_client(settings)
            worker = build_worker(client, store, settings.task_queue, vault)
            log.info("worker started", task_queue=settings.task_queue)
            stop = stop or asyncio.Event()
            async with worker:
                # The leaver and mover flows start from directory facts: the reactor that
                # signals them runs with the worker (one active per database, by its lock).
                await run_people_reactor(
                    store,
                    settings.database.url,
                    client,
                    settings.task_queue,
                    stop,
                    options=settings.projector_options(),
                )
        finally:
            await store.close()
    finally:
        await pool.close()
