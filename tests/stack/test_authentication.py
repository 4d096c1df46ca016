"""The stack's servers authenticate: NATS users with subject permissions, PostgreSQL passwords."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import nats
import nats.errors
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, RePublish, StreamConfig
from nats.js.errors import NotFoundError

from bus import BusConfig
from bus.broker import close_broker, create_broker
from bus.stream import ensure_stream
from devstack.stack import LocalStack, StackConfig, StackConfigInvalid
from devstack.stack.credentials import NATS_USERS, SERVICE_USER, STREAMS_BY_OWNER
from devstack.stack.postgres_server import PostgresServer
from eventstore import create_pool
from eventstore.pool import DatabaseSettings
from mentorflow.commands import REPLY_TO_HEADER, CommandsConfig, include_commands
from mentorflow.keyring import KEYS_ENV_FILE, read_env_file
from mentorflow.settings import Settings
from notifications.messages import Links
from notifications.outbox import migrate_outbox
from notifications.service import NotifierConfig, run_notifier
from tests.notifications.test_notifier import Answers, Stream, contacts
from tests.stack.conftest import RunningStack
from tests.support import assert_eventually

EVENTS_STREAM = "MENTORFLOW_EVENTS"


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


@contextlib.asynccontextmanager
async def _connected(url: str, errors: list[Exception] | None = None) -> AsyncIterator[Client]:
    async def record(error: Exception) -> None:
        if errors is not None:
            errors.append(error)

    client = await nats.connect(
        url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2, error_cb=record
    )
    try:
        yield client
    finally:
        await client.close()


async def _publish_as(config: StackConfig, user: str, subject: str) -> bool:
    """Whether a core NATS message ``user`` publishes on ``subject`` reaches a subscriber.

    A refused publish must also be reported to the publisher as a permissions violation.
    """
    errors: list[Exception] = []
    async with _connected(config.nats_url) as watcher:
        subscription = await watcher.subscribe(subject)
        await watcher.flush()
        async with _connected(config.nats_url_for(user), errors) as publisher:
            await publisher.publish(subject, b"forged?")
            await publisher.flush()
            try:
                await subscription.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                await assert_eventually(
                    lambda: asyncio.sleep(0, errors),
                    lambda seen: any(
                        "permissions violation" in str(error).lower() for error in seen
                    ),
                    timeout=5,
                    message=f"{user} told its publish to {subject} was refused",
                )
                return False
            return True


def _permission_violations(errors: list[Exception]) -> list[Exception]:
    return [error for error in errors if "permissions violation" in str(error).lower()]


async def _refused(
    config: StackConfig, user: str, request: Callable[[JetStreamContext], Awaitable[object]]
) -> None:
    """``user``'s JetStream API request is refused by the server's permissions.

    A refusal is a permissions violation without an answer (a timeout), not an error of the
    JetStream API (which would mean the request was allowed and failed on its merits).
    """
    errors: list[Exception] = []
    async with _connected(config.nats_url_for(user), errors) as client:
        with pytest.raises(nats.errors.TimeoutError):
            await request(client.jetstream(timeout=1))
        await assert_eventually(
            lambda: asyncio.sleep(0, errors),
            lambda seen: bool(_permission_violations(seen)),
            timeout=5,
            message=f"{user} told its JetStream API request was refused",
        )


async def _events_stream_exists(config: StackConfig) -> int:
    """Create the events stream (as the relay) if needed; its message count."""
    broker = create_broker(BusConfig(nats_url=config.nats_url_for("relay")))
    await broker.connect()
    try:
        info = await ensure_stream(broker, BusConfig(nats_url=config.nats_url_for("relay")))
        await broker.connection.jetstream().publish(
            f"mentorflow.events.cohort.Kept{uuid.uuid4().hex[:8]}", b"{}", stream=EVENTS_STREAM
        )
    finally:
        await close_broker(broker)
    return info.state.messages + 1


def _forged_stream(kind: str) -> StreamConfig:
    """A stream that would put messages on event subjects: by its subjects, or republishing."""
    token = uuid.uuid4().hex[:8]
    if kind == "subjects":
        return StreamConfig(name=f"FORGED_{token}", subjects=[f"mentorflow.events.f{token}.>"])
    return StreamConfig(
        name=f"FORGED_{token}",
        subjects=[f"forged.{token}.>"],
        republish=RePublish(src=f"forged.{token}.>", dest=f"mentorflow.events.f{token}.>"),
    )


async def test_nats_refuses_a_connection_without_credentials(running_stack: RunningStack) -> None:
    anonymous = _without_credentials(running_stack.config.nats_url)

    with pytest.raises(nats.errors.Error):
        async with _connected(anonymous):
            pass


async def test_nats_refuses_a_wrong_password(running_stack: RunningStack) -> None:
    host = urlsplit(running_stack.config.nats_url).netloc.rpartition("@")[2]

    with pytest.raises(nats.errors.Error):
        async with _connected(f"nats://relay:not-the-password@{host}"):
            pass


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("relay", True),
        (SERVICE_USER, True),
        ("api", False),
        ("commander", False),
        ("subscriber", False),
    ],
)
async def test_only_the_relay_users_may_publish_events(
    running_stack: RunningStack, user: str, allowed: bool
) -> None:
    subject = f"mentorflow.events.x{uuid.uuid4().hex[:8]}"

    assert await _publish_as(running_stack.config, user, subject) is allowed


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("commander", True),
        (SERVICE_USER, True),
        ("relay", False),
        ("api", False),
        ("subscriber", False),
    ],
)
async def test_only_authorised_publishers_may_send_commands(
    running_stack: RunningStack, user: str, allowed: bool
) -> None:
    subject = "mentorflow.commands.cohort.launch"

    assert await _publish_as(running_stack.config, user, subject) is allowed


async def test_the_relay_user_feeds_the_events_stream_and_a_subscriber_only_reads_it(
    running_stack: RunningStack,
) -> None:
    config = running_stack.config
    subject = f"mentorflow.events.cohort.Test{uuid.uuid4().hex[:8]}"
    broker = create_broker(BusConfig(nats_url=config.nats_url_for("relay")))
    await broker.connect()
    try:
        await ensure_stream(broker, BusConfig(nats_url=config.nats_url_for("relay")))
        ack = await broker.connection.jetstream().publish(subject, b"{}", stream=EVENTS_STREAM)
    finally:
        await close_broker(broker)

    async with _connected(config.nats_url_for("subscriber")) as subscriber:
        jetstream = subscriber.jetstream()
        consumer = f"outside-{uuid.uuid4().hex[:8]}"
        pull = await jetstream.pull_subscribe(
            subject,
            durable=consumer,
            stream=EVENTS_STREAM,
            config=ConsumerConfig(filter_subject=subject),
        )
        (message,) = await pull.fetch(1, timeout=5)
        assert message.metadata.sequence.stream == ack.seq
        await message.ack_sync()
        with pytest.raises(nats.errors.Error):
            await jetstream.delete_stream(EVENTS_STREAM)
        with pytest.raises(nats.errors.Error):
            await jetstream.publish(subject, b"{}", stream=EVENTS_STREAM, timeout=2)


@pytest.mark.parametrize("user", ["api", "relay", "subscriber", "commander"])
@pytest.mark.parametrize("operation", ["delete", "purge"])
async def test_no_service_user_may_delete_or_purge_the_events_stream(
    running_stack: RunningStack, user: str, operation: str
) -> None:
    config = running_stack.config
    messages = await _events_stream_exists(config)

    async def request(jetstream: JetStreamContext) -> object:
        if operation == "delete":
            return await jetstream.delete_stream(EVENTS_STREAM)
        return await jetstream.purge_stream(EVENTS_STREAM)

    await _refused(config, user, request)
    async with _connected(config.nats_url) as admin:
        info = await admin.jetstream().stream_info(EVENTS_STREAM)
    assert info.state.messages >= messages


@pytest.mark.parametrize("user", ["api", "relay", "subscriber", "commander"])
@pytest.mark.parametrize("kind", ["subjects", "republish"])
async def test_no_service_user_may_create_a_stream_that_feeds_event_subjects(
    running_stack: RunningStack, user: str, kind: str
) -> None:
    config = running_stack.config
    await _events_stream_exists(config)
    forged = _forged_stream(kind)

    await _refused(config, user, lambda jetstream: jetstream.add_stream(forged))
    async with _connected(config.nats_url) as admin:
        with pytest.raises(NotFoundError):
            await admin.jetstream().stream_info(forged.name or "")


async def test_the_admin_user_may_create_a_republishing_stream(
    running_stack: RunningStack,
) -> None:
    # The control of the test above: the request is refused for the user, not for its content.
    forged = _forged_stream("republish")
    async with _connected(running_stack.config.nats_url) as admin:
        jetstream = admin.jetstream()
        await jetstream.add_stream(forged)
        await jetstream.delete_stream(forged.name or "")


@pytest.mark.parametrize("user", ["api"])
async def test_a_service_may_not_reconfigure_even_its_own_streams(
    running_stack: RunningStack, user: str
) -> None:
    # Updating its own stream would let it republish into mentorflow.events.> all the same.
    stream = STREAMS_BY_OWNER[user][0]
    token = uuid.uuid4().hex[:8]
    update = StreamConfig(
        name=stream,
        subjects=[f"forged.{token}.>"],
        republish=RePublish(src=f"forged.{token}.>", dest=f"mentorflow.events.f{token}.>"),
    )

    await _refused(running_stack.config, user, lambda jetstream: jetstream.update_stream(update))
    await _refused(
        running_stack.config,
        user,
        lambda jetstream: jetstream.update_stream(
            StreamConfig(name=EVENTS_STREAM, subjects=["mentorflow.events.>"])
        ),
    )


async def _refusing_launcher(_spec: Any) -> Any:
    raise RuntimeError("no launches in this test")


async def test_the_api_user_runs_its_command_consumer_and_answers_commands(
    running_stack: RunningStack,
) -> None:
    config = running_stack.config
    commands = CommandsConfig(durable=f"test-launcher-{uuid.uuid4().hex[:8]}")
    inbox = f"_INBOX.launch{uuid.uuid4().hex[:8]}"
    errors: list[Exception] = []

    async def record(error: Exception) -> None:
        errors.append(error)

    try:
        for _start in range(2):  # the first start creates the streams, the next finds them
            broker = NatsBroker(
                config.nats_url_for("api"), error_cb=record, log_level=logging.DEBUG
            )
            include_commands(broker, _refusing_launcher, commands)
            await broker.start()
            try:
                async with _connected(config.nats_url_for("commander")) as commander:
                    answers = await commander.subscribe(inbox)
                    await commander.jetstream().publish(
                        commands.launch_subject,
                        b'{"not": "a cohort spec"}',
                        headers={REPLY_TO_HEADER: inbox},
                    )
                    answer = await answers.next_msg(timeout=10)
                assert json.loads(answer.data)["status"] == "rejected"
            finally:
                await broker.stop()
    finally:
        async with _connected(config.nats_url) as admin:
            await admin.jetstream().delete_consumer(commands.stream, commands.durable)
    assert not _permission_violations(errors)


async def test_postgres_refuses_a_connection_without_the_password(
    running_stack: RunningStack,
) -> None:
    url = running_stack.config.database_url
    password = urlsplit(url).password
    assert password

    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(url.replace(f":{password}@", "@"), password="")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(url.replace(f":{password}@", ":wrong@"))
    connection = await asyncpg.connect(url)
    await connection.close()


async def test_the_stack_starts_no_postgres_without_a_password(running_stack: RunningStack) -> None:
    config = StackConfig(
        state_dir=running_stack.config.state_dir / "no-password",
        database_url="postgresql://postgres@127.0.0.1:5999/mentorflow",
    )

    with pytest.raises(StackConfigInvalid, match="no password"):
        await PostgresServer(config, config.endpoints()).prepare()


async def test_the_developer_stack_keeps_its_passwords_in_keys_env(
    running_stack: RunningStack,
) -> None:
    state_dir = running_stack.config.state_dir.parent / f"dev-{uuid.uuid4().hex[:8]}"
    settings = Settings(nats_url="nats://localhost:4222")

    config = StackConfig.from_settings(settings, state_dir)
    again = StackConfig.from_settings(settings, state_dir)

    keys = read_env_file(state_dir / KEYS_ENV_FILE)
    assert stat.S_IMODE((state_dir / KEYS_ENV_FILE).stat().st_mode) == 0o600
    for user in NATS_USERS:
        assert keys[user.password_variable]
    password = keys["MENTORFLOW_NATS_PASSWORD_MENTORFLOW"]
    assert config.nats_url == f"nats://mentorflow:{password}@localhost:4222"
    assert urlsplit(config.database_url).password == keys["MENTORFLOW_DATABASE_PASSWORD"]
    assert again == config


async def test_stack_env_carries_the_credentials_and_status_hides_them(
    running_stack: RunningStack,
) -> None:
    settings = Settings(_env_file=running_stack.config.env_file)
    nats_password = urlsplit(settings.nats_url).password
    database_password = urlsplit(settings.database_url).password

    assert nats_password
    assert database_password
    assert urlsplit(settings.nats_url).username == SERVICE_USER
    status = await LocalStack(running_stack.config).status()
    rendered = status.model_dump_json()
    assert nats_password not in rendered
    assert database_password not in rendered
    nats_config = running_stack.config.state_dir / "nats-server.conf"
    assert stat.S_IMODE(nats_config.stat().st_mode) == 0o600


def test_the_permissions_name_the_streams_the_services_use() -> None:
    commands = CommandsConfig()

    assert {
        "relay": (BusConfig().stream_name,),
        "api": (commands.stream, commands.dead_letter_stream),
    } == STREAMS_BY_OWNER
    assert BusConfig().stream_name == EVENTS_STREAM


async def test_the_notifier_reads_the_events_stream_as_the_subscriber_user(
    running_stack: RunningStack,
) -> None:
    """docker compose runs the notifier as `subscriber`: its consumer works with those rights."""
    config = running_stack.config
    tag = uuid.uuid4().hex[:8]
    matched = Stream(tag).matched()
    relay = create_broker(BusConfig(nats_url=config.nats_url_for("relay")))
    await relay.connect()
    try:
        await ensure_stream(relay, BusConfig(nats_url=config.nats_url_for("relay")))
        await relay.connection.jetstream().publish(
            f"mentorflow.events.mentorship.{matched.event_type}",
            matched.model_dump_json().encode(),
            stream=EVENTS_STREAM,
        )
    finally:
        await close_broker(relay)
    pool = await create_pool(DatabaseSettings(config.database_url, min_size=1, max_size=4))
    await migrate_outbox(pool)
    notifier = NotifierConfig(
        bus=BusConfig(nats_url=config.nats_url_for("subscriber")),
        links=Links("https://mentoring.example.org", "mentorflow@example.org"),
        smtp=Settings(smtp_host=config.smtp_host, smtp_port=config.smtp_port).smtp_config(),
        durable=f"notifier-{tag}",
    )
    stop = asyncio.Event()
    service = asyncio.create_task(run_notifier(pool, Answers(contacts(tag)), notifier, stop))
    try:
        await assert_eventually(
            lambda: pool.fetchval(
                "SELECT count(*) FROM notifications.outbox WHERE event_id = $1", matched.event_id
            ),
            (2).__eq__,
            timeout=30,
            message="the notifier recorded the match announcements",
        )
    finally:
        stop.set()
        await asyncio.wait_for(service, 30)
        await pool.close()
