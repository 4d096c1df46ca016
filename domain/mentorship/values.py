"""Value objects of a relationship shared by the state, the workflow and the read models.

A goal is stated by the mentee with the same five fields everywhere it travels (the domain
state, the goals a rematched mentee carries into the next relationship, the development-plan
read model); an action item has an owner, a description and a due date. Each model that
holds one inherits these fields from here instead of declaring them again.

Their fields say what they accept from outside (`domain.edge.AtEdge`), for the commands built
on them (`commands.AddGoal`, `commands.ActionItemInput`); inside the domain that is inert.
Events are facts with published schemas and keep declaring their own fields
(`events.mentorship.GoalSet`, `events.mentorship.ActionItem`, typed as personal text); these
models declare the same names, and a model built from an event takes the event's values as
they are.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from domain.edge import AtEdge, Text
from domain.text import ShortText
from events.mentorship import GoalHorizon, ItemOwner

GoalStatus = Literal["active", "achieved", "dropped"]
ActionItemStatus = Literal["open", "completed"]


class GoalFields(BaseModel):
    """A career goal as the mentee states it: horizon, wording, motivation and target."""

    horizon: GoalHorizon = Field(description="short or long term")
    description: Text = Field(examples=["Lead a design review"])
    motivation: Text = ""
    strengths: Annotated[list[str], AtEdge(Annotated[list[ShortText], Field(max_length=20)])] = (
        Field(default_factory=list, description="Strengths to build on (≤ 20)")
    )
    target_date: AwareDatetime | None = Field(
        default=None, description="ISO 8601 with offset, in the future"
    )


class GoalProgress(GoalFields):
    """A goal and where it stands: still pursued, achieved or dropped, and how far along."""

    status: GoalStatus = "active"
    progress: int = 0


class ActionItemFields(BaseModel):
    """One step of an action plan: who does what by when."""

    owner: ItemOwner = Field(description="Who does it")
    description: Text = Field(examples=["Draft the design-review proposal"])
    due_at: AwareDatetime = Field(description="ISO 8601 with offset, after held_at")
