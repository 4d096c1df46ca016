"""The development OpenID Connect provider (``oidc-provider-mock``), bound to loopback.

The console's "Sign in with SSO" goes through it, offline. Its sign-in page takes any subject;
three are predefined with the claims mentorflow maps (``roles`` with role names, the
participant id in ``employee_id``, matching the example cohort): ``hr`` (HR), ``p-001`` (a
mentor) and ``p-007`` (a mentee). Other users get claims through its REST API:
``curl -X PUT <issuer>/users/<sub> -H 'content-type: application/json' -d '{"roles":
["mentee"], "employee_id": "p-008"}'``. It accepts any client id and secret, and keeps
nothing across restarts (its signing key is new each time; the API refetches it).
"""

from __future__ import annotations

import json
import sys

import httpx

from devstack.stack.endpoints import Endpoint
from devstack.stack.server import LocalServer

LOCAL_USERS = (
    {"sub": "hr", "name": "HR Admin", "email": "hr@example.org", "roles": ["hr_admin"]},
    {"sub": "p-001", "name": "Ada Obi", "roles": ["mentor"], "employee_id": "p-001"},
    {"sub": "p-007", "name": "Mentee p-007", "roles": ["mentee"], "employee_id": "p-007"},
)
"""Users on the provider's sign-in page, one click each."""


class OidcServer(LocalServer):
    """``python -m oidc_provider_mock`` on the issuer's port."""

    name = "oidc"

    @property
    def endpoint(self) -> Endpoint:
        """The provider's HTTP endpoint."""
        return self.endpoints.oidc

    @property
    def address(self) -> str:
        """The issuer URL, as ``MENTORFLOW_OIDC_ISSUER`` gives it."""
        return self.config.oidc_issuer

    def command(self) -> list[str]:
        """The provider as a module of this environment's interpreter."""
        command = [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            self.endpoint.bind_host,
            "--port",
            str(self.endpoint.port),
        ]
        for user in LOCAL_USERS:
            command += ["--user-claims", json.dumps(user)]
        return command

    async def probe(self, timeout: float) -> None:
        """Its discovery document names the issuer clients use: it serves OpenID Connect."""
        issuer = self.config.oidc_issuer.rstrip("/")
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(f"{issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        if response.json().get("issuer") != issuer:
            raise RuntimeError(f"the provider at {issuer} names another issuer")
