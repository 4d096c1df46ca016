"""Events of a person's own stream (``person-{person_id}``): the directory and forgetting.

The directory (HR's system of record, fed by SCIM or a CSV import) records who a person is
(`PersonProfiled`, then `ProfileUpdated` with the changed fields only), who their manager is
(`ManagerChanged`) and whether they still work here (`PersonDeactivated`,
`PersonReactivated`). Names, user names and email addresses are personal data of the stream's
person (`AuthorText`, sealed in the store); ids, the department, the time zone, languages,
skills and objectives stay clear so that matching and analytics keep working.

The person themselves edits the fields that are theirs (time zone, languages, skills, skills
wanted, career objectives): a `ProfileUpdated` with source ``self``. With their consent they
also answer a short personality questionnaire, scored into Big Five traits
(`TraitsAssessed`, the scores only, never the answers) until they withdraw that consent
(`TraitsConsentWithdrawn`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.base import DomainEvent
from events.personal import AuthorText

ProfileSource = Literal["scim", "csv", "api", "cli"]
"""Which way into mentorflow recorded a directory change."""
ProfileUpdateSource = Literal["scim", "csv", "api", "cli", "self"]
"""Who recorded a profile change: a way in of HR's, or ``self``, the person themselves
(`ProfileUpdated` v2; the other events keep `ProfileSource`)."""


class _PersonEvent(DomainEvent):
    stream_type: ClassVar[str] = "person"
    person_id: str = Field(description="The person (the stream's own id after 'person-')")


class PersonProfile(BaseModel):
    """A person as the directory knows them (each field empty when unknown).

    ``skills``, ``wants_to_develop``, ``career_objectives``, ``languages`` and ``timezone`` mean
    what they mean in a cohort spec's participant.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_name: AuthorText = Field(default="", description="Sign-in name, usually the email")
    name: AuthorText = Field(default="", description="Display name (personal data)")
    given_name: AuthorText = ""
    family_name: AuthorText = ""
    email: AuthorText = ""
    email_type: str = Field(default="", description="work, home, … as the HR system says")
    external_id: str = Field(default="", description="The HR system's own id of the person")
    employee_number: str = ""
    department: str = ""
    manager_id: str | None = Field(default=None, description="The manager's person id")
    timezone: str = Field(default="", description="IANA time zone name")
    languages: list[str] = Field(default_factory=list)
    skills: dict[str, int] = Field(default_factory=dict, description="Skill name to level 0..5")
    wants_to_develop: list[str] = Field(default_factory=list)
    career_objectives: list[str] = Field(default_factory=list)


class PersonProfiled(_PersonEvent):
    """The directory learnt of a person: their first profile."""

    event_type: Literal["PersonProfiled"] = "PersonProfiled"
    profile: PersonProfile
    source: ProfileSource


class ProfileChanges(BaseModel):
    """The fields of a profile that changed, with their new values.

    A field left out (null) did not change; an empty string or list is a cleared field. The
    manager changes through `ManagerChanged`, never here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_name: AuthorText | None = None
    name: AuthorText | None = None
    given_name: AuthorText | None = None
    family_name: AuthorText | None = None
    email: AuthorText | None = None
    email_type: str | None = None
    external_id: str | None = None
    employee_number: str | None = None
    department: str | None = None
    timezone: str | None = None
    languages: list[str] | None = None
    skills: dict[str, int] | None = None
    wants_to_develop: list[str] | None = None
    career_objectives: list[str] | None = None


class ProfileUpdated(_PersonEvent):
    """Some fields of a person's profile changed (only those are in ``changes``).

    Version 2 added the source ``self``: the person edited their own fields (time zone,
    languages, skills, skills wanted, career objectives; never a field the HR system owns).
    Every version 1 event is a valid version 2 one (`events.upcasters`).
    """

    event_type: Literal["ProfileUpdated"] = "ProfileUpdated"
    schema_version: ClassVar[int] = 2
    changes: ProfileChanges
    source: ProfileUpdateSource

    def to_data(self) -> dict[str, Any]:
        """The event's own fields, without the fields that did not change."""
        return self.model_dump(mode="json", exclude={"event_type"}, exclude_none=True)


class ManagerChanged(_PersonEvent):
    """A person reports to another manager now (or to none)."""

    event_type: Literal["ManagerChanged"] = "ManagerChanged"
    manager_id: str | None = Field(description="The new manager's person id; null: none")
    previous_manager_id: str | None = None
    source: ProfileSource


class PersonDeactivated(_PersonEvent):
    """A person no longer takes part: they left the company, or the HR system removed them."""

    event_type: Literal["PersonDeactivated"] = "PersonDeactivated"
    deactivated_at: AwareDatetime
    reason: Literal["hris", "deleted", "hr"] = Field(
        description=(
            "hris: the HR system marked them inactive; deleted: the provisioning client deleted "
            "them (SCIM DELETE: they are gone from its view); hr: HR deactivated them here"
        )
    )
    source: ProfileSource


class PersonReactivated(_PersonEvent):
    """A deactivated person takes part again (they came back, or the HR system says so)."""

    event_type: Literal["PersonReactivated"] = "PersonReactivated"
    reactivated_at: AwareDatetime
    source: ProfileSource


class PersonForgotten(DomainEvent):
    """A person was forgotten on request: their data key is gone.

    Every personal value sealed for them (store, bus, read models, backups) can no longer be
    opened and reads as ``[erased]``; ids, stages, dates and counts remain. Subscribers that
    keep copies of a person's data erase them when they see this event.
    """

    stream_type: ClassVar[str] = "person"
    event_type: Literal["PersonForgotten"] = "PersonForgotten"
    person_id: str
    forgotten_at: AwareDatetime
    requested_by: str = Field(
        description="Who asked: the role and token id (hr_admin:tok_…), or cli"
    )


class BigFiveScores(BaseModel):
    """The Big Five as the matching reads them (a cohort spec's ``traits``), each 0 to 1.

    0 is the lowest score the instrument can give, 1 the highest; ``emotional_stability`` is
    the reverse of neuroticism.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    openness: float = Field(ge=0.0, le=1.0)
    conscientiousness: float = Field(ge=0.0, le=1.0)
    extraversion: float = Field(ge=0.0, le=1.0)
    agreeableness: float = Field(ge=0.0, le=1.0)
    emotional_stability: float = Field(ge=0.0, le=1.0)


class TraitsAssessed(_PersonEvent):
    """The person answered a personality questionnaire, with consent: their scored traits.

    Only the scores are recorded, never the answers. They replace any earlier ones.
    """

    event_type: Literal["TraitsAssessed"] = "TraitsAssessed"
    instrument: Literal["Mini-IPIP"] = Field(
        description="The questionnaire: Mini-IPIP (Donnellan, Oswald, Baird & Lucas, 2006)"
    )
    traits: BigFiveScores
    consented_at: AwareDatetime = Field(
        description="When the person agreed that their answers be scored and the scores kept"
    )


class TraitsConsentWithdrawn(_PersonEvent):
    """The person withdrew their consent: their traits are no longer kept or used."""

    event_type: Literal["TraitsConsentWithdrawn"] = "TraitsConsentWithdrawn"
    withdrawn_at: AwareDatetime
