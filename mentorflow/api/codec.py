"""The remote payload codec for the Temporal UI and CLI: ``POST /codec/encode`` and ``/decode``.

Temporal stores only what the workers' codec produced (`mentorflow.converter`): encrypted
payloads. This endpoint speaks Temporal's remote codec protocol, so that an operator with an
``ops`` token sees decoded payloads in the Temporal UI, or with ``temporal workflow show
--codec-endpoint URL/codec --codec-auth "Bearer TOKEN"``, while the server keeps ciphertext:

    POST /codec/decode   X-Namespace: default
    {"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}]}

answers the same shape with the payloads decrypted and decompressed (``/encode`` the reverse).

Authentication: ``Authorization: Bearer <ops token>``, or a browser session, because the UI
does not send bearer tokens over plain HTTP. ``POST /codec/session`` with the ops token starts
a session (`mentorflow.api.codec_sessions`: an opaque id in an HttpOnly, SameSite=Lax cookie
scoped to ``/codec``, only its hash on the server, ended by expiry, idleness, ``DELETE`` or the
token's removal); ``GET /codec/session`` is a page that does it. The UI, told to include
cross-origin credentials, sends the cookie along. The UI and the API are different origins of
the same site (same host, other port), so the browser asks first (CORS preflight): only the
origins of ``MENTORFLOW_CODEC_CORS_ORIGINS`` (default: the local Temporal UI) are answered, and
a session is refused from any origin but the one UI origin it was started for.

The caller is authenticated before the body is read: the routes take no body parameter
(FastAPI reads a declared body before it resolves dependencies) and parse it themselves, so an
unauthenticated request gets its 401 without the server reading up to 16 MiB of it.

Decoding is bounded: the data converter caps what one payload may decompress to, and a request
may decode to at most `MAX_DECODED_BYTES` in all. A payload that cannot be decoded (corrupt,
truncated, a zlib bomb, another key) is a 422 naming its position.

Payloads are never logged; errors name key ids and positions, never content.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Sequence
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, FastAPI, Header, Request
from google.protobuf.message import DecodeError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from mentorflow.api import codec_sign_in
from mentorflow.api.codec_auth import (
    MAX_DECODED_BYTES,
    PREFIX,
    SESSION_COOKIE,
    Codec,
    CodecServer,
    Operator,
    codec_cors_origins,
    codec_operator,
)
from mentorflow.api.errors import (
    ERROR_RESPONSES,
    ApiError,
    InvalidInput,
    LimitExceeded,
    validation_problems,
)
from mentorflow.payload_codec import PayloadCodecError
from mentorflow.settings import Settings

__all__ = [
    "MAX_DECODED_BYTES",
    "PREFIX",
    "SESSION_COOKIE",
    "CodecServer",
    "codec_cors_origins",
    "codec_operator",
    "install_codec_server",
    "router",
]

log = structlog.get_logger(__name__)

UNDECODABLE = (PayloadCodecError, zlib.error, binascii.Error, DecodeError)
"""What decoding a corrupt payload raises: the codec's own errors, and defensively the
libraries' (zlib, base64, protobuf) should one get past the codec's translation."""

router = APIRouter(prefix=PREFIX, tags=["payload codec"], responses=ERROR_RESPONSES)


class PayloadUndecodable(ApiError):
    """A payload names a key the ring does not hold, does not authenticate, or is corrupt."""

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


Namespace = Annotated[
    str | None, Header(description="The Temporal namespace (sent by the UI and the CLI)")
]

_PAYLOADS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CodecPayloads"}}},
    }
}
"""The body the codec routes read themselves, after authenticating (see the module doc)."""


async def _read_payloads(request: Request) -> CodecPayloads:
    try:
        return CodecPayloads.model_validate_json(await request.body())
    except ValidationError as error:
        problems = validation_problems(error.errors(include_url=False))
        raise InvalidInput("the request is invalid", problems) from None


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


async def _decode(server: CodecServer, payloads: Sequence[Payload]) -> list[Payload]:
    """Decode one payload at a time, so that the total stays bounded as it grows."""
    decoded: list[Payload] = []
    total = 0
    for index, payload in enumerate(payloads):
        try:
            (result,) = await server.codec.decode([payload])
        except UNDECODABLE as error:
            reason = str(error) if isinstance(error, PayloadCodecError) else repr(error)
            raise PayloadUndecodable(
                f"payload {index} cannot be decoded: {reason}", [f"payloads.{index}: {reason}"]
            ) from None
        total += result.ByteSize()
        if total > server.max_decoded_bytes:
            raise LimitExceeded(
                f"the payloads decode to more than {server.max_decoded_bytes} bytes",
                [f"payloads.{index}: over the limit; ask for fewer payloads at a time"],
            )
        decoded.append(result)
    return decoded


@router.post("/encode", summary="Encode payloads (compress, encrypt)", openapi_extra=_PAYLOADS_BODY)
async def encode_payloads(
    request: Request, server: Codec, _operator: Operator, x_namespace: Namespace = None
) -> CodecPayloads:
    """Encode payloads as the workers do: large ones compressed, all encrypted."""
    _check_namespace(server.settings, x_namespace)
    body = await _read_payloads(request)
    encoded = await server.codec.encode(_to_protobuf(body))
    log.debug("payloads encoded", count=len(encoded))
    return _to_json(encoded)


@router.post(
    "/decode", summary="Decode payloads (decrypt, decompress)", openapi_extra=_PAYLOADS_BODY
)
async def decode_payloads(
    request: Request, server: Codec, _operator: Operator, x_namespace: Namespace = None
) -> CodecPayloads:
    """Decode payloads of the Temporal history; payloads not encoded pass through.

    A payload under a key the ring no longer holds, one that does not authenticate, and a
    corrupt one (bad compression, over the decompression limit, not a payload) fail the
    request with `payload_undecodable`, naming its position and the key id, never content.
    """
    _check_namespace(server.settings, x_namespace)
    decoded = await _decode(server, _to_protobuf(await _read_payloads(request)))
    log.debug("payloads decoded", count=len(decoded))
    return _to_json(decoded)


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
    app.state.codec_server = CodecServer(settings, tuple(origins))
    app.include_router(router)
    app.include_router(codec_sign_in.router)
    app.add_middleware(CodecCorsMiddleware, origins=origins)
