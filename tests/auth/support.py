"""A stand-in OpenID Connect issuer: a test RSA key, tokens minted with it (good and forged),
and its discovery document and JWKS served over real HTTP on a free loopback port."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import assert_eventually

AUDIENCE = "mentorflow-api"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeIssuer:
    """Keys the issuer publishes (``published``) and signs with, and how often its keys were
    fetched."""

    url: str = ""
    keys: dict[str, RSAKey] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    key_fetches: int = 0

    def add_key(self, key_id: str, *, publish: bool = True) -> RSAKey:
        """A new RSA key ``key_id``, published in the JWKS unless ``publish`` is false."""
        key = RSAKey.generate_key(2048, parameters={"kid": key_id}, private=True)
        self.keys[key_id] = key
        if publish:
            self.published.append(key_id)
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid access-token claims for the API, valid for five minutes from now."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "subject-1",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key_id: str = "k1", algorithm: str = "RS256", **claims: Any) -> str:
        """A token signed with key ``key_id`` (claims as `claims`, overridable)."""
        header = {"alg": algorithm, "kid": key_id}
        return jwt.encode(header, self.claims(**claims), self.keys[key_id], algorithms=[algorithm])

    def unsigned_token(self, **claims: Any) -> str:
        """A token with ``alg: none`` and an empty signature."""
        header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{header}.{_b64(json.dumps(self.claims(**claims)).encode())}."

    def hmac_confused_token(self, key_id: str = "k1", **claims: Any) -> str:
        """HS256 with the published public key's PEM as the secret (the confusion attack)."""
        secret = self.keys[key_id].as_pem(private=False)
        header = _b64(json.dumps({"alg": "HS256", "kid": key_id, "typ": "JWT"}).encode())
        payload = _b64(json.dumps(self.claims(**claims)).encode())
        signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def app(self) -> Starlette:
        """The discovery document and the JWKS."""

        async def discovery(_request: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": self.url,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                }
            )

        async def jwks(_request: Request) -> JSONResponse:
            self.key_fetches += 1
            published = [self.keys[key_id].as_dict(private=False) for key_id in self.published]
            return JSONResponse({"keys": published})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
            ]
        )


@asynccontextmanager
async def serving_issuer(issuer: FakeIssuer) -> AsyncIterator[FakeIssuer]:
    """``issuer`` served by uvicorn on a free loopback port, in the test's event loop."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    issuer.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(issuer.app(), log_config=None, access_log=False, lifespan="off")
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(_started(server), timeout=10, message="the issuer did not start")
        yield issuer
    finally:
        server.should_exit = True
        await serving
        listener.close()


def _started(server: uvicorn.Server) -> Any:
    async def probe() -> bool:
        return server.started

    return probe
