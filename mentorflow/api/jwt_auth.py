"""Tokens of the OpenID Connect issuer: API access tokens (JWT) and the console's ID tokens.

`verified_claims` is the one check both go through:

* the header's ``alg`` must be an asymmetric signature algorithm (`SIGNATURE_ALGORITHMS`):
  ``none`` and the HMAC family are refused before any key is looked at, so a token "signed"
  with the provider's public key as an HMAC secret (the classic confusion) never reaches a
  verifier;
* the key is the issuer's key of the header's ``kid`` (`OidcIssuer.signing_key`: cached,
  fetched again for an unknown ``kid`` at most once a minute), and its type must suit ``alg``;
* ``iss`` must be the issuer, ``aud`` must hold the expected audience, ``exp`` must be in the
  future and ``nbf`` and ``iat`` not (give or take `CLOCK_SKEW_SECONDS`); ``exp`` is required.

`principal_of_claims` maps verified claims to a role and a person. Every refusal is a
`JwtRefused` whose ``reason`` goes to the log; the caller learns only that the token was not
accepted. Neither the token nor any claim value is logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import structlog
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError
from joserfc.jwt import JWTClaimsRegistry

from domain.spec_fields import PARTICIPANT_ID_PATTERN
from mentorflow.api.oidc_issuer import OidcConfig, OidcIssuer
from mentorflow.api.tokens import PARTICIPANT_ROLES, Principal, Role

log = structlog.get_logger(__name__)

SIGNATURE_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
"""The algorithms a token of the issuer may be signed with: asymmetric ones only."""
CLOCK_SKEW_SECONDS = 30
MAX_TOKEN_LENGTH = 16 * 1024
ROLE_PRECEDENCE = (Role.HR_ADMIN, Role.MENTOR, Role.MENTEE, Role.SERVICE, Role.OPS)
"""When the role claim maps to several roles, the first of these wins (others come last)."""

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_PERSON_ID = re.compile(PARTICIPANT_ID_PATTERN)


class JwtRefused(Exception):
    """A token of the issuer that is not accepted; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer token has the shape of a JWT (static tokens never have dots)."""
    return len(token) <= MAX_TOKEN_LENGTH and _COMPACT_JWS.fullmatch(token) is not None


def _header(token: str) -> dict[str, Any]:
    encoded = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError):
        raise JwtRefused("the header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise JwtRefused("the header is not a JSON object")
    return header


async def verified_claims(
    issuer: OidcIssuer, token: str, *, audience: str, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The claims of ``token`` once its signature, issuer, audience and times check out.

    Args:
        issuer: The issuer whose keys sign it.
        token: A JWS in compact serialization.
        audience: The ``aud`` it must carry.
        required: Further claims it must carry (``exp`` and ``iss`` always are).

    Raises:
        JwtRefused: Any check failed (the reason says which).
        IssuerUnavailable: The issuer's keys cannot be had.
    """
    if not looks_like_jwt(token):
        raise JwtRefused("not a compact JWS")
    header = _header(token)
    algorithm = header.get("alg")
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise JwtRefused(f"algorithm {str(algorithm)[:16]!r} is not accepted")
    key_id = header.get("kid")
    if key_id is not None and not isinstance(key_id, str):
        raise JwtRefused("the kid is not a string")
    key = await issuer.signing_key(key_id)
    if key is None:
        raise JwtRefused("no signing key of the issuer has this kid")
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm]).claims
    except BadSignatureError:
        raise JwtRefused("bad signature") from None
    except JoseError as error:
        raise JwtRefused(f"not verifiable: {error.error}") from None
    registry = JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": issuer.config.issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
    )
    registry.options.update({name: {"essential": True} for name in required})
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise JwtRefused("expired") from None
    except JoseError as error:
        raise JwtRefused(f"claims: {error.description}") from None
    return claims


def _claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if isinstance(value, str):
        return value.split() if " " in value else [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def role_of_claims(claims: Mapping[str, Any], config: OidcConfig) -> Role:
    """The role the role claim maps to (`ROLE_PRECEDENCE` among several).

    Raises:
        JwtRefused: No value of the claim maps to a role.
    """
    mapping = config.role_mapping or {role.value: role for role in Role}
    roles = {
        mapping[value] for value in _claim_values(claims, config.role_claim) if value in mapping
    }
    if not roles:
        raise JwtRefused(f"the {config.role_claim!r} claim maps to no role")
    ranked = sorted(roles, key=lambda role: (_rank(role), role.value))
    return ranked[0]


def _rank(role: Role) -> int:
    return ROLE_PRECEDENCE.index(role) if role in ROLE_PRECEDENCE else len(ROLE_PRECEDENCE)


def person_of_claims(claims: Mapping[str, Any], config: OidcConfig) -> str:
    """The participant id: the person claim's value as it is.

    Until the people directory resolves emails and employee ids to people, the claim has
    to carry the participant id itself (``MENTORFLOW_OIDC_PERSON_CLAIM``).

    Raises:
        JwtRefused: The claim is missing or is not a participant id.
    """
    value = claims.get(config.person_claim)
    if not isinstance(value, str) or _PERSON_ID.fullmatch(value) is None:
        raise JwtRefused(f"the {config.person_claim!r} claim is missing or not a participant id")
    return value


def subject_id(config: OidcConfig, claims: Mapping[str, Any]) -> str:
    """A stable, non-personal name of the token's subject for audit records and rate limits."""
    subject = f"{config.issuer}\x00{claims.get('sub', '')}"
    return "oidc_" + hashlib.sha256(subject.encode()).hexdigest()[:12]


def principal_of_claims(claims: Mapping[str, Any], config: OidcConfig) -> Principal:
    """The API principal of verified claims: a role, and the person of a participant.

    Raises:
        JwtRefused: No role maps, or a participant has no usable person claim.
    """
    role = role_of_claims(claims, config)
    person_id = person_of_claims(claims, config) if role in PARTICIPANT_ROLES else None
    return Principal(role, person_id, subject_id(config, claims))


class AccessTokenVerifier:
    """API access tokens of the issuer: ``aud`` must be the configured audience."""

    def __init__(self, issuer: OidcIssuer, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience

    async def principal(self, token: str) -> Principal:
        """The caller a JWT access token speaks for.

        Raises:
            JwtRefused: The token is not accepted (the reason is logged here).
            IssuerUnavailable: The issuer's keys cannot be had.
        """
        try:
            claims = await verified_claims(self.issuer, token, audience=self.audience)
            return principal_of_claims(claims, self.issuer.config)
        except JwtRefused as refused:
            log.warning("bearer JWT refused", reason=refused.reason)
            raise
