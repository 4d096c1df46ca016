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

`resolve_principal` maps verified claims to a role and, for a mentor or mentee, a person
(`person_of`): the person claim is the participant id itself, or, as ``person_match`` says,
the email, employee number, external id or user name of exactly one active person of the
people directory. Every refusal is a `JwtRefused` whose ``reason`` goes to the log; the
caller learns only that the token was not accepted (not whether nobody, several people or a
deactivated person matched). Neither the token nor any claim value is logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import structlog
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError
from joserfc.jwt import JWTClaimsRegistry

from domain.person import LookupField
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
MAX_CLAIM_LENGTH = 320
"""The longest person-claim value matched against the directory (an email's limit)."""
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


class PeopleLookup(Protocol):
    """The people directory as sign-in sees it (`mentorflow.directory.PeopleDirectory`)."""

    async def find_active(self, field: LookupField, value: str) -> list[str]:
        """The active people whose ``field`` is ``value`` (trimmed, case-folded)."""
        ...


PeopleSource = Callable[[], PeopleLookup]
"""Gives the directory when a token needs it (the API's pool exists once it has started)."""


def person_of_claims(claims: Mapping[str, Any], config: OidcConfig) -> str:
    """The participant id when ``person_match`` is ``person_id``: the claim's value as it is.

    Raises:
        JwtRefused: The claim is missing or is not a participant id.
    """
    value = claims.get(config.person_claim)
    if not isinstance(value, str) or _PERSON_ID.fullmatch(value) is None:
        raise JwtRefused(f"the {config.person_claim!r} claim is missing or not a participant id")
    return value


async def person_of(
    claims: Mapping[str, Any], config: OidcConfig, people: PeopleSource | None
) -> str:
    """The participant id of a mentor's or mentee's verified claims.

    With ``person_match`` ``person_id`` the person claim is the participant id
    (`person_of_claims`); otherwise its value must match that field of exactly one active
    person of the directory.

    Raises:
        JwtRefused: The claim is missing, or matches nobody active or several people (the
            reason says how many, never the value).
        DatabaseUnavailable: The directory cannot be read.
    """
    field = config.person_match
    if field == "person_id":
        return person_of_claims(claims, config)
    value = claims.get(config.person_claim)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLAIM_LENGTH:
        raise JwtRefused(f"the {config.person_claim!r} claim is missing or not a short text")
    if people is None:
        raise JwtRefused("no people directory to match the person claim against")
    matches = await people().find_active(field, value)
    if len(matches) != 1:
        raise JwtRefused(
            f"the {config.person_claim!r} claim matches {len(matches)} active directory "
            f"people by {field}"
        )
    return matches[0]


def subject_id(config: OidcConfig, claims: Mapping[str, Any]) -> str:
    """A stable, non-personal name of the token's subject for audit records and rate limits."""
    subject = f"{config.issuer}\x00{claims.get('sub', '')}"
    return "oidc_" + hashlib.sha256(subject.encode()).hexdigest()[:12]


async def resolve_principal(
    claims: Mapping[str, Any], config: OidcConfig, people: PeopleSource | None = None
) -> Principal:
    """The API principal of verified claims: a role, and the person of a participant.

    Raises:
        JwtRefused: No role maps, or a participant's person claim finds no one person.
        DatabaseUnavailable: The directory cannot be read.
    """
    role = role_of_claims(claims, config)
    person_id = await person_of(claims, config, people) if role in PARTICIPANT_ROLES else None
    return Principal(role, person_id, subject_id(config, claims))


class AccessTokenVerifier:
    """API access tokens of the issuer: ``aud`` must be the configured audience."""

    def __init__(
        self, issuer: OidcIssuer, audience: str, people: PeopleSource | None = None
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.people = people

    async def principal(self, token: str) -> Principal:
        """The caller a JWT access token speaks for.

        Raises:
            JwtRefused: The token is not accepted (the reason is logged here).
            IssuerUnavailable: The issuer's keys cannot be had.
            DatabaseUnavailable: The directory, needed to find the person, cannot be read.
        """
        try:
            claims = await verified_claims(self.issuer, token, audience=self.audience)
            return await resolve_principal(claims, self.issuer.config, self.people)
        except JwtRefused as refused:
            log.warning("bearer JWT refused", reason=refused.reason)
            raise
