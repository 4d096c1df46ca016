"""Who may use the codec endpoint: an ops bearer token, or a browser session started with one.

Authentication reads headers only (``Authorization``, the session cookie, ``Origin``), so the
codec routes resolve it before they read a body (see `mentorflow.api.codec`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from temporalio.converter import PayloadCodec

from mentorflow.api.auth import authenticate
from mentorflow.api.codec_sessions import CodecSessionStore
from mentorflow.api.context import Services
from mentorflow.api.errors import Forbidden, ServiceUnavailable, Unauthenticated
from mentorflow.api.tokens import (
    ExpiredToken,
    Principal,
    Role,
    TokensUnavailable,
    UnknownToken,
)
from mentorflow.converter import MentorflowPayloadCodec
from mentorflow.keyring import KeyRingInvalid
from mentorflow.settings import Settings

log = structlog.get_logger(__name__)

CODEC_PATH = "/codec"
"""Where the API serves the payload codec; the local stack points its Temporal UI here."""
TEMPORAL_UI_PORT_OFFSET = 1000
"""The local stack's Temporal UI listens on the Temporal gRPC port + this."""
PREFIX = CODEC_PATH
SESSION_COOKIE = "mentorflow_codec_session"
MAX_DECODED_BYTES = 64 * 1024 * 1024
"""What the payloads of one ``/codec/decode`` request may decode to, in all."""


def codec_cors_origins(settings: Settings) -> list[str]:
    """Origins allowed to call the codec from a browser.

    ``MENTORFLOW_CODEC_CORS_ORIGINS`` when set; otherwise the local stack's Temporal UI, which
    listens on the Temporal gRPC port + 1000 of the Temporal host (as 127.0.0.1 and localhost).
    """
    if settings.codec_cors_origins is not None:
        origins = (origin.strip().rstrip("/") for origin in settings.codec_cors_origins.split(","))
        return [origin for origin in origins if origin]
    host, _, port = settings.temporal_address.rpartition(":")
    if not port.isdigit():
        return []
    ui_port = int(port) + TEMPORAL_UI_PORT_OFFSET
    hosts = dict.fromkeys((host or "localhost", "127.0.0.1", "localhost"))
    return [f"http://{host}:{ui_port}" for host in hosts]


@dataclass
class CodecServer:
    """The codec, built on first use from the payload keys, and the origins of the UI."""

    settings: Settings
    origins: tuple[str, ...]
    max_decoded_bytes: int = MAX_DECODED_BYTES
    _codec: PayloadCodec | None = field(default=None, repr=False)

    @property
    def codec(self) -> PayloadCodec:
        """The payload codec of the workers.

        Raises:
            ServiceUnavailable: The payload keys are not configured.
        """
        if self._codec is None:
            try:
                keyring = self.settings.payload_keyring()
            except KeyRingInvalid as invalid:
                raise ServiceUnavailable(
                    "the payload keys are not configured", invalid.problems
                ) from invalid
            self._codec = MentorflowPayloadCodec(keyring)
        return self._codec


def _codec_server(request: Request) -> CodecServer:
    server = request.app.state.codec_server
    assert isinstance(server, CodecServer)
    return server


Codec = Annotated[CodecServer, Depends(_codec_server)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CodecBearer",
    description="An ops token from `mentorflow tokens add --role ops`.",
)
_session = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="CodecSession",
    description="The browser session started by `POST /codec/session`.",
)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SessionCookie = Annotated[str | None, Depends(_session)]


def ops_principal(services: Services, token: str) -> Principal:
    """The principal of an ops token.

    Raises:
        Unauthenticated: The tokens file does not accept the token (unknown, expired, or the
            file is invalid).
        Forbidden: Not an ops token.
    """
    principal = authenticate(services.tokens, token)
    if principal.role is not Role.OPS:
        raise Forbidden("the payload codec needs an ops token")
    return principal


def own_origin(request: Request) -> str:
    """The origin the browser reached the API at (behind a trusted proxy: the proxy's)."""
    return f"{request.url.scheme}://{request.url.netloc}"


async def _session_operator(
    request: Request, services: Services, server: CodecServer, session_id: str
) -> Principal:
    sessions = CodecSessionStore(services.pool)
    session = await sessions.find(session_id)
    if session is None:
        raise Unauthenticated("the codec session has ended: sign in again at /codec/session")
    try:
        principal = services.tokens.authenticate_digest(session.token_sha256)
    except TokensUnavailable:
        # Not the token's fault: the session outlives a tokens file being fixed.
        raise Unauthenticated("no token is accepted now: the tokens file is invalid") from None
    except (UnknownToken, ExpiredToken):
        principal = None
    if principal is None or principal.role is not Role.OPS:
        await sessions.end(session_id)
        log.info("codec session ended: its token was removed, revoked or expired")
        raise Unauthenticated("the codec session's token was removed, revoked or has expired")
    origin = request.headers.get("origin")
    # SameSite=Lax keeps other sites out; this keeps out other origins of this site, and
    # other UIs than the one the session was started for.
    if (
        origin is not None
        and origin != own_origin(request)
        and (origin != session.origin or origin not in server.origins)
    ):
        raise Forbidden(f"the codec session is not valid from {origin}")
    await sessions.touch(session_id)
    return principal


async def codec_operator(
    request: Request,
    services: Services,
    server: Codec,
    credentials: Bearer,
    session_id: SessionCookie,
) -> Principal:
    """The operator, from the bearer token or the session cookie (headers only, no body).

    Raises:
        Unauthenticated: Neither, a token the tokens file does not know, or a session that
            has ended (expired, idle, signed out, or its token removed).
        Forbidden: Not an ops token, or a session used from an origin not its own.
    """
    if credentials is not None and credentials.credentials:
        return ops_principal(services, credentials.credentials)
    if not session_id:
        raise Unauthenticated(
            "an ops token is required: Authorization: Bearer, or a session from POST /codec/session"
        )
    return await _session_operator(request, services, server, session_id)


Operator = Annotated[Principal, Depends(codec_operator)]
