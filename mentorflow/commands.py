"""Commands from other systems on the bus: ``mentorflow.commands.cohort.launch``.

An HR system publishes a cohort spec (JSON) to JetStream; the launcher validates it and
launches the cohort exactly like the CLI and the API (`mentorflow.cohorts.launch_cohort`).
Every outcome is explicit (``AckPolicy.MANUAL`` on a durable pull consumer):

- launched, or launched before (the workflow id is never reused): ``ack``, outcome published;
- an invalid spec: the outcome lists every problem, the command is parked on
  ``mentorflow.deadletter.commands.cohort.launch`` with the problems, ``ack``: retrying cannot
  make it valid, and nothing is started;
- Temporal unreachable or any other failure: ``nak`` with backoff until ``max_deliver``, then
  parked with the error and terminated, so a poison command neither vanishes nor blocks.

A parked command (`ParkedLaunchCommand`) holds the outcome and the original command, body
and headers, so an operator can retry it once the cause is fixed
(`mentorflow.command_dead_letters`). The body is a cohort spec with names and addresses: it
stays on the dead-letter stream as it was on the commands stream, and is never logged.

What the command starts (the cohort workflow, its events, its relationships) carries the
command's message id as correlation id (`command_origin`).

The outcome goes to the subject in the ``Mentorflow-Reply-To`` header when the sender set one
(JetStream's own reply subject is its ack subject), and to
``mentorflow.results.cohort.launch`` for anyone watching.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js import api
from pydantic import BaseModel, ConfigDict, Field

from domain.cohort_spec import CohortSpec, CohortSpecInvalid, parse_cohort_spec
from events.cohort import Unmatched
from mentorflow.cohorts import LaunchResult
from mentorflow.correlation import originating
from mentorflow.metrics import count_command_dead_letter
from workflows.origin import Origin

log = structlog.get_logger(__name__)

REPLY_TO_HEADER = "Mentorflow-Reply-To"
LAUNCH_COMMAND = "cohort.launch"
"""The launch command's name in metrics (``mentorflow_command_dead_letters_total``)."""
_REPLY_SUBJECT = re.compile(r"(_INBOX|mentorflow\.results)\.[A-Za-z0-9_.-]{1,200}")
"""Reply subjects a sender may name: an inbox, or one under ``mentorflow.results``."""
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
"""A sender's message id kept as the correlation id (else the stream sequence is)."""


class CommandsConfig(BaseModel):
    """Names and delivery bounds (the contract's names by default; tests use their own)."""

    model_config = ConfigDict(frozen=True)

    prefix: str = "mentorflow"
    stream: str = "MENTORFLOW_COMMANDS"
    dead_letter_stream: str = "MENTORFLOW_COMMANDS_DEADLETTER"
    durable: str = "mentorflow-cohort-launcher"
    max_deliver: int = Field(default=5, ge=1)
    backoff: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)

    @property
    def launch_subject(self) -> str:
        """Where launch commands arrive."""
        return f"{self.prefix}.commands.cohort.launch"

    @property
    def dead_letter_subject(self) -> str:
        """Where rejected or failing launch commands are parked."""
        return f"{self.prefix}.deadletter.commands.cohort.launch"

    @property
    def results_subject(self) -> str:
        """Where every launch outcome is published (core NATS)."""
        return f"{self.prefix}.results.cohort.launch"


Launcher = Callable[[CohortSpec], Awaitable[LaunchResult]]

PARKED_HEADERS = ("Nats-Msg-Id", REPLY_TO_HEADER, "traceparent", "tracestate")
"""The command's headers kept with it when it is parked (the others are JetStream's)."""


class LaunchCommandOutcome(BaseModel):
    """What became of a launch command."""

    status: Literal["launched", "already_launched", "rejected", "failed"]
    cohort_id: str | None = None
    problems: list[str] = Field(default_factory=list, description="Every problem of the spec")
    pairs: int = 0
    unmatched: list[Unmatched] = Field(default_factory=list)


class ParkedCommand(BaseModel):
    """A command as it arrived, kept so that it can be sent again."""

    subject: str = Field(description="Where it arrived")
    body: str = Field(description="The command's body as sent (personal data: never logged)")
    headers: dict[str, str] = Field(
        default_factory=dict, description="The sender's headers worth keeping (`PARKED_HEADERS`)"
    )
    stream_sequence: int = Field(description="Its sequence on the commands stream")
    correlation_id: str = Field(description="What it started carries this correlation id")


class ParkedLaunchCommand(BaseModel):
    """What is parked on the dead-letter subject: the outcome and the command itself."""

    outcome: LaunchCommandOutcome
    command: ParkedCommand


def parked_command(message: NatsMessage) -> ParkedCommand:
    """The command of ``message`` as it is parked. A body that is not UTF-8 cannot be a spec
    (it was rejected for that); it is kept with its undecodable bytes replaced."""
    headers = message.headers or {}
    metadata = message.raw_message.metadata
    return ParkedCommand(
        subject=message.raw_message.subject,
        body=message.body.decode("utf-8", errors="replace"),
        headers={name: headers[name] for name in PARKED_HEADERS if name in headers},
        stream_sequence=metadata.sequence.stream,
        correlation_id=command_origin(message).correlation_id,
    )


