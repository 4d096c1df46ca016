"""Session-scoped real servers on free ports, from the same machinery as `mentorflow stack`."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

# Hypothesis imports its optimiser lazily, in the middle of a test; pytest's assertion
# rewriting then parses that module with `ast` while server threads of other tests run, and
# CPython 3.11.7's `ast` can fail there ("AST constructor recursion depth mismatch", seen in
# CI). Imported here, it is parsed at start-up, before any such thread exists.
import hypothesis.internal.conjecture.optimiser  # noqa: F401
import pytest
import structlog
from temporalio.testing import WorkflowEnvironment

from devstack.stack import LocalStack, StackAddresses, StackConfig
from devstack.stack.binaries import find_binary
from devstack.stack.temporal_server import register_search_attributes
from eventstore import PostgresEventStore
from mentorflow.converter import data_converter
from mentorflow.keyring import KeyRing
from mentorflow.settings import Settings
from tests.support import (
    TemplateDatabase,
    clear_database,
    create_database,
    create_template_database,
)
from workflows.search_attributes import ALL_KEYS

# The session never reads a developer's local stack (.mentorflow/ of `make demo`): its keys,
# addresses and passwords would override the test servers' through `load_settings`.
os.environ.setdefault("MENTORFLOW_STATE_DIR", tempfile.mkdtemp(prefix="mentorflow-tests-"))

# Keys for every process of the session (subprocesses inherit them): the payload codec's and
# the vault's, fresh per run as a deployment would take them from a secret store.
for _variable, _ring in (
    ("MENTORFLOW_PAYLOAD_KEYS", KeyRing.generate("test-p1")),
    ("MENTORFLOW_MASTER_KEYS", KeyRing.generate("test-m1")),
):
    os.environ.setdefault(_variable, _ring.to_spec())


# A test that runs a command in process (typer's CliRunner) configures logging as the
# command does: structlog with loggers cached on first use, and a root handler on the
# runner's captured stream. Cached, a module's logger would keep that configuration for every
# later test of the process, out of `structlog.testing.capture_logs`' reach, and the handler
# would write to a closed stream. In tests loggers are never cached, and every test leaves
# the configuration and the root handlers as it found them.
_configure_structlog = structlog.configure


def _configure_without_caching(**settings: Any) -> None:
    settings["cache_logger_on_first_use"] = False
    _configure_structlog(**settings)


structlog.configure = _configure_without_caching  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


SERVER_FIXTURES = frozenset({"stack", "running_stack", "time_skipping_env"})
"""Fixtures that start real servers; every server-backed fixture builds on one of them."""
WITHOUT_SERVERS = "--without-servers"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        WITHOUT_SERVERS,
        action="store_true",
        help="run only tests that need no server (make test-fast): leave out those marked "
        "'servers' and those using a server fixture, directly or through other fixtures",
    )


def needs_servers(item: pytest.Item) -> bool:
    """Whether ``item`` starts or uses a real server (PostgreSQL, NATS, Temporal)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("servers") is not None or bool(fixtures & SERVER_FIXTURES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption(WITHOUT_SERVERS):
        return
    kept = [item for item in items if not needs_servers(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if needs_servers(item)])
        items[:] = kept


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StackAddresses]:
    """PostgreSQL, NATS JetStream and a Temporal dev server for the whole session."""
    state_dir: Path = tmp_path_factory.mktemp("stack")
    local_stack = LocalStack(StackConfig.for_tests(state_dir))
    addresses = await local_stack.up()
    try:
        yield addresses
    finally:
        await local_stack.down()


@pytest.fixture(scope="session")
def postgres_server_url(stack: StackAddresses) -> str:
    """DSN of the session's PostgreSQL (tests create their own databases on it)."""
    return stack.database_url


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (months of timers in seconds), one per module.

    The server skips time only while no workflow has work pending; one server per module
    keeps a workflow another module left running from stalling everybody's clock.
    """
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings().payload_keyring()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
        # The SDK's default (5 s) is not enough on a loaded 2-core machine (seen once in CI-like
        # runs); a slow start costs seconds, a failed one the whole module.
        test_server_startup_timeout=timedelta(seconds=60),
    )
    await register_search_attributes(environment.client, "default", ALL_KEYS)
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture(scope="session")
async def template_database(postgres_server_url: str) -> TemplateDatabase:
    """A migrated database (event store, read models, vault) that module databases copy."""
    return await create_template_database(postgres_server_url)


@pytest.fixture(scope="module")
async def module_database(
    postgres_server_url: str, template_database: TemplateDatabase, request: pytest.FixtureRequest
) -> str:
    """A migrated database of the test module's own (a copy of the template): its DSN.

    Tests take it through `clean_database`; a copy costs a CREATE DATABASE, where a database
    per test cost that plus every migration.
    """
    module = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    return await create_database(
        postgres_server_url, module[:40] or "module", template=template_database.name
    )


@pytest.fixture
async def clean_database(module_database: str, template_database: TemplateDatabase) -> str:
    """The module's database, emptied for this test as if new (`tests.support.clear_database`).

    Emptied before the test, not after, so a test that failed cannot leave anything behind.
    """
    await clear_database(module_database, template_database)
    return module_database


@pytest.fixture(scope="session")
async def session_store(postgres_server_url: str) -> AsyncIterator[PostgresEventStore]:
    """An event store in a database of its own, shared by workflow tests (own stream ids)."""
    store = await PostgresEventStore.connect(
        await create_database(postgres_server_url, "workflows"), max_size=20
    )
    try:
        yield store
    finally:
        await store.close()
