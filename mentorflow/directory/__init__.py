"""The people directory: a person's profile as events on ``person-{id}``, written idempotently.

See `mentorflow.directory.service`.
"""

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
    "DirectoryBusy",
    "DirectoryError",
    "PeopleDirectory",
    "PersonIsForgotten",
    "ProfileInvalid",
    "migrate_directory",
]
