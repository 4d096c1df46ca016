"""A real HTTPS webhook receiver for the tests: uvicorn with a certificate of a test CA.

``/hooks/ok`` answers 200, ``/hooks/flaky`` 503 the first time and 200 after, ``/hooks/gone``
404 (a removed webhook). Every post is kept, with its JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request, Response

from tests.support import assert_eventually


@dataclass
class WebhookReceiver:
    """Where the receiver listens, what it received, and the CA to trust it with."""

    base_url: str
    ca_file: str
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base_url}/hooks/{name}"


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 signed by it: (CA, certificate, key) files."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mentorflow test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@contextlib.asynccontextmanager
async def webhook_receiver(directory: Path) -> AsyncIterator[WebhookReceiver]:
    """The receiver under uvicorn with TLS on a free loopback port."""
    ca_file, certificate, key = _certificates(directory)
    app = FastAPI()
    flaky_seen: set[str] = set()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    receiver = WebhookReceiver(f"https://127.0.0.1:{port}", str(ca_file))

    @app.post("/hooks/{name}")
    async def hook(name: str, request: Request) -> Response:
        body = await request.json()
        receiver.posts.append((name, body))
        if name == "gone":
            return Response(status_code=404)
        if name == "flaky" and body["text"] not in flaky_seen:
            flaky_seen.add(body["text"])
            return Response(status_code=503)
        return Response(status_code=200)

    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        ssl_certfile=str(certificate),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(lambda: asyncio.sleep(0, server.started), timeout=10)
        yield receiver
    finally:
        server.should_exit = True
        await serving
        listener.close()
