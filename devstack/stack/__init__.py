"""The local stack: Temporal dev server, NATS JetStream and PostgreSQL from PyPI wheels.

``mentorflow stack up | down | status`` is a thin layer over this package, and the test suite
uses the same machinery for a private stack on free ports::

    from devstack.stack import LocalStack, StackConfig

    config = StackConfig.for_tests(tmp_path_factory.mktemp("stack"))  # free loopback ports
    stack = LocalStack(config)
    addresses = await stack.up()        # StackAddresses: temporal_address, nats_url,
    ...                                 #   database_url, temporal_ui_url, started
    await stack.down()                  # stops only what up() started

``StackConfig.from_settings(load_settings(), state_dir())`` is the developer stack on the
configured addresses, with the Temporal Web UI on the gRPC port + 1000.

What ``up`` guarantees:
    * A server that already answers at its address is used, never started twice; only
      missing servers are started, detached (own session), with their output in
      ``<state>/logs/<server>.log`` and their pid and start time in ``<state>/stack.json``.
    * Each server is ready when ``up`` returns: Temporal describes the namespace, JetStream
      answers an account request, PostgreSQL runs ``SELECT 1``.
    * The contract's custom search attributes are registered, and the database named in
      the database URL exists.
    * ``<state>/stack.env`` holds the resolved ``MENTORFLOW_*`` addresses.
    * Data stays under the state directory (``temporal/temporal.db``, ``nats/``,
      ``postgres/``): ``down`` followed by ``up`` loses nothing.

Every error is a `StackError`; `StackConfigInvalid` (bad input) lists every problem.
"""

from devstack.stack.config import StackConfig, free_port
from devstack.stack.endpoints import Endpoint, StackEndpoints, redact_password
from devstack.stack.errors import (
    AddressInUse,
    BinaryNotFound,
    SearchAttributeConflict,
    ServerSetupFailed,
    ServerStartFailed,
    ServerStopFailed,
    StackConfigInvalid,
    StackError,
    StackLocked,
    StackStateCorrupt,
)
from devstack.stack.local_stack import LocalStack
from devstack.stack.models import (
    SERVER_NAMES,
    ServerState,
    ServerStatus,
    StackAddresses,
    StackStatus,
)

__all__ = [
    "SERVER_NAMES",
    "AddressInUse",
    "BinaryNotFound",
    "Endpoint",
    "LocalStack",
    "SearchAttributeConflict",
    "ServerSetupFailed",
    "ServerStartFailed",
    "ServerState",
    "ServerStatus",
    "ServerStopFailed",
    "StackAddresses",
    "StackConfig",
    "StackConfigInvalid",
    "StackEndpoints",
    "StackError",
    "StackLocked",
    "StackStateCorrupt",
    "StackStatus",
    "free_port",
    "redact_password",
]
