"""Container health check for mentorflow's services (standard library only).

Copied into the image as /opt/mentorflow/healthcheck.py and used by docker-compose.yml:

    python healthcheck.py http URL           exit 0 if GET URL answers 2xx within 3 seconds
    python healthcheck.py connected PORT...  exit 0 if the container holds an established TCP
                                             connection to each remote PORT (7233 Temporal,
                                             4222 NATS): a worker that lost its server is unhealthy

Exit 1 means unhealthy, exit 2 bad usage.
"""

from __future__ import annotations

import http.client
import sys
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
TCP_ESTABLISHED = "01"
HTTP_TIMEOUT_SECONDS = 3.0


def established_remote_ports(table_lines: Iterable[str]) -> set[int]:
    """Remote ports of the ESTABLISHED sockets in /proc/net/tcp{,6} lines (header skipped)."""
    ports: set[int] = set()
    for line in table_lines:
        fields = line.split()
        if len(fields) < 4 or not fields[0].endswith(":"):
            continue
        remote_address, state = fields[2], fields[3]
        if state != TCP_ESTABLISHED:
            continue
        ports.add(int(remote_address.rpartition(":")[2], 16))
    return ports


def connected(ports: Sequence[int], tables: Sequence[Path] = TCP_TABLES) -> bool:
    """Whether every one of ``ports`` has an established connection in the container."""
    lines: list[str] = []
    for table in tables:
        if table.exists():
            lines.extend(table.read_text().splitlines())
    return set(ports) <= established_remote_ports(lines)


def http_ok(url: str) -> bool:
    """Whether GET ``url`` (http or https only) answers with a 2xx status."""
    if not url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            status: int = response.status
    except (OSError, ValueError, http.client.HTTPException):
        return False
    return 200 <= status < 300


def main(argv: Sequence[str]) -> int:
    match list(argv):
        case ["http", url]:
            return 0 if http_ok(url) else 1
        case ["connected", *ports] if ports and all(port.isdigit() for port in ports):
            return 0 if connected([int(port) for port in ports]) else 1
        case _:
            print(__doc__, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
