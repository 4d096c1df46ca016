"""A cohort on an accelerated calendar reaches its people by email, through a notifier kill -9
and a NATS restart.

Real everything: the session's Temporal with ``mentorflow worker`` as a process, a NATS of
the test's own (so it can be killed), the relay as a process, the API under uvicorn (the
notifier reads contacts from it, as any outside service would), ``mentorflow notifier`` as a
process, and the SMTP sink. Four pairs play the fault tests' plans (one meets throughout, one
never starts, one ends early, one goes quiet and is escalated); one mentee is forgotten
mid-run. Afterwards every message the events mean arrived, to the right people, once (a
duplicate only from the crash window the outbox documents, recognisable by its
``Message-ID``), and the forgotten mentee got nothing about anything after the forgetting.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
import uvicorn

from devstack.mailbox import StoredMail, list_mail
from devstack.stack import StackAddresses
from domain.cohort_spec import CohortSpec
from events import EventEnvelope
from events import mentorship as m
from eventstore import PostgresEventStore
from mentorflow.api import create_app
from mentorflow.api.tokens import Role, add_token
from mentorflow.cohorts import launch_cohort
from mentorflow.settings import BusSettings, Settings
from notifications import OutboxKey, migrate_outbox
from tests.bus.support import NatsProcess
from tests.faults.cohort import Participants as FaultParticipants
from tests.faults.cohort import Plan, cohort_spec, relationship_results, relationships_of
from tests.faults.pipeline import isolated_bus
from tests.faults.scale import Calendar
from tests.faults.services import ServiceProcess, _environment, relay_process, worker_process
from tests.notifications.conftest import MailSink
from tests.projections.streams import stored_envelopes
from tests.support import assert_eventually, create_database
from worker import connect_client
from workflows.cohort import CohortWorkflow
from workflows.ids import cohort_workflow_id

pytestmark = pytest.mark.slow

CALENDAR = Calendar(
    program=timedelta(seconds=60),
    cadence=timedelta(seconds=12),
    grace=timedelta(seconds=3),
    onboarding=timedelta(seconds=20),
)
DOMAIN = "example.org"


@dataclass(frozen=True)
class Api:
    url: str
    service_token: str
    hr_token: str


@contextlib.asynccontextmanager
async def running_api(settings: Settings, tmp_path: Path) -> AsyncIterator[Api]:
    """The API under uvicorn on a free loopback port, with a service and an HR token."""
    tokens = tmp_path / "tokens.json"
    service_token = add_token(tokens, Role.SERVICE)
    hr_token = add_token(tokens, Role.HR_ADMIN)
    app = create_app(settings.model_copy(update={"api_tokens_file": tokens}))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(lambda: asyncio.sleep(0, server.started), timeout=30)
        yield Api(f"http://127.0.0.1:{port}", service_token, hr_token)
    finally:
        server.should_exit = True
        await serving
        listener.close()


def notifier_process(
    settings: Settings, api: Api, sink: MailSink, durable: str, state_dir: Path
) -> ServiceProcess:
    """``mentorflow notifier`` on the test's database, bus, API and sink."""
    bus = settings.bus
    return ServiceProcess(
        "notifier",
        [str(Path(sys.executable).with_name("mentorflow")), "notifier"],
        state_dir / "notifier.log",
        _environment(
            MENTORFLOW_STATE_DIR=str(state_dir),
            MENTORFLOW_DATABASE_URL=settings.database_url,
            MENTORFLOW_NATS_URL=settings.nats_url,
            MENTORFLOW_BUS_STREAM_NAME=str(bus.stream_name),
            MENTORFLOW_BUS_SUBJECT_PREFIX=str(bus.subject_prefix),
            MENTORFLOW_SMTP_HOST=sink.host,
            MENTORFLOW_SMTP_PORT=str(sink.port),
            MENTORFLOW_SMTP_FROM_ADDRESS=f"mentorflow@{DOMAIN}",
            MENTORFLOW_NOTIFIER_API_URL=api.url,
            MENTORFLOW_NOTIFIER_API_TOKEN=api.service_token,
            MENTORFLOW_NOTIFIER_CONSOLE_URL="https://mentoring.example.org",
            MENTORFLOW_NOTIFIER_DURABLE=durable,
            MENTORFLOW_NOTIFIER_DIRECTORY_TTL="1",
            MENTORFLOW_NOTIFIER_POLL_INTERVAL="0.2",
            MENTORFLOW_NOTIFIER_LEASE="10",
        ),
    )


