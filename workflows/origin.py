"""Where a chain of events started and what caused each event: the envelope's ids.

``correlation_id`` is the id of what started the chain (an HTTP request's ``X-Request-ID``,
a bus command's message id, a workflow timer's firing); ``causation_id`` is the id of the
command or event that directly caused the event. Callers hand an `Origin` to Temporal in a
header (`mentorflow.correlation.CorrelationInterceptor`); inside a workflow the interceptor
keeps it in `workflow_origin`, a context variable of the handler's own task, and
`workflows.recording.record_events` stamps it on the events it appends.

Everything here is deterministic: ids come from the header, the update's id, the workflow's
own ids and its clock, never from randomness or the wall clock.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow

ORIGIN_HEADER = "mentorflow-origin"
"""The Temporal header that carries an `Origin` from a client to a workflow, and on to the
workflows it starts or signals."""


class Origin(BaseModel):
    """What started a chain, and the command or event that caused the next step.

    A caller sets ``causation_id`` to its command's id; when it is absent the correlation id
    is the cause (an HTTP request or a bus command is both the start and the cause).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    correlation_id: str = Field(min_length=1, max_length=200)
    causation_id: str | None = Field(default=None, min_length=1, max_length=200)

    @property
    def cause(self) -> str:
        """The causation id, or the correlation id when no other cause was named."""
        return self.causation_id or self.correlation_id


workflow_origin: ContextVar[Origin | None] = ContextVar("mentorflow_workflow_origin", default=None)
"""The origin of the workflow handler running in this task (set by the interceptor)."""


def timer_origin(workflow_id: str, fired_at: datetime) -> Origin:
    """The origin of events a workflow records because its own timer fired at ``fired_at``."""
    timer_id = f"timer:{workflow_id}:{fired_at.isoformat()}"
    return Origin(correlation_id=timer_id, causation_id=timer_id)


def events_origin(explicit: Origin | None = None) -> Origin:
    """The ids to stamp on the events the current workflow handler appends now.

    In order: an ``explicit`` origin (a timer's); in an update handler, the header's
    correlation (else the update id) caused by the update id, i.e. the command; elsewhere
    (the main run, a signal) the header's origin, whose cause advances to each event
    appended (`advance`); without any header the workflow id caused by the run id.
    """
    if explicit is not None:
        return explicit
    found = workflow_origin.get()
    update = workflow.current_update_info()
    if update is not None:
        correlation = found.correlation_id if found is not None else update.id
        return Origin(correlation_id=correlation, causation_id=update.id)
    if found is not None:
        return Origin(correlation_id=found.correlation_id, causation_id=found.cause)
    info = workflow.info()
    return Origin(correlation_id=info.workflow_id, causation_id=info.run_id)


def advance(origin: Origin, last_event_id: str) -> None:
    """After an append outside an update: what this task appends next, it appends because of
    ``last_event_id`` (an update's events stay caused by the update)."""
    if workflow.current_update_info() is None:
        workflow_origin.set(origin.model_copy(update={"causation_id": last_event_id}))
