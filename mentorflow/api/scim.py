"""SCIM 2.0 service provider (RFC 7643/7644) at ``/scim/v2``: HR systems provision people.

Entra ID, Okta and other identity providers create, update and deactivate directory people
through ``/Users`` (with the enterprise extension: employee number, department, manager).
Only tokens of the ``scim`` role are served; every other role gets 403.

* **Writes** go through the directory service (`mentorflow.directory`): a request becomes
  the profile the person should have, and only what changed is recorded as events on
  ``person-{id}``. Setting ``active`` to false records `PersonDeactivated` (reason
  ``hris``); ``DELETE`` records it with reason ``deleted``, after which the User answers 404
  like one that never existed (RFC 7644 §3.6), while the person stays in the directory.
* **Reads** fold the person streams (not the ``people`` read model), so a User created or
  changed is visible to the very next request, as provisioning clients expect: they create,
  then read back or filter. Listing folds every directory person; filters (any RFC 7644
  filter over the attributes ``/Schemas`` publishes) are evaluated on the folded Users.
* **Tolerance.** Attributes mentorflow does not keep are accepted and ignored; a ``remove``
  carrying a value and a path filter that matches no entry are read as Microsoft Entra means
  them (`scim2_models.ScimPolicy`).
* **Errors** are SCIM error messages (``urn:…:Error``) with their status and ``scimType``;
  bodies are ``application/scim+json``.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    ForbiddenException,
    InvalidFilterException,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    Patch,
    PatchOp,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    ScimFilter,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    UniquenessException,
)
from starlette.requests import Request as StarletteRequest

from domain.person import DesiredPerson, PersonState
from domain.spec_fields import PARTICIPANT_ID_PATTERN
from mentorflow.api.auth import Caller
from mentorflow.api.context import Services
from mentorflow.api.scim_mapping import to_desired, to_user
from mentorflow.api.scim_models import (
    USER_RESOURCE_TYPE,
    DirectoryEnterpriseUser,
    DirectoryUser,
    ScimUser,
)
from mentorflow.api.tokens import Principal, Role
from mentorflow.directory import (
    DirectoryBusy,
    PeopleDirectory,
    PersonIsForgotten,
    ProfileInvalid,
)

PREFIX = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
MAX_RESULTS = 200
"""The most Users one page holds (``count`` beyond it is lowered to it)."""

POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
"""Strict where it matters, tolerant where Entra ID departs from the RFC."""

SERVICE_PROVIDER_CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer token",
            description="A token of the scim role: mentorflow tokens add --role scim",
            primary=True,
        )
    ],
)
SCHEMAS: list[Schema] = [DirectoryUser.to_schema(), DirectoryEnterpriseUser.to_schema()]
RESOURCE_TYPES: list[ResourceType] = [USER_RESOURCE_TYPE]


_PERSON_ID = re.compile(PARTICIPANT_ID_PATTERN)
ENDPOINTS = frozenset({"ServiceProviderConfig", "Schemas", "ResourceTypes", "Users"})


class MethodNotAllowed(SCIMException):
    """The endpoint exists but does not take this method."""

    status = 405
    _default_detail = "Method not allowed"


class ServiceBusy(SCIMException):
    """Other writers kept changing the person: the client retries later."""

    status = 503
    _default_detail = "Busy, try again"


class ScimResponse(JSONResponse):
    """JSON with SCIM's media type."""

    media_type = MEDIA_TYPE


def _require_scim(principal: Caller) -> Principal:
    if principal.role is not Role.SCIM:
        raise ForbiddenException(detail="the SCIM service needs a token of the scim role")
    return principal


ScimCaller = Annotated[Principal, Depends(_require_scim)]
router = APIRouter(prefix=PREFIX, tags=["scim"], include_in_schema=False)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _directory(services: Services) -> PeopleDirectory:
    return PeopleDirectory(services.pool, services.vault)


def _response_parameters(request: Request) -> Any:
    query = request.query_params
    try:
        return ResponseParameters[ScimUser].model_validate(
            {
                "attributes": query.get("attributes"),
                "excludedAttributes": query.get("excludedAttributes"),
            }
        )
    except ValidationError as error:
        raise InvalidValueException(detail=_problems(error)) from None


def _dump(resource: Any, context: Context, parameters: Any = None) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(
        scim_ctx=context, response_parameters=parameters, scim_policy=POLICY
    )
    return dumped