def with_contacts(spec: dict[str, Any], tag: str) -> dict[str, Any]:
    """The spec with an address per participant and one HR contact."""
    for participant in spec["participants"]:
        participant["email"] = f"{participant['id']}.{tag}@{DOMAIN}"
    spec["notifications"] = {
        "hr_contacts": [
            {
                "id": f"hr-{tag}",
                "name": "HR Operations",
                "email": f"hr-{tag}@{DOMAIN}",
                "timezone": "Europe/Berlin",
                "digest": "daily",
            }
        ]
    }
    return spec


def expected_keys(
    envelopes: list[EventEnvelope], people: dict[str, tuple[str, str]], hr: str
) -> tuple[set[OutboxKey], set[OutboxKey]]:
    """The messages the events mean (must arrive) and those they may mean (calendar updates).

    Args:
        envelopes: The relationship events.
        people: (mentor id, mentee id) by stream id.
        hr: The HR contact's id.
    """
    both = (
        m.MentorshipMatched,
        m.OnboardingStarted,
        m.ConversationReminderDue,
        m.ConversationMissed,
        m.ClosureStarted,
        m.MentorshipClosed,
        m.MentorshipPaused,
        m.MentorshipResumed,
    )
    must: set[OutboxKey] = set()
    may: set[OutboxKey] = set()
    for envelope in envelopes:
        mentor, mentee = people[envelope.stream_id]
        names = {cls.__name__ for cls in both}
        if envelope.event_type in names:
            must |= {OutboxKey(event_id=envelope.event_id, recipient=p) for p in (mentor, mentee)}
        elif envelope.event_type == "ActionItemCheckInDue":
            owner = mentor if envelope.data["owner"] == "mentor" else mentee
            must.add(OutboxKey(event_id=envelope.event_id, recipient=owner))
        elif envelope.event_type == "MentorshipEscalated":
            must.add(OutboxKey(event_id=envelope.event_id, recipient=hr))
        elif envelope.event_type == "ConversationHeld":
            may |= {OutboxKey(event_id=envelope.event_id, recipient=p) for p in (mentor, mentee)}
    return must, may


