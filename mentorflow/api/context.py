"""What every route needs: settings, limits, tokens, the Temporal client and the database pool.

`create_app` builds one `ApiServices`; the lifespan fills in the client and the pool unless
the caller passed its own (tests share theirs), and routes receive it as the `Services`
dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from eventstore import Pool
from mentorflow.api.errors import ServiceUnavailable
from mentorflow.api.jwt_auth import AccessTokenVerifier
from mentorflow.api.limits import ApiLimits
from mentorflow.api.oidc_issuer import OidcIssuer
from mentorflow.api.readiness import ReadinessProbe
from mentorflow.api.tokens import TokenRegistry
from mentorflow.converter import data_converter
from mentorflow.directory import PeopleDirectory
from mentorflow.settings import Settings
from mentorflow.telemetry import temporal_interceptors
from vault import PersonalDataVault


@dataclass
class ApiServices:
    """The API's dependencies, shared by every request."""

    settings: Settings
    limits: ApiLimits
    tokens: TokenRegistry
    readiness: ReadinessProbe
    temporal: Client | None = None
    database: Pool | None = None
    personal_data: PersonalDataVault | None = None
    oidc: OidcIssuer | None = None
    """The OpenID Connect issuer (console sign-in, API JWTs); None when SSO is off."""
    access_tokens: AccessTokenVerifier | None = None
    """Verifies the issuer's JWT access tokens; None when the API accepts none."""

    @property
    def client(self) -> Client:
        """The Temporal client.

        Raises:
            ServiceUnavailable: The API has not finished starting.
        """
        if self.temporal is None:
            raise ServiceUnavailable("the API is starting: no Temporal client yet")
        return self.temporal

    @property
    def pool(self) -> Pool:
        """The PostgreSQL pool of the read models.

        Raises:
            ServiceUnavailable: The API has not finished starting.
        """
        if self.database is None:
            raise ServiceUnavailable("the API is starting: no database pool yet")
        return self.database

    @property
    def vault(self) -> PersonalDataVault:
        """The personal-data vault (opens sealed values, forgets people).

        Raises:
            ServiceUnavailable: The API has not finished starting.
        """
        if self.personal_data is None:
            raise ServiceUnavailable("the API is starting: no vault yet")
        return self.personal_data

    def people_directory(self) -> PeopleDirectory:
        """The people directory over the pool and the vault.

        Raises:
            ServiceUnavailable: The API has not finished starting.
        """
        return PeopleDirectory(self.pool, self.vault)


async def connect_temporal(settings: Settings) -> Client:
    """A lazily connecting Temporal client with the pydantic data converter.

    Lazy, unlike the worker's: the API starts (and ``/readyz`` says what is missing) while
    Temporal is still coming up; the first call connects.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        interceptors=temporal_interceptors(),
        data_converter=data_converter(
            settings.payload_keyring(),
            require_encryption=settings.require_encrypted_payloads,
        ),
        lazy=True,
    )


def get_services(request: Request) -> ApiServices:
    """The app's `ApiServices`."""
    services = request.app.state.services
    assert isinstance(services, ApiServices)
    return services


Services = Annotated[ApiServices, Depends(get_services)]
