"""Between a directory person (`domain.person.PersonState`) and a SCIM User.

A User carries only what the provisioning client owns (names, user name, email, external id,
employee number, department, manager, active); the participant's own fields (time zone,
languages, skills, objectives) are kept from the current profile whatever the client sends,
as the directory reads it when it records the change (`DesiredPerson.kept`).
"""

from __future__ import annotations

from typing import Any

from scim2_models import Meta

from domain.person import OWN_FIELDS, DesiredPerson, PersonState
from events.person import PersonProfile
from mentorflow.api.scim_models import (
    DirectoryEnterpriseUser,
    PersonEmail,
    PersonManager,
    PersonName,
    ScimUser,
)


def user_location(base_url: str, person_id: str) -> str:
    """The URI of a person's User resource."""
    return f"{base_url.rstrip('/')}/Users/{person_id}"


def to_user(state: PersonState, base_url: str) -> Any:
    """The person as a SCIM User (``ScimUser``), with its meta."""
    profile = state.profile or PersonProfile()
    enterprise = DirectoryEnterpriseUser(
        schemas=[str(DirectoryEnterpriseUser.__schema__)],
        employee_number=profile.employee_number or None,
        department=profile.department or None,
        manager=(PersonManager(value=profile.manager_id) if profile.manager_id else None),
    )
    name = (
        PersonName(given_name=profile.given_name or None, family_name=profile.family_name or None)
        if profile.given_name or profile.family_name
        else None
    )
    emails = (
        [PersonEmail(value=profile.email, type=profile.email_type or None)]
        if profile.email
        else None
    )
    user = ScimUser(
        id=state.person_id,
        external_id=profile.external_id or None,
        user_name=profile.user_name,
        name=name,
        display_name=profile.name or None,
        emails=emails,
        active=state.active,
        meta=Meta(
            resource_type="User",
            created=state.created_at,
            last_modified=state.updated_at,
            location=user_location(base_url, state.person_id),
            version=f'W/"{state.version}"',
        ),
    )
    user[DirectoryEnterpriseUser] = enterprise
    return user


def _kept_email(emails: list[PersonEmail] | None) -> PersonEmail | None:
    """The first address (``primary``, unpublished, is not read)."""
    return emails[0] if emails else None


def to_desired(user: Any, current: PersonState | None) -> DesiredPerson:
    """What a User says the person should be (a ``ScimUser``; ``current`` when they exist).

    ``active`` left out keeps the person as they are (active when new).
    """
    before = current.profile if current is not None and current.profile else PersonProfile()
    enterprise: DirectoryEnterpriseUser | None = user[DirectoryEnterpriseUser]
    email = _kept_email(user.emails)
    manager = enterprise.manager if enterprise is not None else None
    profile = before.model_copy(
        update={
            "user_name": user.user_name or "",
            "name": user.display_name or "",
            "given_name": (user.name.given_name if user.name else None) or "",
            "family_name": (user.name.family_name if user.name else None) or "",
            "email": (email.value if email else None) or "",
            "email_type": (str(email.type) if email and email.type else ""),
            "external_id": user.external_id or "",
            "employee_number": (enterprise.employee_number if enterprise else None) or "",
            "department": (enterprise.department if enterprise else None) or "",
            "manager_id": (manager.value if manager else None) or None,
        }
    )
    if user.active is not None:
        active = bool(user.active)
    else:
        active = current.active if current is not None and current.known else True
    return DesiredPerson(profile=profile, active=active, kept=OWN_FIELDS)
