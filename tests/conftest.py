"""Session-scoped real servers on free ports, from the same machinery as `mentorflow stack`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mentorflow.stack import LocalStack, StackAddresses, StackConfig


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
