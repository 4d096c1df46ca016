"""The JetStream stream of events: its configuration, and setting it up idempotently.

File storage, limits retention (consumers come and go; the stream is the bus's history for
``max_age``) and a duplicate window for ``Nats-Msg-Id``. Every process that needs the stream
calls `ensure_stream` before use; FastStream endpoints reference it with `events_jstream`,
which never declares it (FastStream's own declaration would fight over settings it does not
know about).
"""

from __future__ import annotations

import structlog
from faststream.nats import JStream, NatsBroker
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from bus.config import BusConfig
from bus.errors import StreamConfigConflict

log = structlog.get_logger(__name__)


def stream_config(config: BusConfig) -> StreamConfig:
    """The events stream as ``config`` describes it."""
    return StreamConfig(
        name=config.stream_name,
        description="mentorflow domain events, relayed from the PostgreSQL event store",
        subjects=config.subjects,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        storage=StorageType.FILE,
        max_age=config.max_age.total_seconds(),
        duplicate_window=config.duplicate_window.total_seconds(),
    )


def events_jstream(config: BusConfig) -> JStream:
    """The stream for FastStream publishers and subscribers (``stream=``), never declared.

    Call `ensure_stream` before the broker starts its subscribers.
    """
    return JStream(
        config.stream_name,
        subjects=config.subjects,
        storage=StorageType.FILE,
        max_age=config.max_age.total_seconds(),
        duplicate_window=config.duplicate_window.total_seconds(),
        declare=False,
    )


def _differences(actual: StreamConfig, wanted: StreamConfig) -> dict[str, tuple[str, str]]:
    changed: dict[str, tuple[str, str]] = {}
    if not set(wanted.subjects or ()).issubset(actual.subjects or ()):
        changed["subjects"] = (str(actual.subjects), str(wanted.subjects))
    # The server echoes durations in nanoseconds, nats-py turns them back into float seconds:
    # compare with a tolerance well below any setting a person would make.
    for setting in ("duplicate_window", "max_age"):
        have, want = getattr(actual, setting) or 0.0, getattr(wanted, setting) or 0.0
        if abs(have - want) > 1e-3:
            changed[setting] = (str(have), str(want))
    if actual.retention != wanted.retention:
        changed["retention"] = (str(actual.retention), str(wanted.retention))
    return changed


async def ensure_stream(broker: NatsBroker, config: BusConfig) -> StreamInfo:
    """Create the events stream, or bring an existing one to ``config``.

    Subjects, duplicate window, max age and retention are updated in place; the storage type
    cannot be, and a mismatch raises instead of silently running on memory storage. Subjects
    the stream has beyond ours are kept.

    Args:
        broker: A connected broker.
        config: The stream wanted.

    Returns:
        The stream's information after the change.

    Raises:
        StreamConfigConflict: The stream exists with another storage type.
        nats.errors.Error: NATS failed or is unreachable (callers retry).
    """
    jetstream = broker.connection.jetstream()
    wanted = stream_config(config)
    try:
        info = await jetstream.stream_info(config.stream_name)
    except NotFoundError:
        info = await jetstream.add_stream(wanted)
        log.info("stream_created", stream=config.stream_name, subjects=wanted.subjects)
        return info
    actual = info.config
    if actual.storage != wanted.storage:
        raise StreamConfigConflict(
            config.stream_name, "storage", str(actual.storage), str(wanted.storage)
        )
    changed = _differences(actual, wanted)
    if not changed:
        return info
    subjects = sorted({*(actual.subjects or ()), *(wanted.subjects or ())})
    updated = await jetstream.update_stream(
        actual.evolve(
            subjects=subjects,
            duplicate_window=wanted.duplicate_window,
            max_age=wanted.max_age,
            retention=wanted.retention,
        )
    )
    log.info("stream_updated", stream=config.stream_name, changed=sorted(changed))
    return updated
