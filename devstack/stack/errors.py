"""Errors of the local stack: one base class, typed subclasses that carry their data.

The command line maps them to exit codes in one place (``mentorflow.cli.app``):
`StackConfigInvalid` is bad input (exit code 2), every other `StackError` a failure (1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

LOG_TAIL_LINES = 20


def read_log_tail(log_path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a server log, or "" when there is none to read."""
    if log_path is None:
        return ""
    try:
        with log_path.open("rb") as log_file:
            # Server logs can grow large; the tail is all an error message needs.
            log_file.seek(0, 2)
            size = log_file.tell()
            log_file.seek(max(0, size - 64 * 1024))
            text = log_file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class StackError(Exception):
    """Base of every error raised by `devstack.stack`."""


class StackConfigInvalid(StackError):
    """The configured addresses cannot be used; lists every problem at once.

    Attributes:
        problems: One human-readable sentence per problem.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "invalid local stack configuration:\n"
            + "\n".join(f"  - {problem}" for problem in self.problems)
        )


class BinaryNotFound(StackError):
    """A server executable is not installed.

    Attributes:
        binary: The executable's name.
        searched: Where it was looked for.
    """

    def __init__(self, binary: str, searched: Sequence[str]) -> None:
        self.binary = binary
        self.searched = tuple(searched)
        super().__init__(
            f"{binary} not found (looked in {', '.join(self.searched) or 'PATH'}); "
            "reinstall the project's dependencies with `uv sync`"
        )


class ServerStartFailed(StackError):
    """A server could not be started or did not become ready in time.

    Attributes:
        server: Name of the server (``temporal``, ``nats``, ``postgres``).
        log_path: The server's log file, if it got as far as having one.
        detail: What went wrong.
        log_tail: The last lines of the log, quoted in the message.
    """

    def __init__(self, server: str, log_path: Path | None, detail: str) -> None:
        self.server = server
        self.log_path = log_path
        self.detail = detail
        self.log_tail = read_log_tail(log_path)
        message = f"{server} failed to start: {detail}"
        if self.log_tail:
            message += f"\nlast lines of {log_path}:\n{self.log_tail}"
        super().__init__(message)


class AddressInUse(StackError):
    """Something answers at a server's address, but it is not a working server of that kind.

    Attributes:
        server: Name of the expected server.
        address: The configured address.
        detail: Why the readiness check failed.
    """

    def __init__(self, server: str, address: str, detail: str) -> None:
        self.server = server
        self.address = address
        self.detail = detail
        super().__init__(
            f"{address} is in use, but it does not answer as a {server} server: {detail}"
        )


class ServerStopFailed(StackError):
    """A server that the stack started did not stop.

    Attributes:
        server: Name of the server.
        pid: Its process id.
        detail: What went wrong.
    """

    def __init__(self, server: str, pid: int, detail: str) -> None:
        self.server = server
        self.pid = pid
        self.detail = detail
        super().__init__(f"could not stop {server} (pid {pid}): {detail}")


class ServerSetupFailed(StackError):
    """A server is up, but preparing it for mentorflow failed (search attributes, database).

    Attributes:
        server: Name of the server.
        detail: What went wrong.
    """

    def __init__(self, server: str, detail: str) -> None:
        self.server = server
        self.detail = detail
        super().__init__(f"could not prepare {server} for mentorflow: {detail}")


class SearchAttributeConflict(ServerSetupFailed):
    """A custom search attribute is registered with another type than the contract's.

    Attributes:
        name: The search attribute.
        expected: The contract's type.
        actual: The type registered on the server.
    """

    def __init__(self, name: str, expected: str, actual: str) -> None:
        self.name = name
        self.expected = expected
        self.actual = actual
        super().__init__(
            "temporal",
            f"search attribute {name} is registered as {actual}, the contract needs {expected}",
        )


class StackLocked(StackError):
    """Another ``mentorflow stack`` command holds the state directory.

    Attributes:
        lock_path: The lock file.
    """

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        super().__init__(f"another `mentorflow stack` command is running (lock {lock_path})")


class StackStateCorrupt(StackError):
    """The record of started servers cannot be read.

    Attributes:
        path: The record file (``stack.json``).
        detail: Why it could not be read.
    """

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path} is unreadable ({detail}); stop its servers by hand and delete it")
