"""`verified_claims` and `OidcIssuer` against a stand-in issuer served over HTTP: what is
accepted, every refusal and its reason, and how often the keys are fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.person import LookupField
from mentorflow.api.jwt_auth import (
    JwtRefused,
    looks_like_jwt,
    person_of,
    resolve_principal,
    verified_claims,
)
from mentorflow.api.oidc_issuer import IssuerUnavailable, OidcConfig, OidcIssuer
from mentorflow.api.tokens import Role
from tests.auth.support import AUDIENCE, FakeIssuer, serving_issuer


class Clock:
    """Monotonic seconds that a test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def issuer() -> AsyncIterator[FakeIssuer]:
    fake = FakeIssuer()
    fake.add_key("k1")
    async with serving_issuer(fake) as served:
        yield served


def config(issuer: FakeIssuer, **overrides: object) -> OidcConfig:
    values: dict[str, object] = {
        "issuer": issuer.url,
        "audience": AUDIENCE,
        "person_claim": "employee_id",
        "role_mapping": {"mentoring-hr": Role.HR_ADMIN, "mentoring-mentee": Role.MENTEE},
        "jwks_refresh_seconds": 60.0,
    }
    values.update(overrides)
    return OidcConfig(**values)  # type: ignore[arg-type]


async def refusal(oidc: OidcIssuer, token: str) -> str:
    with pytest.raises(JwtRefused) as refused:
        await verified_claims(oidc, token, audience=AUDIENCE)
    return refused.value.reason


async def test_a_token_signed_by_the_issuer_is_accepted(issuer: FakeIssuer) -> None:
    oidc = OidcIssuer(config(issuer))
    claims = await verified_claims(oidc, issuer.token(), audience=AUDIENCE)
    assert claims["sub"] == "subject-1"
    assert issuer.key_fetches == 1
    await verified_claims(oidc, issuer.token(), audience=AUDIENCE)
    assert issuer.key_fetches == 1  # cached


async def test_an_audience_list_holding_ours_is_accepted(issuer: FakeIssuer) -> None:
    oidc = OidcIssuer(config(issuer))
    token = issuer.token(aud=["another-api", AUDIENCE])
    assert (await verified_claims(oidc, token, audience=AUDIENCE))["aud"][1] == AUDIENCE


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda issuer: issuer.token(exp=1_000_000), "expired"),
        (lambda issuer: issuer.token(exp=None), "claims: Missing claim: 'exp'"),
        (lambda issuer: issuer.token(aud="another-api"), "claims: Invalid claim: 'aud'"),
        (lambda issuer: issuer.token(aud=None), "claims: Missing claim: 'aud'"),
        (lambda issuer: issuer.token(iss="https://evil.example"), "claims: Invalid claim: 'iss'"),
        (lambda issuer: issuer.token(nbf=4_000_000_000), "claims: The token is not yet valid"),
        (lambda issuer: issuer.unsigned_token(), "algorithm 'none' is not accepted"),
        (lambda issuer: issuer.hmac_confused_token(), "algorithm 'HS256' is not accepted"),
    ],
    ids=["expired", "no-exp", "wrong-aud", "no-aud", "wrong-iss", "nbf-future", "none", "hs256"],
)
async def test_a_token_failing_a_check_is_refused_with_its_reason(
    issuer: FakeIssuer, forge: object, reason: str
) -> None:
    oidc = OidcIssuer(config(issuer))
    assert callable(forge)
    assert await refusal(oidc, forge(issuer)) == reason


async def test_a_signature_of_another_key_with_a_known_kid_is_refused(issuer: FakeIssuer) -> None:
    impostor = FakeIssuer(url=issuer.url)
    impostor.add_key("k1")
    assert await refusal(OidcIssuer(config(issuer)), impostor.token()) == "bad signature"


async def test_an_unknown_kid_fetches_the_keys_once_then_is_refused(issuer: FakeIssuer) -> None:
    clock = Clock()
    oidc = OidcIssuer(config(issuer), clock=clock)
    await verified_claims(oidc, issuer.token(), audience=AUDIENCE)
    issuer.add_key("unpublished", publish=False)
    clock.now += 120  # past the refresh interval, within the cache lifetime
    reason = await refusal(oidc, issuer.token("unpublished"))
    assert reason == "no signing key of the issuer has this kid"
    assert issuer.key_fetches == 2
    # An attacker sending made-up kids does not make the API fetch on every request.
    for _ in range(5):
        await refusal(oidc, issuer.token("unpublished"))
    assert issuer.key_fetches == 2


async def test_a_rotated_key_is_found_by_fetching_the_keys_again(issuer: FakeIssuer) -> None:
    clock = Clock()
    oidc = OidcIssuer(config(issuer), clock=clock)
    await verified_claims(oidc, issuer.token(), audience=AUDIENCE)
    issuer.add_key("k2")
    clock.now += 120
    claims = await verified_claims(oidc, issuer.token("k2"), audience=AUDIENCE)
    assert claims["iss"] == issuer.url
    assert issuer.key_fetches == 2


