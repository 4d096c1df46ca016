"""The codec endpoint of the API: Temporal's remote codec protocol, ops tokens, sessions, CORS.

The app runs in process over ``ASGITransport`` without its lifespan: the codec needs neither
Temporal nor PostgreSQL, only the payload keys (from the session's environment) and tokens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from temporalio.api.common.v1 import Payload

from mentorflow.api import create_app
from mentorflow.api.codec import SESSION_COOKIE, codec_cors_origins
from mentorflow.api.tokens import Role, add_token
from mentorflow.converter import data_converter
from mentorflow.keyring import KeyRing
from mentorflow.payload_codec import ENCRYPTED_ENCODING
from mentorflow.settings import Settings

SENTINEL = "sentinel-codec-server: feedback nobody else may read"
UI_ORIGIN = "http://127.0.0.1:8233"


@dataclass(frozen=True)
class Codec:
    http: httpx.AsyncClient
    settings: Settings
    ops: str
    hr_admin: str
    mentee: str


@pytest.fixture
async def codec(tmp_path: Path) -> AsyncIterator[Codec]:
    tokens = tmp_path / "tokens.json"
    settings = Settings(temporal_address="127.0.0.1:7233", api_tokens_file=tokens)
    ops = add_token(tokens, Role.OPS)
    hr_admin = add_token(tokens, Role.HR_ADMIN)
    mentee = add_token(tokens, Role.MENTEE, "p-002")
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield Codec(http, settings, ops, hr_admin, mentee)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def to_json(payloads: list[Payload]) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def from_json(body: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in p["metadata"].items()},
            data=base64.b64decode(p.get("data", "")),
        )
        for p in body["payloads"]
    ]


async def encrypted(settings: Settings, value: object) -> list[Payload]:
    """What a worker with the session's payload keys stores in Temporal."""
    return await data_converter(settings.payload_keyring()).encode([value])


async def test_decode_shows_what_a_worker_encrypted(codec: Codec) -> None:
    stored = await encrypted(codec.settings, {"notes": SENTINEL})

    answer = await codec.http.post(
        "/codec/decode",
        json=to_json(stored),
        headers={**bearer(codec.ops), "X-Namespace": "default"},
    )

    assert answer.status_code == 200, answer.text
    (decoded,) = from_json(answer.json())
    assert decoded.metadata["encoding"] == b"json/plain"
    assert json.loads(decoded.data) == {"notes": SENTINEL}


async def test_nothing_of_the_payloads_is_logged(codec: Codec) -> None:
    stored = await encrypted(codec.settings, {"notes": SENTINEL})
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(SENTINEL).encode())

    with structlog.testing.capture_logs() as logs:
        for path, payloads in (("/codec/decode", stored), ("/codec/encode", [plain])):
            answer = await codec.http.post(path, json=to_json(payloads), headers=bearer(codec.ops))
            assert answer.status_code == 200, answer.text

    assert SENTINEL not in repr(logs)
    assert codec.ops not in repr(logs)


async def test_encode_then_decode_restores_the_payload(codec: Codec) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(SENTINEL).encode())

    encoded = await codec.http.post(
        "/codec/encode", json=to_json([plain]), headers=bearer(codec.ops)
    )
    decoded = await codec.http.post("/codec/decode", json=encoded.json(), headers=bearer(codec.ops))

    assert encoded.status_code == 200, encoded.text
    assert SENTINEL not in encoded.text
    assert from_json(encoded.json())[0].metadata["encoding"] == ENCRYPTED_ENCODING
    assert decoded.status_code == 200, decoded.text
    assert from_json(decoded.json()) == [plain]


@pytest.mark.parametrize("path", ["/codec/decode", "/codec/encode"])
async def test_without_a_token_the_codec_is_unauthenticated(codec: Codec, path: str) -> None:
    answer = await codec.http.post(path, json={"payloads": []})

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


async def test_an_unknown_token_is_unauthenticated(codec: Codec) -> None:
    answer = await codec.http.post(
        "/codec/decode", json={"payloads": []}, headers=bearer("not-a-token")
    )

    assert answer.status_code == 401