def _problems(error: ValidationError) -> str:
    """Every problem of a body, by location; never the values (they may be personal)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    )


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidSyntaxException(detail="the body is not JSON") from None


def _visible(state: PersonState | None) -> bool:
    return state is not None and state.known and not state.removed and not state.forgotten


async def _person(directory: PeopleDirectory, person_id: str) -> PersonState:
    state = await directory.get(person_id) if _is_person_id(person_id) else None
    if state is None or not _visible(state):
        raise NotFoundException(detail=f"no User {person_id}")
    return state


def _is_person_id(value: str) -> bool:
    return _PERSON_ID.fullmatch(value) is not None


async def _ensure_unique(directory: PeopleDirectory, user_name: str, person_id: str) -> None:
    wanted = user_name.casefold()
    for state in await directory.all_people():
        profile = state.profile
        if (
            _visible(state)
            and state.person_id != person_id
            and profile is not None
            and profile.user_name.casefold() == wanted
        ):
            raise UniquenessException(detail="another User has this userName")


async def _record(
    directory: PeopleDirectory, person_id: str, desired: DesiredPerson
) -> PersonState:
    try:
        applied = await directory.apply(person_id, desired, source="scim")
    except ProfileInvalid as invalid:
        raise InvalidValueException(detail="; ".join(invalid.problems)) from None
    except PersonIsForgotten:
        raise NotFoundException(detail=f"no User {person_id}") from None
    except DirectoryBusy:
        raise ServiceBusy(detail=f"User {person_id} keeps changing; try again") from None
    return applied.state


def _parse_user(body: Any, context: Context) -> Any:
    try:
        with POLICY:
            return ScimUser.model_validate(body, scim_ctx=context)
    except ValidationError as error:
        raise InvalidValueException(detail=_problems(error)) from None


# -- discovery ----------------------------------------------------------------------------


@router.get("/ServiceProviderConfig")
async def service_provider_config(caller: ScimCaller) -> Response:
    """What this service provider supports (RFC 7644 §4)."""
    return ScimResponse(_dump(SERVICE_PROVIDER_CONFIG, Context.RESOURCE_QUERY_RESPONSE))


def _listed(model: Any, resources: list[Any]) -> dict[str, Any]:
    listing = ListResponse[model](
        total_results=len(resources),
        start_index=1,
        items_per_page=len(resources),
        resources=resources,
    )
    return _dump(listing, Context.RESOURCE_QUERY_RESPONSE)


@router.get("/Schemas")
async def schemas(caller: ScimCaller) -> Response:
    """The schemas of the User resource and its enterprise extension, as mentorflow keeps them."""
    return ScimResponse(_listed(Schema, list(SCHEMAS)))


@router.get("/Schemas/{schema_id}")
async def schema(schema_id: str, caller: ScimCaller) -> Response:
    """One schema."""
    for candidate in SCHEMAS:
        if candidate.id == schema_id:
            return ScimResponse(_dump(candidate, Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail=f"no schema {schema_id}")


@router.get("/ResourceTypes")
async def resource_types(caller: ScimCaller) -> Response:
    """The resource types served: User."""
    return ScimResponse(_listed(ResourceType, list(RESOURCE_TYPES)))


@router.get("/ResourceTypes/{type_id}")
async def resource_type(type_id: str, caller: ScimCaller) -> Response:
    """One resource type."""
    for candidate in RESOURCE_TYPES:
        if candidate.id == type_id:
            return ScimResponse(_dump(candidate, Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail=f"no resource type {type_id}")


@router.post("/.search")
async def search_everything(caller: ScimCaller) -> Response:
    """Searching every resource type at once is not supported."""
    raise NotImplementedException(detail="search /Users instead")


# -- Users --------------------------------------------------------------------------------


def _page_bounds(request: Request) -> tuple[int, int]:
    query = request.query_params
    try:
        start = int(query.get("startIndex", "1"))
        count = int(query.get("count", str(MAX_RESULTS)))
    except ValueError:
        raise InvalidValueException(detail="startIndex and count are integers") from None
    return max(start, 1), min(max(count, 0), MAX_RESULTS)


@router.get("/Users")
async def list_users(request: Request, services: Services, caller: ScimCaller) -> Response:
    """Users, optionally filtered (``filter``), a page at a time (``startIndex``, ``count``)."""
    parameters = _response_parameters(request)
    start, count = _page_bounds(request)
    text = request.query_params.get("filter")
    try:
        condition = ScimFilter[ScimUser](text) if text else None
    except SCIMException as error:
        raise InvalidFilterException(detail=str(error)) from None
    base_url = _base_url(request)
    users = [
        to_user(state, base_url)
        for state in await _directory(services).all_people()
        if _visible(state)
    ]
    matching = [user for user in users if condition is None or condition.match(user)]
    page = matching[start - 1 : start - 1 + count]
    listing = ListResponse[ScimUser](
        total_results=len(matching), start_index=start, items_per_page=len(page), resources=page
    )
    return ScimResponse(_dump(listing, Context.RESOURCE_QUERY_RESPONSE, parameters))


@router.post("/Users")
async def create_user(request: Request, services: Services, caller: ScimCaller) -> Response:
    """Create a person (201 with the User; 409 when the userName is taken)."""
    user = _parse_user(await _body(request), Context.RESOURCE_CREATION_REQUEST)
    directory = _directory(services)
    person_id = f"u-{uuid.uuid4().hex[:16]}"
    await _ensure_unique(directory, user.user_name or "", person_id)
    state = await _record(directory, person_id, to_desired(user, None))
    created = to_user(state, _base_url(request))
    return ScimResponse(
        _dump(created, Context.RESOURCE_CREATION_RESPONSE),
        status_code=201,
        headers={"Location": created.meta.location},
    )


@router.get("/Users/{person_id}")
async def get_user(
    person_id: str, request: Request, services: Services, caller: ScimCaller
) -> Response:
    """One User."""
    state = await _person(_directory(services), person_id)
    user = to_user(state, _base_url(request))
    parameters = _response_parameters(request)
    return ScimResponse(_dump(user, Context.RESOURCE_QUERY_RESPONSE, parameters))


@router.put("/Users/{person_id}")
async def replace_user(
    person_id: str, request: Request, services: Services, caller: ScimCaller
) -> Response:
    """Replace a User's attributes (those left out are cleared)."""
    user = _parse_user(await _body(request), Context.RESOURCE_REPLACEMENT_REQUEST)
    directory = _directory(services)
    current = await _person(directory, person_id)
    await _ensure_unique(directory, user.user_name or "", person_id)
    state = await _record(directory, person_id, to_desired(user, current))
    replaced = to_user(state, _base_url(request))
    return ScimResponse(_dump(replaced, Context.RESOURCE_REPLACEMENT_RESPONSE))