async def test_an_unreachable_issuer_without_cached_keys_is_unavailable() -> None:
    fake = FakeIssuer(url="http://127.0.0.1:9")  # nothing listens on the discard port
    fake.add_key("k1")
    oidc = OidcIssuer(config(fake, http_timeout=2.0))
    with pytest.raises(IssuerUnavailable):
        await verified_claims(oidc, fake.token(), audience=AUDIENCE)


def test_static_tokens_do_not_look_like_jwts() -> None:
    assert not looks_like_jwt("0123456789abcdefghijklmnopqrstuvwxyz-_ABCDEFGHIJ")
    assert looks_like_jwt("eyJh.eyJi.c2ln")
    assert looks_like_jwt("eyJh.eyJi.")


@pytest.mark.parametrize(
    ("claims", "role", "person_id"),
    [
        ({"roles": ["mentoring-hr"], "employee_id": "e-1"}, Role.HR_ADMIN, None),
        ({"roles": ["mentoring-mentee"], "employee_id": "e-1"}, Role.MENTEE, "e-1"),
        (
            {"roles": ["mentoring-mentee", "mentoring-hr"], "employee_id": "e-1"},
            Role.HR_ADMIN,
            None,
        ),
        ({"roles": "mentoring-mentee", "employee_id": "e-1"}, Role.MENTEE, "e-1"),
    ],
    ids=["hr", "mentee", "hr-wins", "single-string"],
)
async def test_the_role_claim_maps_to_a_role_and_participants_to_a_person(
    issuer_config: OidcConfig, claims: dict[str, object], role: Role, person_id: str | None
) -> None:
    principal = await resolve_principal({"sub": "s", **claims}, issuer_config)
    same = await resolve_principal({"sub": "s", **claims}, issuer_config)
    other = await resolve_principal({"sub": "t", **claims}, issuer_config)
    assert (principal.role, principal.person_id) == (role, person_id)
    assert principal.token_id == same.token_id
    assert principal.token_id != other.token_id


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": ["staff"], "employee_id": "e-1"},
        {"employee_id": "e-1"},
        {"roles": ["mentoring-mentee"]},
        {"roles": ["mentoring-mentee"], "employee_id": "has spaces"},
    ],
    ids=["unmapped-role", "no-role", "no-person", "bad-person"],
)
async def test_claims_without_a_role_or_a_participant_id_are_refused(
    issuer_config: OidcConfig, claims: dict[str, object]
) -> None:
    with pytest.raises(JwtRefused):
        await resolve_principal({"sub": "s", **claims}, issuer_config)


async def test_without_a_mapping_role_names_are_roles() -> None:
    plain = OidcConfig(issuer="https://idp.example", person_claim="employee_id")
    principal = await resolve_principal({"roles": ["mentor"], "employee_id": "p-1"}, plain)
    assert (principal.role, principal.person_id) == (Role.MENTOR, "p-1")


class Directory:
    """A stand-in people directory: active people by (field, case-folded value)."""

    def __init__(self, people: dict[tuple[str, str], list[str]]) -> None:
        self.people = people
        self.asked: list[tuple[str, str]] = []

    async def find_active(self, field: LookupField, value: str) -> list[str]:
        self.asked.append((field, value))
        return self.people.get((field, value.strip().casefold()), [])


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("nobody@example.com", "the 'email' claim matches 0 active directory people by email"),
        ("shared@example.com", "the 'email' claim matches 2 active directory people by email"),
        (None, "the 'email' claim is missing or not a short text"),
        ("x" * 321, "the 'email' claim is missing or not a short text"),
    ],
    ids=["nobody", "several", "missing", "too-long"],
)
async def test_a_claim_matched_in_the_directory_must_find_exactly_one_active_person(
    claim: str | None, reason: str
) -> None:
    directory = Directory(
        {
            ("email", "ada@example.com"): ["p-ada"],
            ("email", "shared@example.com"): ["p-1", "p-2"],
        }
    )
    matched = OidcConfig(issuer="https://idp.example", person_claim="email", person_match="email")

    found = await person_of({"email": " Ada@Example.com"}, matched, lambda: directory)
    with pytest.raises(JwtRefused) as refused:
        await person_of({"email": claim} if claim else {}, matched, lambda: directory)

    assert found == "p-ada"
    assert refused.value.reason == reason
    assert "@" not in refused.value.reason.replace("'email'", "")  # never the value


async def test_a_participant_id_claim_never_asks_the_directory() -> None:
    directory = Directory({})
    by_id = OidcConfig(issuer="https://idp.example", person_claim="employee_id")

    principal = await resolve_principal(
        {"roles": ["mentee"], "employee_id": "p-7"}, by_id, lambda: directory
    )

    assert principal.person_id == "p-7"
    assert directory.asked == []


@pytest.fixture
def issuer_config() -> OidcConfig:
    return config(FakeIssuer(url="https://idp.example"))
