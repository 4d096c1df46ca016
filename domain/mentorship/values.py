"""Value objects of a relationship shared by the state, the workflow and the read models.

A goal is stated by the mentee with the same five fields everywhere it travels (the domain
state, the goals a rematched mentee carries into the next relationship, the development-plan
read model); an action item has an owner, a description and a due date. Each model that
holds one inherits these fields from here instead of declaring them again.

Events are facts with published schemas and keep declaring their own fields
(`events.mentorship.GoalSet`, `events.mentorship.ActionItem`, typed as personal text); these
models declare the same names, and a model built from an event takes the event's values as
they are. Commands and the API's models (`domain.mentorship.commands.AddGoal`,
`ActionItemInput`, the request bodies) can adopt them too: the names and types are theirs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from events.mentorship import GoalHorizon, ItemOwner

GoalStatus = Literal["active", "achieved", "dropped"]
ActionItemStatus = Literal["open", "completed"]


class GoalFields(BaseModel):
    """A career goal as the mentee states it: horizon, wording, motivation and target."""

    horizon: GoalHorizon
    description: str
    motivation: str = ""
    strengths: list[str] = Field(default_factory=list)
    target_date: AwareDatetime | None = None


class GoalProgress(GoalFields):
    """A goal and where it stands: still pursued, achieved or dropped, and how far along."""

    status: GoalStatus = "active"
    progress: int = 0


class ActionItemFields(BaseModel):
    """One step of an action plan: who does what by when."""

    owner: ItemOwner
    description: str
    due_at: AwareDatetime