@router.patch("/Users/{person_id}")
async def patch_user(
    person_id: str, request: Request, services: Services, caller: ScimCaller
) -> Response:
    """Apply RFC 7644 PATCH operations (add, replace, remove) to a User."""
    body = await _body(request)
    directory = _directory(services)
    current = await _person(directory, person_id)
    user = to_user(current, _base_url(request))
    try:
        with POLICY:
            operations = PatchOp[ScimUser].model_validate(
                body, scim_ctx=Context.RESOURCE_PATCH_REQUEST
            )
            operations.patch(user)
    except ValidationError as error:
        raise InvalidValueException(detail=_problems(error)) from None
    if user.user_name != (current.profile.user_name if current.profile else None):
        await _ensure_unique(directory, user.user_name or "", person_id)
    state = await _record(directory, person_id, to_desired(user, current))
    patched = to_user(state, _base_url(request))
    return ScimResponse(_dump(patched, Context.RESOURCE_PATCH_RESPONSE))


@router.delete("/Users/{person_id}", status_code=204)
async def delete_user(person_id: str, services: Services, caller: ScimCaller) -> Response:
    """Deactivate a person as deleted: the User is gone (404) from then on."""
    directory = _directory(services)
    current = await _person(directory, person_id)
    profile = current.profile
    assert profile is not None  # visible people have one
    await _record(directory, person_id, DesiredPerson(profile, active=False, removed=True))
    return Response(status_code=204)


@router.api_route(
    "/{unknown:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown_endpoint(unknown: str, request: Request, caller: ScimCaller) -> Response:
    """Anything else under the prefix: 405 for a known endpoint, otherwise a SCIM 404."""
    if unknown.split("/", 1)[0] in ENDPOINTS:
        raise MethodNotAllowed(detail=f"{request.method} is not supported here")
    raise NotFoundException(detail="no such SCIM endpoint")


# -- errors -------------------------------------------------------------------------------


async def _scim_error(request: StarletteRequest, error: Exception) -> Response:
    assert isinstance(error, SCIMException)
    payload = error.to_error().model_dump()
    return ScimResponse(payload, status_code=error.status)


def install_scim(app: FastAPI) -> None:
    """Serve SCIM at `PREFIX`, its errors as SCIM error messages."""
    app.include_router(router)
    app.add_exception_handler(SCIMException, _scim_error)
