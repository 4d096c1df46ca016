"""The SCIM 2.0 resources mentorflow serves: the attributes of a User it keeps, no more.

The models reuse the schema URIs of RFC 7643 (core User and the enterprise extension) but
declare only the attributes the directory stores, so ``/Schemas`` tells a provisioning
client exactly what mentorflow keeps. Attributes a client sends beyond these (``title``,
``phoneNumbers``, ``addresses``, …) are accepted and ignored, as RFC 7643 §2 allows a
service provider that does not support them.
"""

from __future__ import annotations

from typing import Annotated

from scim2_models import (
    URN,
    AnyExtension,
    CaseExact,
    ComplexAttribute,
    Extension,
    Required,
    Resource,
    ResourceType,
    Uniqueness,
)


class PersonName(ComplexAttribute):
    """The parts of a person's name the directory keeps."""

    family_name: str | None = None
    """The family name (last name in most Western languages)."""
    given_name: str | None = None
    """The given name (first name in most Western languages)."""


class PersonEmail(ComplexAttribute):
    """An email address; the directory keeps one (the first), which it serves as primary."""

    value: str | None = None
    """The address."""
    type: str | None = None
    """Its kind: work, home, other."""


class PersonManager(ComplexAttribute):
    """The person's manager, by id."""

    value: Annotated[str | None, CaseExact.true] = None
    """The id of the manager's User resource (their person id)."""


class DirectoryEnterpriseUser(Extension):
    """The enterprise extension's attributes the directory keeps."""

    __schema__ = URN("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")

    employee_number: str | None = None
    """The HR system's employee number."""
    department: str | None = None
    """The person's department."""
    manager: PersonManager | None = None
    """The person's manager."""


class DirectoryUser(Resource[AnyExtension]):
    """A person of the directory as a SCIM User (its ``id`` is the person id)."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    """The unique sign-in name, usually the email address."""
    name: PersonName | None = None
    """The person's name."""
    display_name: str | None = None
    """The name to show."""
    emails: list[PersonEmail] | None = None
    """Email addresses (one is kept)."""
    active: bool | None = None
    """Whether the person takes part (false: deactivated)."""


ScimUser = DirectoryUser[DirectoryEnterpriseUser]
"""A User with the enterprise extension, as ``/Users`` serves it."""
USER_RESOURCE_TYPE = ResourceType.from_resource(ScimUser)
