"""The two calls of the authorization code flow a client makes: the authorization URL (with
PKCE S256 and the nonce) and the code exchange at the token endpoint (RFC 6749 4.1, RFC 7636).

A confidential client authenticates with HTTP Basic (``client_secret_basic``, the method every
provider supports), its id and secret form-encoded first as RFC 6749 2.3.1 asks; a public
client (no secret) sends its id in the body.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from mentorflow.api.oidc_issuer import OidcConfig
from mentorflow.console.oidc_logins import PendingLogin


class TokenExchangeFailed(Exception):
    """The token endpoint did not give an ID token; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def code_challenge(code_verifier: str) -> str:
    """The S256 challenge of a PKCE verifier: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    endpoint: str, config: OidcConfig, redirect_uri: str, login: PendingLogin
) -> str:
    """Where the browser goes to sign in at the provider."""
    assert config.client_id is not None
    parameters = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": config.scopes,
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": code_challenge(login.code_verifier),
            "code_challenge_method": "S256",
        }
    )
    url = urlsplit(endpoint)
    query = f"{url.query}&{parameters}" if url.query else parameters
    return urlunsplit(url._replace(query=query))


async def exchange_code(
    endpoint: str, config: OidcConfig, redirect_uri: str, login: PendingLogin, code: str
) -> str:
    """The ID token the token endpoint gives for ``code``.

    Raises:
        TokenExchangeFailed: The endpoint cannot be reached, refuses, or gives no ID token.
    """
    assert config.client_id is not None
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": login.code_verifier,
    }
    auth: httpx.Auth | None = None
    if config.client_secret is None:
        form["client_id"] = config.client_id
    else:
        auth = httpx.BasicAuth(
            quote(config.client_id, safe=""), quote(config.client_secret, safe="")
        )
    try:
        async with httpx.AsyncClient(timeout=config.http_timeout, auth=auth) as http:
            response = await http.post(endpoint, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise TokenExchangeFailed(type(error).__name__) from error
    try:
        answer = response.json()
    except ValueError:
        raise TokenExchangeFailed(f"HTTP {response.status_code}, not JSON") from None
    if response.status_code != 200 or not isinstance(answer, dict):
        refusal = answer.get("error") if isinstance(answer, dict) else None
        raise TokenExchangeFailed(f"HTTP {response.status_code} {str(refusal)[:64]}")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise TokenExchangeFailed("no ID token in the answer")
    return id_token
