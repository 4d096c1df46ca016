"""Single sign-on of the web console: OpenID Connect, authorization code flow with PKCE.

``GET /sign-in/oidc`` begins a sign-in (`mentorflow.console.oidc_logins`: state, nonce and
PKCE verifier kept server-side, the state also in a cookie of this browser) and sends the
browser to the provider. ``GET /sign-in/oidc/callback`` finishes it:

1. the ``state`` of the redirect must equal the cookie's (the sign-in began in this browser,
   so nobody can push their own sign-in into someone else's browser) and name a pending
   sign-in, which is used up (a replayed callback finds nothing);
2. the code is exchanged at the token endpoint with the PKCE verifier (S256) and the client's
   credentials (`mentorflow.console.oidc_client`: plain httpx, since authlib 1.9's httpx
   client warns that it is deprecated and is untyped);
3. the ID token is verified like an API access token (`mentorflow.api.jwt_auth`), with the
   client id as audience and the sign-in's ``nonce``;
4. roles and the person come from its claims as for the API (`jwt_auth.person_of`: the
   person claim is the participant id, or matches one active person of the people
   directory); `sign_in.start_session` starts the session.

A refusal at any step is a page saying sign-in failed and starts no session; the reason goes
to the log (never a token, a code or a claim value).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from eventstore import DatabaseUnavailable
from mentorflow.api.context import Services
from mentorflow.api.errors import ServiceUnavailable
from mentorflow.api.jwt_auth import (
    JwtRefused,
    PeopleSource,
    person_of,
    role_of_claims,
    verified_claims,
)
from mentorflow.api.oidc_issuer import IssuerUnavailable, OidcConfig, OidcIssuer
from mentorflow.api.tokens import PARTICIPANT_ROLES
from mentorflow.console.auth import ConsoleError, cookie_options
from mentorflow.console.oidc_client import TokenExchangeFailed, authorization_url, exchange_code
from mentorflow.console.oidc_logins import LOGIN_LIFETIME, PendingLogin, PendingLoginStore
from mentorflow.console.sessions import CONSOLE_ROLES, ConsoleSessionStore, Identity
from mentorflow.console.sign_in import start_session
from mentorflow.console.web import error_page, time_zone_or_utc

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)

BEGIN_PATH = "/sign-in/oidc"
CALLBACK_PATH = "/sign-in/oidc/callback"
STATE_COOKIE = "mentorflow_oidc_state"

QueryText = Annotated[str | None, Query(max_length=2048)]


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in; ``reason`` is for the log only.

    ``no_role``: the account has no mentorflow role; ``no_person``: a mentor's or mentee's
    account is no one active participant (none, several or a deactivated person: the page
    does not say which).
    """

    def __init__(self, reason: str, *, no_role: bool = False, no_person: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.no_role = no_role
        self.no_person = no_person


def console_issuer(services: Services) -> OidcIssuer:
    """The issuer the console signs in with.

    Raises:
        ConsoleError: 404 when the console has no single sign-on.
    """
    issuer = services.oidc
    if issuer is None or not issuer.config.signs_in_console:
        raise ConsoleError(404, "Not found", "There is no such page.")
    return issuer


def redirect_url(request: Request, config: OidcConfig) -> str:
    """The callback URL, as registered at the provider (or this request's base URL + path)."""
    return config.redirect_url or f"{request.url.scheme}://{request.url.netloc}{CALLBACK_PATH}"


@router.get(BEGIN_PATH)
async def begin_sign_in(
    request: Request, services: Services, time_zone: Annotated[str, Query(max_length=64)] = "UTC"
) -> Response:
    """Send the browser to the provider, with a fresh state, nonce and PKCE challenge."""
    issuer = console_issuer(services)
    try:
        metadata = await issuer.metadata()
    except IssuerUnavailable as error:
        log.warning("identity provider unreachable", reason=error.reason)
        raise ConsoleError(
            503, "Sign-in unavailable", "The identity provider cannot be reached. Try again soon."
        ) from None
    login = await PendingLoginStore(services.pool).begin(time_zone_or_utc(time_zone))
    url = authorization_url(
        metadata.authorization_endpoint, issuer.config, redirect_url(request, issuer.config), login
    )
    response = RedirectResponse(url, status_code=303)
    options = cookie_options(request) | {"path": BEGIN_PATH}
    max_age = int(LOGIN_LIFETIME.total_seconds())
    response.set_cookie(STATE_COOKIE, login.state, max_age=max_age, **options)
    return response


@router.get(CALLBACK_PATH)
async def finish_sign_in(
    request: Request,
    services: Services,
    state: QueryText = None,
    code: QueryText = None,
    error: QueryText = None,
) -> Response:
    """Finish a sign-in the provider sends back: a session, or a page saying why not."""
    issuer = console_issuer(services)
    try:
        if error is not None:
            raise SignInRefused(f"the provider answered {error[:64]!r}")
        login = await _pending_login(request, services, state)
        if code is None:
            raise SignInRefused("no code in the callback")
        identity = await _identity(
            issuer, login, code, redirect_url(request, issuer.config), services.people_directory
        )
    except SignInRefused as refused:
        log.warning("console sign-in refused", reason=refused.reason)
        response: Response = _refusal_page(request, refused)
    else:
        log.info("console sign-in", role=identity.role.value, signed_in_by="oidc")
        store = ConsoleSessionStore(services.pool)
        response = await start_session(request, store, identity, login.time_zone)
    response.delete_cookie(STATE_COOKIE, **(cookie_options(request) | {"path": BEGIN_PATH}))
    return response


async def _pending_login(request: Request, services: Services, state: str | None) -> PendingLogin:
    cookie = request.cookies.get(STATE_COOKIE)
    if state is None or cookie is None:
        raise SignInRefused("no state in the callback or no state cookie in this browser")
    if not secrets.compare_digest(state.encode(), cookie.encode()):
        raise SignInRefused("the callback's state is not the one this browser began")
    login = await PendingLoginStore(services.pool).take(state)
    if login is None:
        raise SignInRefused("the state is unknown, used already or expired")
    return login


async def _identity(
    issuer: OidcIssuer, login: PendingLogin, code: str, redirect_uri: str, people: PeopleSource
) -> Identity:
    config = issuer.config
    assert config.client_id is not None  # console_issuer checked it
    try:
        metadata = await issuer.metadata()
        id_token = await exchange_code(metadata.token_endpoint, config, redirect_uri, login, code)
    except IssuerUnavailable as error:
        raise SignInRefused(f"the provider is unreachable: {error.reason}") from None
    except TokenExchangeFailed as error:
        raise SignInRefused(f"the code exchange failed: {error.reason}") from None
    try:
        claims = await verified_claims(
            issuer, id_token, audience=config.client_id, required=("sub",)
        )
        _check_nonce_and_party(claims, login, config.client_id)
        role = role_of_claims(claims, config)
        if role not in CONSOLE_ROLES:
            raise SignInRefused(f"the role {role.value} has no console", no_role=True)
    except JwtRefused as refused:
        raise SignInRefused(
            f"ID token: {refused.reason}", no_role="claim" in refused.reason
        ) from None
    except IssuerUnavailable as unavailable:
        raise SignInRefused(f"ID token keys: {unavailable.reason}") from None
    if role not in PARTICIPANT_ROLES:
        return Identity(role, None, f"oidc:{config.issuer}")
    try:
        person_id = await person_of(claims, config, people)
    except JwtRefused as refused:
        raise SignInRefused(f"ID token: {refused.reason}", no_person=True) from None
    except (DatabaseUnavailable, ServiceUnavailable):
        log.warning("people directory unavailable for a console sign-in")
        raise ConsoleError(
            503, "Sign-in unavailable", "The people directory cannot be read. Try again soon."
        ) from None
    return Identity(role, person_id, f"oidc:{config.issuer}")


def _check_nonce_and_party(claims: dict[str, Any], login: PendingLogin, client_id: str) -> None:
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not secrets.compare_digest(
        nonce.encode(), login.nonce.encode()
    ):
        raise JwtRefused("the nonce is not the sign-in's")
    # OpenID Connect Core 3.1.3.7: with several audiences, azp must name this client.
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise JwtRefused("several audiences and azp is not this client")


def _refusal_page(request: Request, refused: SignInRefused) -> Response:
    if refused.no_person:
        return error_page(
            request,
            403,
            "No access to mentorflow",
            "The identity provider signed you in, but mentorflow cannot tell which of its "
            "participants you are: your account matches no one active person. Ask HR to "
            "check your entry in the people directory.",
        )
    if refused.no_role:
        return error_page(
            request,
            403,
            "No access to mentorflow",
            "The identity provider signed you in, but your account has no mentorflow role or "
            "participant id. Ask HR to give you access.",
        )
    return error_page(
        request,
        400,
        "Sign-in failed",
        "This sign-in cannot be completed: it was used already, expired, began in another "
        "browser, or the identity provider refused it. Start again from the sign-in page.",
    )
