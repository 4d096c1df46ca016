"""The codec endpoint of the API: Temporal's remote codec protocol, ops tokens, sessions, CORS.

The app runs in process over ``ASGITransport``. With bearer tokens the codec needs neither
Temporal nor PostgreSQL, only the payload keys (from the session's environment) and tokens, so
the `codec` fixture runs the app without its lifespan. Browser sessions live in PostgreSQL:
the `browser` fixture runs the lifespan (which migrates the ``api`` schema) on a database of
the module's own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pydantic
import pytest
import structlog
from fastapi import FastAPI
from temporalio.api.common.v1 import Payload

from mentorflow.api import create_app
from mentorflow.api.codec import SESSION_COOKIE, CodecServer, codec_cors_origins
from mentorflow.api.codec_sessions import MAX_SESSIONS_PER_TOKEN
from mentorflow.api.tokens import (
    Role,
    add_token,
    hash_token,
    read_tokens,
    revoke_token,
    token_id_of,
)
from mentorflow.converter import ENCODING as ZLIB_ENCODING
from mentorflow.converter import data_converter
from mentorflow.keyring import KeyRing
from mentorflow.payload_codec import ENCRYPTED_ENCODING, EncryptionCodec
from mentorflow.settings import Settings
from tests.support import create_database

SENTINEL = "sentinel-codec-server: feedback nobody else may read"
UI_ORIGIN = "http://127.0.0.1:8233"


@dataclass(frozen=True)
class Codec:
    http: httpx.AsyncClient
    settings: Settings
    ops: str
    hr_admin: str
    mentee: str
    app: FastAPI
    pool: asyncpg.Pool | None = field(default=None)

    def client(self, peer: str = "127.0.0.1") -> httpx.AsyncClient:
        """Another browser (no cookies), connecting from ``peer``."""
        transport = httpx.ASGITransport(app=self.app, client=(peer, 50123))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")

    @property
    def server(self) -> CodecServer:
        server = self.app.state.codec_server
        assert isinstance(server, CodecServer)
        return server


def codec_settings(tmp_path: Path, **settings: Any) -> tuple[Settings, str, str, str]:
    tokens = tmp_path / "tokens.json"
    ops = add_token(tokens, Role.OPS)
    hr_admin = add_token(tokens, Role.HR_ADMIN)
    mentee = add_token(tokens, Role.MENTEE, "p-002")
    configured = Settings(temporal_address="127.0.0.1:7233", api_tokens_file=tokens, **settings)
    return configured, ops, hr_admin, mentee


@pytest.fixture
async def codec(tmp_path: Path) -> AsyncIterator[Codec]:
    settings, ops, hr_admin, mentee = codec_settings(tmp_path)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield Codec(http, settings, ops, hr_admin, mentee, app)


@pytest.fixture(scope="module")
async def sessions_database(postgres_server_url: str) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    database_url = await create_database(postgres_server_url, "codec")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5)
    try:
        yield database_url, pool
    finally:
        await pool.close()


async def serve_codec(
    tmp_path: Path, database: tuple[str, asyncpg.Pool], **settings: Any
) -> AsyncIterator[Codec]:
    database_url, pool = database
    configured, ops, hr_admin, mentee = codec_settings(
        tmp_path, database_url=database_url, **settings
    )
    app = create_app(configured, pool=pool)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            yield Codec(http, configured, ops, hr_admin, mentee, app, pool)


@pytest.fixture
async def browser(
    tmp_path: Path, sessions_database: tuple[str, asyncpg.Pool]
) -> AsyncIterator[Codec]:
    """The codec with its lifespan: browser sessions in PostgreSQL."""
    async for served in serve_codec(tmp_path, sessions_database):
        yield served


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


async def test_a_browser_session_stands_in_for_the_ops_token(browser: Codec) -> None:
    stored = await encrypted(browser.settings, {"notes": SENTINEL})

    started = await browser.http.post("/codec/session", headers=bearer(browser.ops))
    session = {"Cookie": f"{SESSION_COOKIE}={browser.http.cookies[SESSION_COOKIE]}"}
    browser.http.cookies.clear()
    from_ui = await browser.http.post(
        "/codec/decode", json=to_json(stored), headers={**session, "Origin": UI_ORIGIN}
    )
    from_elsewhere = await browser.http.post(
        "/codec/decode",
        json=to_json(stored),
        headers={**session, "Origin": "http://127.0.0.1:9999"},
    )

    assert started.status_code == 200, started.text
    assert started.json()["origin"] == UI_ORIGIN
    cookie = started.headers["set-cookie"]
    for attribute in ("HttpOnly", "Path=/codec", "SameSite=lax", "Max-Age=28800"):
        assert attribute in cookie, cookie
    assert "Secure" not in cookie
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


@pytest.mark.parametrize("who", ["ops", "hr_admin"])
async def test_a_cookie_holding_a_token_is_not_a_session(browser: Codec, who: str) -> None:
    answer = await browser.http.post(
        "/codec/decode",
        json={"payloads": []},
        headers={"Cookie": f"{SESSION_COOKIE}={getattr(browser, who)}", "Origin": UI_ORIGIN},
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


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


# -- corrupt payloads: 422, never 500 -------------------------------------------------------


async def sealed(settings: Settings, payload: Payload) -> list[Payload]:
    """``payload`` encrypted with the workers' key, so that decoding gets past decryption."""
    return await EncryptionCodec(settings.payload_keyring()).encode([payload])