@pytest.mark.parametrize("who", ["hr_admin", "mentee"])
async def test_only_ops_tokens_may_decode(codec: Codec, who: str) -> None:
    stored = await encrypted(codec.settings, {"notes": SENTINEL})

    answer = await codec.http.post(
        "/codec/decode", json=to_json(stored), headers=bearer(getattr(codec, who))
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert SENTINEL not in answer.text


async def test_an_ops_token_reaches_nothing_else_of_the_api(codec: Codec) -> None:
    answer = await codec.http.get("/cohorts", headers=bearer(codec.ops))

    assert answer.status_code == 403


async def test_a_payload_under_an_unknown_key_is_reported_with_its_key_id(codec: Codec) -> None:
    foreign = await data_converter(KeyRing.generate("elsewhere")).encode([SENTINEL])

    answer = await codec.http.post(
        "/codec/decode", json=to_json(foreign), headers=bearer(codec.ops)
    )

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "payload_undecodable"
    assert "'elsewhere'" in error["message"]


async def test_payloads_that_are_not_base64_are_invalid(codec: Codec) -> None:
    body = {"payloads": [{"metadata": {"encoding": "@@@"}, "data": "!!"}]}

    answer = await codec.http.post("/codec/decode", json=body, headers=bearer(codec.ops))

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == ["payloads.0.metadata: not base64"]


async def test_another_namespace_is_refused(codec: Codec) -> None:
    answer = await codec.http.post(
        "/codec/decode",
        json={"payloads": []},
        headers={**bearer(codec.ops), "X-Namespace": "payments"},
    )

    assert answer.status_code == 422
    assert "'default'" in answer.json()["error"]["message"]


async def test_a_browser_session_stands_in_for_the_ops_token(codec: Codec) -> None:
    stored = await encrypted(codec.settings, {"notes": SENTINEL})

    started = await codec.http.post("/codec/session", headers=bearer(codec.ops))
    codec.http.cookies.clear()
    session = {"Cookie": f"{SESSION_COOKIE}={codec.ops}"}
    from_ui = await codec.http.post(
        "/codec/decode", json=to_json(stored), headers={**session, "Origin": UI_ORIGIN}
    )
    from_elsewhere = await codec.http.post(
        "/codec/decode",
        json=to_json(stored),
        headers={**session, "Origin": "http://127.0.0.1:9999"},
    )

    assert started.status_code == 200, started.text
    cookie = started.headers["set-cookie"]
    for attribute in ("HttpOnly", "Path=/codec", "SameSite=lax", "Max-Age=28800"):
        assert attribute in cookie, cookie
    assert from_ui.status_code == 200, from_ui.text
    assert json.loads(from_json(from_ui.json())[0].data) == {"notes": SENTINEL}
    assert from_ui.headers["access-control-allow-origin"] == UI_ORIGIN
    assert from_ui.headers["access-control-allow-credentials"] == "true"
    assert from_elsewhere.status_code == 403


async def test_a_session_needs_an_ops_token(codec: Codec) -> None:
    refused = await codec.http.post("/codec/session", headers=bearer(codec.hr_admin))
    missing = await codec.http.post("/codec/session")

    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    assert missing.status_code == 401


async def test_a_session_cookie_of_a_non_ops_token_is_refused(codec: Codec) -> None:
    answer = await codec.http.post(
        "/codec/decode",
        json={"payloads": []},
        headers={"Cookie": f"{SESSION_COOKIE}={codec.hr_admin}", "Origin": UI_ORIGIN},
    )

    assert answer.status_code == 403


async def test_ending_the_session_clears_the_cookie(codec: Codec) -> None:
    answer = await codec.http.delete("/codec/session")

    assert answer.status_code == 204
    assert f'{SESSION_COOKIE}=""' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]


async def test_the_sign_in_page_runs_only_its_own_script(codec: Codec) -> None:
    page = await codec.http.get("/codec/session")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'sha256-" in policy


async def test_preflight_is_answered_for_the_temporal_ui_only(codec: Codec) -> None:
    request = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }

    allowed = await codec.http.options("/codec/decode", headers={**request, "Origin": UI_ORIGIN})
    other = await codec.http.options(
        "/codec/decode", headers={**request, "Origin": "https://attacker.example"}
    )
    outside = await codec.http.options("/cohorts", headers={**request, "Origin": UI_ORIGIN})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in outside.headers


async def test_errors_carry_cors_headers_so_the_ui_can_read_them(codec: Codec) -> None:
    answer = await codec.http.post(
        "/codec/decode", json={"payloads": []}, headers={"Origin": UI_ORIGIN}
    )

    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == UI_ORIGIN


def test_the_allowed_origins_default_to_the_local_temporal_ui() -> None:
    defaults = codec_cors_origins(Settings(temporal_address="localhost:7233"))
    configured = codec_cors_origins(
        Settings(codec_cors_origins="https://temporal.example.com/, http://127.0.0.1:8080")
    )

    assert defaults == ["http://localhost:8233", "http://127.0.0.1:8233"]
    assert configured == ["https://temporal.example.com", "http://127.0.0.1:8080"]