def command_router(launcher: Launcher, config: CommandsConfig | None = None) -> NatsRouter:
    """The router with the launch-command consumer and its outcome publishers."""
    config = config or CommandsConfig()
    router = NatsRouter()
    commands = JStream(config.stream, subjects=[f"{config.prefix}.commands.>"])
    dead_letters = JStream(
        config.dead_letter_stream, subjects=[f"{config.prefix}.deadletter.commands.>"]
    )
    parked = router.publisher(
        config.dead_letter_subject,
        stream=dead_letters,
        title="rejected cohort launches",
        description=(
            "Launch commands that were invalid or kept failing: the outcome with the reasons,"
            " and the command as it arrived (`mentorflow deadletters retry` sends it again)."
        ),
        schema=ParkedLaunchCommand,
    )
    results = router.publisher(
        config.results_subject, title="cohort launch outcomes", schema=LaunchCommandOutcome
    )

    @router.subscriber(
        config.launch_subject,
        stream=commands,
        durable=config.durable,
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        config=api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT, ack_wait=120, max_deliver=config.max_deliver + 1
        ),
        ack_policy=AckPolicy.MANUAL,
        title="launch a cohort",
        description="A cohort spec as JSON (the contract's fields); launched once per cohort id.",
    )
    async def launch(message: NatsMessage) -> None:
        delivery = int(message.raw_message.metadata.num_delivered)
        try:
            spec = parse_cohort_spec(message.body, "json")
        except CohortSpecInvalid as error:
            outcome = LaunchCommandOutcome(status="rejected", problems=error.problems)
            await parked.publish(
                ParkedLaunchCommand(outcome=outcome, command=parked_command(message)),
                headers={"Mentorflow-Error": "invalid cohort spec"},
            )
            count_command_dead_letter(LAUNCH_COMMAND, "rejected")
            await _answer(message, broker_publish=results.publish, outcome=outcome)
            await message.ack()
            log.info("launch command rejected", problems=len(error.problems))
            return
        try:
            with originating(command_origin(message)):
                result = await launcher(spec)
        except Exception as error:
            if delivery < config.max_deliver:
                delay = config.backoff[min(delivery, len(config.backoff)) - 1]
                log.warning(
                    "launch command failed",
                    cohort_id=spec.cohort_id,
                    error_type=type(error).__name__,
                    delivery=delivery,
                    retry_in=delay,
                )
                await message.nack(delay=delay)
                return
            outcome = LaunchCommandOutcome(
                status="failed", cohort_id=spec.cohort_id, problems=[type(error).__name__]
            )
            await parked.publish(
                ParkedLaunchCommand(outcome=outcome, command=parked_command(message)),
                headers={"Mentorflow-Error": type(error).__name__},
            )
            count_command_dead_letter(LAUNCH_COMMAND, "failed")
            await _answer(message, broker_publish=results.publish, outcome=outcome)
            await message.reject()  # JetStream TERM: never delivered again
            return
        outcome = LaunchCommandOutcome(
            status="already_launched" if result.already_launched else "launched",
            cohort_id=spec.cohort_id,
            pairs=len(result.outcome.pairs),
            unmatched=list(result.outcome.unmatched),
        )
        await _answer(message, broker_publish=results.publish, outcome=outcome)
        await message.ack()
        log.info("launch command handled", cohort_id=spec.cohort_id, status=outcome.status)

    return router


def command_origin(message: NatsMessage) -> Origin:
    """The command's message id as correlation and causation id of what it starts: the
    sender's ``Nats-Msg-Id`` when set, else ``nats:{stream}:{sequence}`` (unique per stream,
    the same on every redelivery)."""
    msg_id = (message.headers or {}).get("Nats-Msg-Id")
    if msg_id and _MESSAGE_ID.fullmatch(msg_id):
        return Origin(correlation_id=msg_id)
    metadata = message.raw_message.metadata
    return Origin(correlation_id=f"nats:{metadata.stream}:{metadata.sequence.stream}")


async def _answer(
    message: NatsMessage,
    *,
    broker_publish: Callable[..., Awaitable[object]],
    outcome: LaunchCommandOutcome,
) -> None:
    await broker_publish(outcome)
    reply_to = (message.headers or {}).get(REPLY_TO_HEADER)
    if reply_to and _REPLY_SUBJECT.fullmatch(reply_to):
        await broker_publish(outcome, subject=reply_to)
    elif reply_to:
        # A sender may not steer our publisher onto another subject (mentorflow.events.…).
        log.warning("reply subject refused", reply_to=reply_to[:120])


def include_commands(
    broker: NatsBroker, launcher: Launcher, config: CommandsConfig | None = None
) -> None:
    """Add the command consumer to ``broker`` (before it starts)."""
    broker.include_router(command_router(launcher, config))
