"""One OpenID Connect issuer: its configuration, discovery document and signing keys.

`OidcIssuer` fetches ``<issuer>/.well-known/openid-configuration`` and the JWKS it names,
and keeps both for ``jwks_cache_seconds``. A token signed with a key id the cached set does
not hold makes it fetch the keys again (a provider rotating its keys), but at most once per
``jwks_refresh_seconds``: otherwise anyone could make the API call the provider on every
request by sending tokens with made-up key ids.

Only asymmetric signing keys are kept (RSA, EC, OKP; not ``use: enc``): a symmetric key in a
published key set would be a key everyone knows.

When the provider cannot be reached, keys fetched earlier stay in use past their lifetime
(signing keys outlive any cache by far); without any, `IssuerUnavailable` is raised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from domain.person import PersonMatch
from mentorflow.api.tokens import Role

log = structlog.get_logger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
_MAX_DOCUMENT_BYTES = 256 * 1024
_ASYMMETRIC_KEYS: dict[str, type[RSAKey] | type[ECKey] | type[OKPKey]] = {
    "RSA": RSAKey,
    "EC": ECKey,
    "OKP": OKPKey,
}


@dataclass(frozen=True)
class OidcConfig:
    """Single sign-on, as `mentorflow.settings.Settings.oidc_config` makes it.

    Attributes:
        issuer: The issuer URL, without a trailing slash (the ``iss`` of its tokens).
        client_id: The console's client id (also the ``aud`` of its ID tokens); None: no
            console sign-in.
        client_secret: The console's client secret; None for a public client.
        audience: The ``aud`` of API access tokens; None: the API accepts no JWT.
        role_claim: The claim carrying roles or groups.
        role_mapping: Claim value → role; empty: a value naming a role is that role.
        person_claim: The claim identifying a mentor or mentee.
        person_match: What the person claim's value is: the participant id (``person_id``),
            or a directory field of an active person it is matched against.
        scopes: Scopes requested at sign-in.
        redirect_url: The console's registered callback URL; None: from the request.
        jwks_cache_seconds: How long the discovery document and keys are kept.
        jwks_refresh_seconds: Least time between two fetches for an unknown key id.
        http_timeout: Seconds a call to the provider may take.
    """

    issuer: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    audience: str | None = None
    role_claim: str = "roles"
    role_mapping: Mapping[str, Role] = field(default_factory=dict)
    person_claim: str = "email"
    person_match: PersonMatch = "person_id"
    scopes: str = "openid email profile"
    redirect_url: str | None = None
    jwks_cache_seconds: float = 3600.0
    jwks_refresh_seconds: float = 60.0
    http_timeout: float = 10.0

    @property
    def signs_in_console(self) -> bool:
        """Whether the console offers single sign-on (a client id is configured)."""
        return self.client_id is not None


class IssuerUnavailable(Exception):
    """The provider's discovery document or keys cannot be had (and none are cached)."""

    def __init__(self, issuer: str, reason: str) -> None:
        super().__init__(f"{issuer}: {reason}")
        self.issuer = issuer
        self.reason = reason


