"""The people directory: a person's profile as events on ``person-{id}``, written idempotently.

See `mentorflow.directory.service`.
"""

from mentorflow.directory.self_service import (
    AssessmentInvalid,
    PersonInactive,
    PersonNotInDirectory,
    assess_traits,
    edit_own_profile,
    withdraw_traits_consent,
)
from mentorflow.directory.service import (
    Applied,
    DirectoryBusy,
    DirectoryError,
    PeopleDirectory,
    PersonIsForgotten,
    ProfileInvalid,
    migrate_directory,
)

__all__ = [
    "Applied",
    "AssessmentInvalid",
    "DirectoryBusy",
    "DirectoryError",
    "PeopleDirectory",
    "PersonInactive",
    "PersonIsForgotten",
    "PersonNotInDirectory",
    "ProfileInvalid",
    "assess_traits",
    "edit_own_profile",
    "migrate_directory",
    "withdraw_traits_consent",
]