async def test_a_cohort_reaches_its_people_once_through_a_notifier_kill_and_a_nats_restart(
    stack: StackAddresses, postgres_server_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    database_url = await create_database(postgres_server_url, "notifier_e2e")
    nats = NatsProcess(tmp_path / "jetstream")
    await nats.start()
    bus = isolated_bus(nats.url)
    settings = Settings(
        temporal_address=stack.temporal_address,
        task_queue=f"notify-{tag}",
        database_url=database_url,
        nats_url=nats.url,
        bus=BusSettings(stream_name=bus.stream_name, subject_prefix=bus.subject_prefix),
    )
    store = await PostgresEventStore.connect(database_url, max_size=4)
    await migrate_outbox(store.pool)
    worker = worker_process(settings, tmp_path)
    relay = relay_process(database_url, bus, tmp_path)
    try:
        async with running_api(settings, tmp_path) as api:
            notifier = notifier_process(settings, api, mail_sink, f"notifier-{tag}", tmp_path)
            services = [worker, relay, notifier]
            for service in services:
                service.start()
            client = await connect_client(settings)
            starts_at = datetime.now(UTC)
            spec = with_contacts(cohort_spec(f"notify-{tag}", 4, CALENDAR, starts_at), tag)
            launch = await launch_cohort(
                client, CohortSpec.model_validate(spec), settings.task_queue
            )
            relationships = relationships_of(launch)
            forgotten = next(r for r in relationships if r.plan is Plan.IDLE).mentee_id
            participants = FaultParticipants(client, CALENDAR, starts_at)
            rng = random.Random(tag)

            async def faults() -> datetime:
                # The match announcements first (so the forgotten mentee had one), then:
                # forget a mentee, kill the notifier, restart NATS.
                await assert_eventually(
                    lambda: asyncio.to_thread(list_mail, mail_sink.mail_dir),
                    lambda mails: any(f"{forgotten}.{tag}@" in " ".join(x.rcpt_tos) for x in mails),
                    timeout=60,
                    interval=0.5,
                    message="the match announcement reached the mentee to forget",
                )
                async with httpx.AsyncClient(base_url=api.url) as http:
                    response = await http.post(
                        f"/people/{forgotten}/forget",
                        headers={"Authorization": f"Bearer {api.hr_token}"},
                    )
                assert response.status_code == 200, response.text
                forgotten_at = datetime.fromisoformat(response.json()["forgotten_at"])
                await asyncio.sleep(rng.uniform(2, 8))
                notifier.restart()  # kill -9, then start again
                await asyncio.sleep(rng.uniform(2, 8))
                nats.kill()
                await asyncio.sleep(rng.uniform(1, 3))
                await nats.start()
                return forgotten_at

            _, forgotten_at = await asyncio.gather(participants.play(relationships), faults())
            deadline = CALENDAR.program.total_seconds() + 300
            await relationship_results(client, relationships, deadline)
            cohort = client.get_workflow_handle_for(
                CohortWorkflow.run, cohort_workflow_id(launch.cohort_id)
            )
            await asyncio.wait_for(cohort.result(), deadline)
            people = {r.stream_id: (r.mentor_id, r.mentee_id) for r in relationships}
            envelopes = [e for e in await stored_envelopes(store) if e.stream_id in people]
            must, may = expected_keys(envelopes, people, f"hr-{tag}")
            after_forgetting = {e.event_id for e in envelopes if e.occurred_at > forgotten_at}
            must = {
                key
                for key in must
                if not (key.recipient == forgotten and key.event_id in after_forgetting)
            }
            ids = {key.message_id(DOMAIN): key for key in must | may}

            def ours() -> list[StoredMail]:
                return [
                    mail
                    for mail in list_mail(mail_sink.mail_dir)
                    if any(tag in address for address in mail.rcpt_tos)
                ]

            await assert_eventually(
                lambda: asyncio.to_thread(ours),
                lambda mails: {k.message_id(DOMAIN) for k in must} <= {x.message_id for x in mails},
                timeout=120,
                interval=0.5,
                message="every expected message arrived",
            )
            for service in services:
                service.check_alive()
                service.stop()
            mails = ours()
            pending = await store.pool.fetchval(
                "SELECT count(*) FROM notifications.outbox WHERE state <> 'sent'"
            )
    finally:
        for service in (worker, relay):
            service.stop()
        await store.close()
        nats.kill()

    received = Counter(mail.message_id for mail in mails)
    print(
        f"[notifier] {len(must)} messages expected, {len(mails)} received "
        f"({len(received)} distinct), {len(to_forgotten_keys(mails, ids, forgotten))} to the "
        f"forgotten mentee, before the forgetting"
    )
    # The match and onboarding of 4 pairs alone are 16 messages: the run did play.
    assert len(must) >= 16
    unexpected = [mid for mid in received if mid not in ids]
    duplicates = sum(count - 1 for count in received.values())
    assert unexpected == []
    # Once each; a resend is possible only for an entry the killed notifier had sent but not
    # marked (one kill: at most one such entry), and it carries the same Message-ID.
    assert duplicates <= 1, received.most_common(3)
    assert pending == 0
    to_forgotten = to_forgotten_keys(mails, ids, forgotten)
    assert to_forgotten  # the match announcement, at least
    assert all(key.event_id not in after_forgetting for key in to_forgotten)
    for mail in mails:
        assert ids[mail.message_id].recipient in mail.rcpt_tos[0]
    _check_invitations(mails, people)


def to_forgotten_keys(
    mails: list[StoredMail], ids: dict[str, OutboxKey], forgotten: str
) -> list[OutboxKey]:
    """The keys of the messages the forgotten mentee received."""
    return [
        ids[mail.message_id]
        for mail in mails
        if any(address.startswith(f"{forgotten}.") for address in mail.rcpt_tos)
    ]


def _check_invitations(mails: list[StoredMail], people: dict[str, tuple[str, str]]) -> None:
    """One series per pair: one UID for all its invitations, the CANCEL last in SEQUENCE."""
    series: dict[str, list[tuple[int, str]]] = {}
    for mail in mails:
        for part in mail.message.walk():
            if part.get_content_type() != "text/calendar":
                continue
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            calendar = icalendar.Calendar.from_ical(payload)
            event = next(iter(calendar.walk("VEVENT")))
            series.setdefault(str(event["UID"]), []).append(
                (int(event.decoded("SEQUENCE")), str(calendar["METHOD"]))
            )
    assert series, "no invitation was sent"
    assert len(series) <= len(people)
    for invitations in series.values():
        cancels = [sequence for sequence, method in invitations if method == "CANCEL"]
        requests = [sequence for sequence, method in invitations if method == "REQUEST"]
        assert not cancels or not requests or min(cancels) > max(requests)