@dataclass(frozen=True)
class ProviderMetadata:
    """What the console and the API use of the discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class _Keys:
    by_id: Mapping[str, Key]
    unnamed: tuple[Key, ...]
    fetched_at: float

    @property
    def count(self) -> int:
        """How many keys there are."""
        return len(self.by_id) + len(self.unnamed)


class OidcIssuer:
    """The discovery document and signing keys of one issuer, cached.

    Args:
        config: The issuer and cache lifetimes.
        clock: Monotonic seconds (tests move it).
        transport: An httpx transport (tests); the network by default.
    """

    def __init__(
        self,
        config: OidcConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._transport = transport
        self._lock = asyncio.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: _Keys | None = None
        self._attempted_at = float("-inf")

    async def metadata(self) -> ProviderMetadata:
        """The discovery document (cached).

        Raises:
            IssuerUnavailable: It cannot be fetched, or it is not this issuer's.
        """
        async with self._lock:
            return await self._fresh_metadata()

    async def signing_key(self, key_id: str | None) -> Key | None:
        """The issuer's signing key ``key_id``; None when the issuer has no such key.

        A token without a key id is verified with the issuer's only key, when it has one.

        Raises:
            IssuerUnavailable: No keys could be fetched.
        """
        async with self._lock:
            keys = await self._fresh_keys()
            key = _find(keys, key_id)
            if key is not None or not self._may_fetch():
                return key
            log.info("unknown signing key; fetching the keys again")
            try:
                keys = await self._fetch_keys()
            except IssuerUnavailable as error:
                log.warning("identity provider unreachable", reason=error.reason)
                return None
            return _find(keys, key_id)

    def _may_fetch(self) -> bool:
        """Whether the last fetch of the keys (or attempt) is long enough ago for another."""
        return self._clock() - self._attempted_at >= self.config.jwks_refresh_seconds

    async def _fresh_metadata(self) -> ProviderMetadata:
        now = self._clock()
        cached = self._metadata
        if cached is not None and now - self._metadata_at < self.config.jwks_cache_seconds:
            return cached
        try:
            self._metadata = await self._fetch_metadata()
        except IssuerUnavailable as error:
            if cached is None:
                raise
            log.warning("identity provider unreachable; discovery kept", reason=error.reason)
            return cached
        self._metadata_at = now
        return self._metadata

    async def _fresh_keys(self) -> _Keys:
        cached = self._keys
        if cached is not None and (
            self._clock() - cached.fetched_at < self.config.jwks_cache_seconds
            or not self._may_fetch()
        ):
            return cached
        if cached is None and not self._may_fetch():
            raise IssuerUnavailable(self.config.issuer, "keys unavailable; retried shortly")
        try:
            return await self._fetch_keys()
        except IssuerUnavailable as error:
            if cached is None:
                raise
            log.warning("identity provider unreachable; keys kept", reason=error.reason)
            return cached

    async def _fetch_keys(self) -> _Keys:
        self._attempted_at = self._clock()
        metadata = await self._fresh_metadata()
        document = await self._get_json(metadata.jwks_uri)
        self._keys = _parse_keys(document, self._clock())
        log.info("identity provider keys fetched", keys=self._keys.count)
        return self._keys

    async def _fetch_metadata(self) -> ProviderMetadata:
        issuer = self.config.issuer
        document = await self._get_json(issuer + DISCOVERY_PATH)
        # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was asked for.
        if document.get("issuer", "").rstrip("/") != issuer:
            raise IssuerUnavailable(issuer, "the discovery document names another issuer")
        try:
            return ProviderMetadata(
                issuer=issuer,
                authorization_endpoint=_url(document, "authorization_endpoint"),
                token_endpoint=_url(document, "token_endpoint"),
                jwks_uri=_url(document, "jwks_uri"),
            )
        except KeyError as missing:
            raise IssuerUnavailable(issuer, f"the discovery document has no {missing}") from None

    async def _get_json(self, url: str) -> dict[str, Any]:
        issuer = self.config.issuer
        try:
            async with httpx.AsyncClient(
                timeout=self.config.http_timeout, transport=self._transport
            ) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise IssuerUnavailable(issuer, f"{url}: {type(error).__name__}") from error
        if response.status_code != 200:
            raise IssuerUnavailable(issuer, f"{url}: HTTP {response.status_code}")
        if len(response.content) > _MAX_DOCUMENT_BYTES:
            raise IssuerUnavailable(issuer, f"{url}: document too large")
        try:
            document = response.json()
        except ValueError:
            raise IssuerUnavailable(issuer, f"{url}: not JSON") from None
        if not isinstance(document, dict):
            raise IssuerUnavailable(issuer, f"{url}: not a JSON object")
        return document


def _url(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise KeyError(name)
    return value


def _parse_keys(document: Mapping[str, Any], fetched_at: float) -> _Keys:
    by_id: dict[str, Key] = {}
    unnamed: list[Key] = []
    entries = document.get("keys")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        key_type = _ASYMMETRIC_KEYS.get(str(entry.get("kty")))
        if key_type is None:
            continue
        try:
            key: Key = key_type.import_key(entry)
        except (JoseError, ValueError, TypeError):
            log.warning("identity provider published a key that cannot be read; ignored")
            continue
        if key.is_private:
            log.warning("identity provider published a private key; ignored")
            continue
        key_id = entry.get("kid")
        if isinstance(key_id, str):
            by_id[key_id] = key
        else:
            unnamed.append(key)
    return _Keys(by_id, tuple(unnamed), fetched_at)


def _find(keys: _Keys, key_id: str | None) -> Key | None:
    if key_id is not None:
        return keys.by_id.get(key_id)
    every = [*keys.by_id.values(), *keys.unnamed]
    return every[0] if len(every) == 1 else None