def compressed(data: bytes) -> Payload:
    return Payload(metadata={"encoding": ZLIB_ENCODING}, data=data)


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def zlib_bomb(expanded: int) -> bytes:
    """A serialized payload whose data is ``expanded`` zero bytes, zlib-compressed (~1000:1),
    built in chunks so that the test itself never holds it expanded."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"\x12" + varint(expanded))]
    chunk = bytes(1 << 20)
    for _ in range(expanded // len(chunk)):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    return b"".join(parts)


CORRUPT = {
    "not zlib": compressed(b"certainly not a zlib stream"),
    "truncated zlib": compressed(zlib.compress(Payload(data=bytes(5000)).SerializeToString())[:-4]),
    "zlib of no payload": compressed(zlib.compress(b"\xff\xff\xff\xff")),
}


@pytest.mark.parametrize("corruption", CORRUPT)
async def test_a_corrupt_payload_is_undecodable_not_a_server_error(
    codec: Codec, corruption: str
) -> None:
    fine = await encrypted(codec.settings, {"notes": "fine"})
    corrupt = await sealed(codec.settings, CORRUPT[corruption])

    answer = await codec.http.post(
        "/codec/decode", json=to_json([*fine, *corrupt]), headers=bearer(codec.ops)
    )

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "payload_undecodable"
    assert error["problems"][0].startswith("payloads.1: ")


async def test_a_zlib_bomb_is_refused_quickly_and_in_bounded_memory(codec: Codec) -> None:
    gibibyte = 1 << 30
    bomb = await sealed(codec.settings, compressed(zlib_bomb(gibibyte)))
    body = to_json(bomb)
    assert len(json.dumps(body)) < 2 * 1024 * 1024  # small on the wire, 1 GiB expanded

    tracemalloc.start()
    started = time.monotonic()
    try:
        answer = await asyncio.wait_for(
            codec.http.post("/codec/decode", json=body, headers=bearer(codec.ops)), timeout=20
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "payload_undecodable"
    assert "limit" in answer.json()["error"]["message"]
    assert time.monotonic() - started < 10
    assert peak < 256 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB while refusing a bomb"


async def test_what_one_request_decodes_to_is_bounded_in_all(codec: Codec) -> None:
    codec.server.max_decoded_bytes = 10_000
    each = await encrypted(codec.settings, "x" * 4_000)

    within = await codec.http.post(
        "/codec/decode", json=to_json(each * 2), headers=bearer(codec.ops)
    )
    beyond = await codec.http.post(
        "/codec/decode", json=to_json(each * 3), headers=bearer(codec.ops)
    )

    assert within.status_code == 200, within.text
    assert beyond.status_code == 422
    assert beyond.json()["error"]["code"] == "limit_exceeded"
    assert beyond.json()["error"]["problems"][0].startswith("payloads.2: ")


# -- authentication comes before the body -----------------------------------------------------


@pytest.mark.parametrize("path", ["/codec/decode", "/codec/encode"])
@pytest.mark.parametrize("credentials", ["none", "unknown token", "unknown session"])
async def test_an_unauthenticated_request_is_refused_before_its_body_is_read(
    codec: Codec, path: str, credentials: str
) -> None:
    chunks_sent = 0

    async def never_ending_body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        chunks_sent += 1
        yield b'{"payloads": ['
        await asyncio.Event().wait()  # the rest never comes

    headers = {
        "none": {},
        "unknown token": bearer("not-a-token"),
        "unknown session": {"Cookie": f"{SESSION_COOKIE}=not-a-session"},
    }[credentials]
    declared = {"Content-Type": "application/json", "Content-Length": str(10 * 1024 * 1024)}

    answer = await asyncio.wait_for(
        codec.http.post(path, content=never_ending_body(), headers={**declared, **headers}),
        timeout=5,
    )

    # Without a pool (no lifespan) a session cannot be looked up: 503, still before the body.
    expected = 503 if credentials == "unknown session" else 401
    assert answer.status_code == expected, answer.text
    assert chunks_sent == 0


async def test_an_ended_session_is_refused_before_the_body_is_read(browser: Codec) -> None:
    async def never_ending_body() -> AsyncIterator[bytes]:
        yield b'{"payloads": ['
        await asyncio.Event().wait()

    answer = await asyncio.wait_for(
        browser.http.post(
            "/codec/decode",
            content=never_ending_body(),
            headers={
                "Content-Length": str(10 * 1024 * 1024),
                "Cookie": f"{SESSION_COOKIE}=an-ended-session",
            },
        ),
        timeout=5,
    )

    assert answer.status_code == 401


# -- browser sessions ---------------------------------------------------------------------------


async def start_session(codec: Codec, **params: str) -> tuple[httpx.Response, dict[str, str]]:
    """Start a session; return the answer and the cookie header of the new session."""
    answer = await codec.http.post("/codec/session", headers=bearer(codec.ops), params=params)
    cookie = codec.http.cookies.get(SESSION_COOKIE, "")
    codec.http.cookies.clear()
    return answer, {"Cookie": f"{SESSION_COOKIE}={cookie}", "Origin": UI_ORIGIN}


async def decode_with(codec: Codec, session: dict[str, str]) -> httpx.Response:
    async with codec.client() as other_browser:
        return await other_browser.post("/codec/decode", json={"payloads": []}, headers=session)


def session_digest_of(session: dict[str, str]) -> str:
    return hashlib.sha256(session["Cookie"].partition("=")[2].encode()).hexdigest()


async def session_row(codec: Codec, session: dict[str, str]) -> asyncpg.Record | None:
    assert codec.pool is not None
    return await codec.pool.fetchrow(
        "SELECT * FROM api.codec_sessions WHERE session_sha256 = $1", session_digest_of(session)
    )


async def test_the_session_cookie_is_an_opaque_id_kept_only_as_a_hash(browser: Codec) -> None:
    answer, session = await start_session(browser)
    session_id = session["Cookie"].partition("=")[2]

    row = await session_row(browser, session)

    assert answer.status_code == 200, answer.text
    assert session_id != browser.ops
    assert len(session_id) >= 43  # 32 random bytes
    assert row is not None
    assert session_id not in repr(dict(row))
    assert row["token_sha256"] == hash_token(browser.ops)
    assert row["origin"] == UI_ORIGIN
    assert row["expires_at"] - row["created_at"] == timedelta(hours=8)
    assert answer.json()["idle_timeout_seconds"] == 30 * 60
    assert (await decode_with(browser, session)).status_code == 200


async def test_ending_a_session_ends_it_wherever_the_cookie_is(browser: Codec) -> None:
    _, session = await start_session(browser)

    ended = await browser.http.delete("/codec/session", headers=session)

    assert ended.status_code == 204
    assert await session_row(browser, session) is None
    answer = await decode_with(browser, session)  # a copy of the cookie, elsewhere
    assert answer.status_code == 401


async def test_an_ops_token_ends_all_its_sessions(browser: Codec) -> None:
    _, first = await start_session(browser)
    _, second = await start_session(browser)

    ended = await browser.http.delete("/codec/session", headers=bearer(browser.ops))

    assert ended.status_code == 204
    assert (await decode_with(browser, first)).status_code == 401
    assert (await decode_with(browser, second)).status_code == 401


@pytest.mark.parametrize("how", ["removed from the file", "revoked"])
async def test_removing_or_revoking_the_token_ends_its_sessions(browser: Codec, how: str) -> None:
    _, session = await start_session(browser)
    assert (await decode_with(browser, session)).status_code == 200
    tokens = browser.settings.tokens_file
    if how == "revoked":
        revoke_token(tokens, token_id_of(hash_token(browser.ops)))
    else:
        kept = [r for r in read_tokens(tokens) if r.sha256 != hash_token(browser.ops)]
        tokens.write_text(json.dumps([record.model_dump(mode="json") for record in kept]))

    answer = await decode_with(browser, session)

    assert answer.status_code == 401
    assert "revoked" in answer.json()["error"]["message"]
    assert await session_row(browser, session) is None


async def test_a_session_ends_when_idle_and_after_its_lifetime(browser: Codec) -> None:
    assert browser.pool is not None
    _, idle = await start_session(browser)
    _, old = await start_session(browser)
    _, active = await start_session(browser)
    await browser.pool.execute(
        "UPDATE api.codec_sessions SET last_seen_at = now() - interval '31 minutes' "
        "WHERE session_sha256 = ANY($1)",
        [session_digest_of(idle), session_digest_of(active)],
    )
    await browser.pool.execute(
        "UPDATE api.codec_sessions SET created_at = now() - interval '9 hours', "
        "expires_at = now() - interval '1 hour' WHERE session_sha256 = $1",
        session_digest_of(old),
    )

    assert (await decode_with(browser, idle)).status_code == 401
    assert (await decode_with(browser, old)).status_code == 401
    assert await session_row(browser, idle) is None
    assert await session_row(browser, old) is None
    await browser.pool.execute(  # in use 29 minutes ago: still alive, and now used again
        "UPDATE api.codec_sessions SET last_seen_at = now() - interval '29 minutes' "
        "WHERE session_sha256 = $1",
        session_digest_of(active),
    )
    assert (await decode_with(browser, active)).status_code == 200
    row = await session_row(browser, active)
    assert row is not None
    assert await browser.pool.fetchval("SELECT now() - $1::timestamptz", row["last_seen_at"]) < (
        timedelta(minutes=1)
    )


async def test_a_token_holds_a_bounded_number_of_sessions(browser: Codec) -> None:
    sessions = [(await start_session(browser))[1] for _ in range(MAX_SESSIONS_PER_TOKEN + 1)]
    assert browser.pool is not None

    count = await browser.pool.fetchval(
        "SELECT count(*) FROM api.codec_sessions WHERE token_sha256 = $1", hash_token(browser.ops)
    )

    assert count == MAX_SESSIONS_PER_TOKEN
    assert (await decode_with(browser, sessions[0])).status_code == 401
    assert (await decode_with(browser, sessions[-1])).status_code == 200


async def test_a_session_serves_only_the_ui_origin_it_was_started_for(
    tmp_path: Path, sessions_database: tuple[str, asyncpg.Pool]
) -> None:
    staging = "http://127.0.0.1:8080"
    async for codec in serve_codec(
        tmp_path, sessions_database, codec_cors_origins=f"{UI_ORIGIN},{staging}"
    ):
        ambiguous, _ = await start_session(codec)
        unknown, _ = await start_session(codec, origin="https://attacker.example")
        started, session = await start_session(codec, origin=staging)

        from_staging = await decode_with(codec, {**session, "Origin": staging})
        from_other_ui = await decode_with(codec, {**session, "Origin": UI_ORIGIN})

    assert ambiguous.status_code == 422  # two UIs on this host: name one
    assert unknown.status_code == 422
    assert started.json()["origin"] == staging
    assert from_staging.status_code == 200, from_staging.text
    assert from_other_ui.status_code == 403


# -- behind a TLS-terminating proxy -------------------------------------------------------------


async def test_behind_a_trusted_proxy_the_session_cookie_is_secure(
    tmp_path: Path, sessions_database: tuple[str, asyncpg.Pool]
) -> None:
    async for codec in serve_codec(tmp_path, sessions_database, trusted_proxies="10.0.0.0/8"):
        forwarded = {**bearer(codec.ops), "X-Forwarded-Proto": "https"}
        async with codec.client(peer="10.1.2.3") as through_proxy:
            secure = await through_proxy.post("/codec/session", headers=forwarded)
        async with codec.client(peer="192.0.2.7") as direct:
            spoofed = await direct.post("/codec/session", headers=forwarded)

    assert secure.status_code == 200, secure.text
    assert "Secure" in secure.headers["set-cookie"]
    assert spoofed.status_code == 200, spoofed.text
    assert "Secure" not in spoofed.headers["set-cookie"]


async def test_without_trusted_proxies_forwarded_headers_are_ignored(browser: Codec) -> None:
    answer = await browser.http.post(
        "/codec/session", headers={**bearer(browser.ops), "X-Forwarded-Proto": "https"}
    )

    assert answer.status_code == 200, answer.text
    assert "Secure" not in answer.headers["set-cookie"]
    assert Settings().trusted_proxies == ""
    with pytest.raises(pydantic.ValidationError, match=r"proxy\.example"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")
