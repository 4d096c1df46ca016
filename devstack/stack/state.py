"""Files the stack keeps in its state directory: ``stack.json``, ``stack.env``, ``stack.lock``.

``stack.json`` is the memory of ``up``: the servers it started, so that ``down`` stops those
and nothing else, and ``status`` can tell a crash from a server that was never started.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from devstack.stack.errors import StackLocked, StackStateCorrupt
from devstack.stack.processes import ProcessRecord

RECORD_VERSION = 1
_LOCK_POLL_INTERVAL = 0.1


def load_records(path: Path) -> dict[str, ProcessRecord]:
    """The started servers by name; empty when ``up`` never started any.

    Raises:
        StackStateCorrupt: When the file exists but is not a record written by `save_records`.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text)
        return {name: ProcessRecord.from_json(entry) for name, entry in document["servers"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StackStateCorrupt(path, repr(error)) from error


def save_records(path: Path, records: Mapping[str, ProcessRecord]) -> None:
    """Replace ``stack.json`` atomically, so a crash mid-write never loses the record."""
    document = {
        "version": RECORD_VERSION,
        "servers": {name: record.to_json() for name, record in sorted(records.items())},
    }
    _write_atomically(path, json.dumps(document, indent=2) + "\n", mode=0o644)


def write_env_file(path: Path, variables: Mapping[str, str], comments: list[str]) -> None:
    """Write ``KEY='value'`` lines that both pydantic-settings and a POSIX shell can read.

    Single quotes keep every character literal for both readers; a quote inside a value
    (only possible in a URL's password) is percent-encoded, which URLs treat the same.
    The file may hold a database password, so only its owner can read it.
    """
    lines = [f"# {comment}" for comment in comments]
    lines += [f"{key}='{value.replace(chr(39), '%27')}'" for key, value in variables.items()]
    _write_atomically(path, "\n".join(lines) + "\n", mode=0o600)


def _write_atomically(path: Path, text: str, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


@contextlib.asynccontextmanager
async def state_lock(path: Path, timeout: float) -> AsyncIterator[None]:
    """Hold an exclusive lock on the state directory, so two ``up``s never race.

    The lock is an ``flock`` on ``path``: the kernel drops it when the holder dies, so a
    crashed command never leaves the directory locked.

    Raises:
        StackLocked: When another holder keeps it longer than ``timeout`` seconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StackLocked(path) from None
                await asyncio.sleep(_LOCK_POLL_INTERVAL)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
