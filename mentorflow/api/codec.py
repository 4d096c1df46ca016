"""The remote payload codec for the Temporal UI and CLI: ``POST /codec/encode`` and ``/decode``.

Temporal stores only what the workers' codec produced (`mentorflow.converter`): encrypted
payloads. This endpoint speaks Temporal's remote codec protocol, so that an operator with an
``ops`` token sees decoded payloads in the Temporal UI, or with ``temporal workflow show
--codec-endpoint URL/codec --codec-auth "Bearer TOKEN"``, while the server keeps ciphertext:

    POST /codec/decode   X-Namespace: default
    {"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}]}

answers the same shape with the payloads decrypted and decompressed (``/encode`` the reverse).

Authentication: ``Authorization: Bearer <ops token>``, or a browser session, because the UI
does not send bearer tokens over plain HTTP. ``POST /codec/session`` with the ops token sets an
HttpOnly, SameSite=Lax cookie scoped to ``/codec`` (``GET /codec/session`` is a page that
does it), and the UI, told to include cross-origin credentials, sends it along. The UI and the
API are different origins of the same site (same host, other port), so the browser asks first
(CORS preflight): only the origins of ``MENTORFLOW_CODEC_CORS_ORIGINS`` (default: the local
Temporal UI) are answered, and a session cookie from another origin is refused.

Payloads are never logged; errors name key ids and positions, never content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from mentorflow.api.context import Services
from mentorflow.api.errors import (
    ERROR_RESPONSES,
    ApiError,
    Forbidden,
    InvalidInput,
    ServiceUnavailable,
    Unauthenticated,
)
from mentorflow.api.tokens import Principal, Role
from mentorflow.converter import MentorflowPayloadCodec
from mentorflow.keyring import KeyRingInvalid
from mentorflow.payload_codec import PayloadCodecError
from mentorflow.settings import Settings
from mentorflow.stack.config import CODEC_PATH, TEMPORAL_UI_PORT_OFFSET

log = structlog.get_logger(__name__)

PREFIX = CODEC_PATH
SESSION_COOKIE = "mentorflow_codec_session"
SESSION_LIFETIME = timedelta(hours=8)

router = APIRouter(prefix=PREFIX, tags=["payload codec"], responses=ERROR_RESPONSES)


class PayloadUndecodable(ApiError):
    """A payload names a key the ring does not hold, or does not authenticate."""

    status_code = 422
    code = "payload_undecodable"


class CodecPayload(BaseModel):
    """A Temporal ``Payload`` in protobuf JSON: bytes as base64."""

    model_config = ConfigDict(extra="ignore")

    metadata: dict[str, str] = Field(
        default_factory=dict, description="Metadata values, base64 (e.g. `encoding`)"
    )
    data: str = Field(default="", description="The payload's bytes, base64")


class CodecPayloads(BaseModel):
    """A Temporal ``Payloads`` message in protobuf JSON."""

    payloads: list[CodecPayload] = Field(default_factory=list)


class CodecSession(BaseModel):
    """A codec session of the browser."""

    expires_at: datetime = Field(description="When the session cookie expires")


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
    origins: frozenset[str]
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
    description="The browser session set by `POST /codec/session`.",
)


def _ops_principal(services: Services, token: str) -> Principal:
    principal = services.tokens.lookup(token)
    if principal is None:
        raise Unauthenticated("the token is not known")
    if principal.role is not Role.OPS:
        raise Forbidden("the payload codec needs an ops token")
    return principal


async def codec_operator(
    request: Request,
    services: Services,
    server: Codec,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_session)],
) -> Principal:
    """The operator, from the bearer token or the session cookie.

    Raises:
        Unauthenticated: Neither, or a token the tokens file does not know.
        Forbidden: Not an ops token, or a session used from an origin not allowed.
    """
    if credentials is not None and credentials.credentials:
        return _ops_principal(services, credentials.credentials)
    if not session:
        raise Unauthenticated(
            "an ops token is required: Authorization: Bearer, or a session from POST /codec/session"
        )
    principal = _ops_principal(services, session)
    origin = request.headers.get("origin")
    own_origin = f"{request.url.scheme}://{request.url.netloc}"
    # SameSite=Lax keeps other sites out; this keeps out other origins of this site.
    if origin is not None and origin != own_origin and origin not in server.origins:
        raise Forbidden(f"the codec session is not valid from {origin}")
    return principal


Operator = Annotated[Principal, Depends(codec_operator)]
Namespace = Annotated[
    str | None, Header(description="The Temporal namespace (sent by the UI and the CLI)")
]


def _check_namespace(settings: Settings, namespace: str | None) -> None:
    if namespace is not None and namespace != settings.temporal_namespace:
        raise InvalidInput(
            f"this codec serves the namespace {settings.temporal_namespace!r} only",
            [f"X-Namespace: {namespace!r} is not {settings.temporal_namespace!r}"],
        )


def _from_base64(text: str) -> bytes:
    # Protobuf JSON accepts the standard and the URL-safe alphabet, padded or not.
    standard = text.translate(str.maketrans("-_", "+/"))
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def _to_protobuf(body: CodecPayloads) -> list[Payload]:
    payloads: list[Payload] = []
    problems: list[str] = []
    for index, item in enumerate(body.payloads):
        try:
            metadata = {key: _from_base64(value) for key, value in item.metadata.items()}
        except (binascii.Error, ValueError):
            problems.append(f"payloads.{index}.metadata: not base64")
            continue
        try:
            payloads.append(Payload(metadata=metadata, data=_from_base64(item.data)))
        except (binascii.Error, ValueError):
            problems.append(f"payloads.{index}.data: not base64")
    if problems:
        raise InvalidInput("the payloads are not Temporal payloads in protobuf JSON", problems)
    return payloads


def _to_json(payloads: Sequence[Payload]) -> CodecPayloads:
    return CodecPayloads(
        payloads=[
            CodecPayload(
                metadata={
                    key: base64.b64encode(value).decode() for key, value in p.metadata.items()
                },
                data=base64.b64encode(p.data).decode(),
            )
            for p in payloads
        ]
    )


@router.post("/encode", summary="Encode payloads (compress, encrypt)")
async def encode_payloads(
    body: CodecPayloads, server: Codec, _operator: Operator, x_namespace: Namespace = None
) -> CodecPayloads:
    """Encode payloads as the workers do: large ones compressed, all encrypted."""
    _check_namespace(server.settings, x_namespace)
    encoded = await server.codec.encode(_to_protobuf(body))
    log.debug("payloads encoded", count=len(encoded))
    return _to_json(encoded)


@router.post("/decode", summary="Decode payloads (decrypt, decompress)")
async def decode_payloads(
    body: CodecPayloads, server: Codec, _operator: Operator, x_namespace: Namespace = None
) -> CodecPayloads:
    """Decode payloads of the Temporal history; payloads not encoded pass through.

    A payload under a key the ring no longer holds, or one that does not authenticate, fails
    the request with `payload_undecodable`, naming the key id.
    """
    _check_namespace(server.settings, x_namespace)
    try:
        decoded = await server.codec.decode(_to_protobuf(body))
    except PayloadCodecError as error:
        raise PayloadUndecodable(str(error)) from None
    log.debug("payloads decoded", count=len(decoded))
    return _to_json(decoded)


_SIGN_IN_SCRIPT = """
document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("token").value.trim();
  const headers = {Authorization: `Bearer ${token}`};
  const answer = await fetch("session", {method: "POST", headers});
  const body = await answer.json();
  document.getElementById("outcome").textContent = answer.ok
    ? `Signed in until ${body.expires_at}. Open the Temporal UI.`
    : `Refused: ${body.error.message}`;
});
"""
_SIGN_IN_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mentorflow payload codec</title></head>
<body>
<h1>mentorflow payload codec</h1>
<p>Paste an ops token (<code>mentorflow tokens add --role ops</code>). This browser keeps it in
an HttpOnly cookie, sent only to the codec, for {SESSION_LIFETIME.seconds // 3600} hours. In the
Temporal UI's codec server settings, tick <em>Include cross-origin credentials</em>.</p>
<form id="sign-in"><input id="token" type="password" autocomplete="off" size="50"
aria-label="ops token"> <button>Sign in</button></form>
<p id="outcome" role="status"></p>
<script>{_SIGN_IN_SCRIPT}</script>
</body></html>
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SIGN_IN_SCRIPT.encode()).digest()).decode()
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
}


@router.get("/session", summary="Sign-in page for the codec session", response_class=HTMLResponse)
async def session_page() -> HTMLResponse:
    """A page where an operator pastes an ops token to start a browser session."""
    return HTMLResponse(_SIGN_IN_PAGE, headers=_PAGE_HEADERS)


@router.post("/session", summary="Start a browser session of the codec")
async def start_session(
    request: Request,
    response: Response,
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CodecSession:
    """Set the session cookie for the ops token of the ``Authorization`` header."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("an ops token is required: Authorization: Bearer")
    _ops_principal(services, credentials.credentials)
    response.set_cookie(
        SESSION_COOKIE,
        credentials.credentials,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    log.info("codec session started")
    return CodecSession(expires_at=datetime.now(UTC) + SESSION_LIFETIME)


@router.delete("/session", status_code=204, summary="End the browser session of the codec")
async def end_session(response: Response) -> None:
    """Clear the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="lax")


class CodecCorsMiddleware:
    """CORS for the codec routes only; the rest of the API is not for browsers."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route codec requests through CORS."""
        if scope["type"] == "http" and str(scope["path"]).startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install_codec_server(app: FastAPI, settings: Settings) -> None:
    """Add the codec routes and their CORS layer (outermost, so every answer carries it)."""
    origins = codec_cors_origins(settings)
    app.state.codec_server = CodecServer(settings, frozenset(origins))
    app.include_router(router)
    app.add_middleware(CodecCorsMiddleware, origins=origins)
