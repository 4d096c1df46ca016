"""Carrying an `Origin` (correlation and causation ids) from callers into workflows.

A caller binds the origin of what it is doing (`originating`): the API binds each request's
``X-Request-ID``, the bus command consumer each command's message id. `CorrelationInterceptor`
puts the bound origin in the ``mentorflow-origin`` header of every workflow start, update
and signal the client sends; in the worker it takes the header into the handler's task
(`workflows.origin.workflow_origin`) and passes the handler's origin on to the child
workflows it starts and the workflows it signals. `workflows.recording.record_events`
stamps it on the events.

Headers take no part in Temporal's determinism checks, and the header is plain JSON (ids,
never personal data), so histories recorded without it replay unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NoReturn

import temporalio.client
import temporalio.converter
import temporalio.worker
import temporalio.workflow
from temporalio.api.common.v1 import Payload

from workflows.origin import ORIGIN_HEADER, Origin, events_origin, workflow_origin

_bound: ContextVar[Origin | None] = ContextVar("mentorflow_origin", default=None)
_converter = temporalio.converter.PayloadConverter.default


def current_origin() -> Origin | None:
    """The origin bound in this context, if any."""
    return _bound.get()


def origin_or(correlation_id: str) -> Origin:
    """The bound origin, for an event written outside a workflow (a SCIM change, a person
    forgotten); without one, ``correlation_id`` (the stream) as before."""
    return _bound.get() or Origin(correlation_id=correlation_id)


@contextmanager
def originating(origin: Origin) -> Iterator[Origin]:
    """Bind ``origin`` for what this context sends to Temporal within the block."""
    token = _bound.set(origin)
    try:
        yield origin
    finally:
        _bound.reset(token)


def bind_origin(origin: Origin) -> None:
    """Bind ``origin`` for the rest of this context (an ASGI request's, say)."""
    _bound.set(origin)


def _with_origin(headers: Mapping[str, Payload], origin: Origin | None) -> Mapping[str, Payload]:
    if origin is None or ORIGIN_HEADER in headers:
        return headers
    payload = _converter.to_payloads([origin.model_dump(mode="json")])[0]
    return {**headers, ORIGIN_HEADER: payload}


def _origin_of(headers: Mapping[str, Payload]) -> Origin | None:
    payload = headers.get(ORIGIN_HEADER)
    if payload is None:
        return None
    try:
        return Origin.model_validate(_converter.from_payloads([payload])[0])
    except ValueError:
        return None  # a header this version cannot read: the fallbacks apply


class CorrelationInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """The origin header on the client's calls, and in the worker's workflow handlers."""

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        """Add the bound origin to starts, updates and signals."""
        return _ClientOutbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        """Take the header into the handler's task."""
        return _WorkflowInbound


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        input.headers = _with_origin(input.headers, current_origin())
        return await super().start_workflow(input)

    async def start_workflow_update(
        self, input: temporalio.client.StartWorkflowUpdateInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        input.headers = _with_origin(input.headers, current_origin())
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        origin = current_origin()
        start, update = input.start_workflow_input, input.update_workflow_input
        start.headers = _with_origin(start.headers, origin)
        update.headers = _with_origin(update.headers, origin)
        return await super().start_update_with_start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        input.headers = _with_origin(input.headers, current_origin())
        await super().signal_workflow(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        workflow_origin.set(_origin_of(input.headers))
        return await super().execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        workflow_origin.set(_origin_of(input.headers))
        await super().handle_signal(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        workflow_origin.set(_origin_of(input.headers))
        return await super().handle_update_handler(input)


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    """A child or a signalled workflow continues the chain, caused by what caused the call
    (the update, or the last event this handler appended)."""

    def _passed_on(self, headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
        return _with_origin(headers, events_origin())

    async def start_child_workflow(
        self, input: temporalio.worker.StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        input.headers = self._passed_on(input.headers)
        return await super().start_child_workflow(input)

    async def signal_external_workflow(
        self, input: temporalio.worker.SignalExternalWorkflowInput
    ) -> None:
        input.headers = self._passed_on(input.headers)
        await super().signal_external_workflow(input)

    def continue_as_new(self, input: temporalio.worker.ContinueAsNewInput) -> NoReturn:
        input.headers = _with_origin(input.headers, workflow_origin.get())
        super().continue_as_new(input)
