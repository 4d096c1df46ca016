"""A stack of this package's own, which its tests may stop, kill and restart.

It is separate from the session stack of ``tests/conftest.py``, which other tests rely on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from devstack.stack import LocalStack, StackAddresses, StackConfig


@dataclass(frozen=True)
class RunningStack:
    """The package's stack, and what its first ``up`` reported."""

    stack: LocalStack
    config: StackConfig
    first_up: StackAddresses


@pytest.fixture(scope="package")
async def running_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    """Temporal, NATS and PostgreSQL started for this package; every test leaves them up."""
    config = StackConfig.for_tests(tmp_path_factory.mktemp("own-stack"))
    stack = LocalStack(config)
    first_up = await stack.up()
    try:
        yield RunningStack(stack=stack, config=config, first_up=first_up)
    finally:
        await stack.down()
