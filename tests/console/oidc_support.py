"""The local development provider (`oidc-provider-mock`) in a thread on a free port, and the
steps of a sign-in through it without a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import httpx
from oidc_provider_mock import run_server_in_thread  # type: ignore[import-untyped]
from pydantic import SecretStr

from mentorflow.settings import OidcSettings

CLIENT_ID = "mentorflow-console"
ROLE_MAPPING = {
    "mentoring-hr": "hr_admin",
    "mentoring-mentor": "mentor",
    "mentoring-mentee": "mentee",
}


@dataclass(frozen=True)
class MockProvider:
    """The provider's issuer URL."""

    issuer: str

    def settings(self) -> dict[str, Any]:
        """The API settings that sign the console in through this provider."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr("local-secret"),
            "oidc_person_claim": "employee_id",
            "oidc": OidcSettings(role_mapping=ROLE_MAPPING),
        }

    async def set_user(self, subject: str, **claims: Any) -> None:
        """Give the provider's user ``subject`` these claims (its REST API for tests)."""
        async with httpx.AsyncClient() as http:
            response = await http.put(f"{self.issuer}/users/{subject}", json=claims)
        assert response.status_code == 204, response.text


@contextmanager
def mock_provider() -> Iterator[MockProvider]:
    """oidc-provider-mock on a free loopback port (plain HTTP: allowed for its authlib)."""
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        with run_server_in_thread(port=0, require_nonce=True) as server:
            yield MockProvider(f"http://localhost:{server.server_port}")
    finally:
        if previous is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The cookies a response sets (name → value), read from its headers as a browser would."""
    jar: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        for name, morsel in SimpleCookie(header).items():
            jar[name] = morsel.value
    return jar


async def authorize(authorization_url: str, subject: str) -> str:
    """Sign in at the provider as ``subject``; the callback URL it sends the browser to."""
    response = await provider_form(authorization_url, {"sub": subject})
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def provider_form(authorization_url: str, form: dict[str, str]) -> httpx.Response:
    """The provider's answer to its authorization form, sent with ``form``."""
    async with httpx.AsyncClient() as http:
        return await http.post(authorization_url, data=form, follow_redirects=False)


def path_of(url: str) -> str:
    """The path and query of ``url``, for a client of the app under test."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
