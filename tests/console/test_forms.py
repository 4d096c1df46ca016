"""Console forms: a form becomes the command the API would get, problems go to their field."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import FormData, UploadFile

from domain.mentorship.catalog import BY_UPDATE
from domain.mentorship.commands import GiveFeedback, LogConversation
from mentorflow.console.forms import GENERAL, FormInvalid, read_command, sort_problems
from mentorflow.console.web import time_zone_or_utc


def _form(**fields: str | list[str]) -> FormData:
    items: list[tuple[str, str | UploadFile]] = []
    for name, value in fields.items():
        key = name.replace("__", "-")
        items += [(key, item) for item in value] if isinstance(value, list) else [(key, value)]
    return FormData(items)


def test_a_conversation_form_becomes_the_command_with_times_in_the_viewers_zone() -> None:
    form = _form(
        held_at="2027-01-25T10:00",
        goal_ids=["g-1", "g-2"],
        skills="listening, stakeholder-management",
        action_items__0__description="Draft the proposal",
        action_items__0__owner="mentee",
        action_items__0__due_at="2027-02-01T09:30",
        action_items__1__description="",  # an empty row is no item
        action_items__1__owner="mentor",
        action_items__1__due_at="",
    )

    command = read_command(BY_UPDATE["log_conversation"], form, "Europe/Berlin", {})

    berlin = ZoneInfo("Europe/Berlin")
    assert isinstance(command, LogConversation)
    assert command.held_at == datetime(2027, 1, 25, 10, 0, tzinfo=berlin)
    assert command.goal_ids == ["g-1", "g-2"]
    assert command.skills == ["listening", "stakeholder-management"]
    assert [item.description for item in command.action_items] == ["Draft the proposal"]
    assert command.action_items[0].due_at == datetime(2027, 2, 1, 9, 30, tzinfo=berlin)
    assert command.actor is None  # the change path sets it from the viewer


def test_the_edge_models_errors_come_back_by_field() -> None:
    form = _form(
        held_at="not a date",
        action_items__0__description="x\x00y",
        action_items__0__owner="mentee",
        action_items__0__due_at="2027-02-01T09:30",
    )

    with pytest.raises(FormInvalid) as invalid:
        read_command(BY_UPDATE["log_conversation"], form, "UTC", {})

    problems = invalid.value.problems.by_field
    assert set(problems) == {"held_at", "action_items"}
    assert problems["action_items"][0].startswith("Action item 1, description:")


def test_ratings_left_empty_are_not_given_and_path_values_count() -> None:
    form = _form(usefulness="5", listening="", clarity="4", comment="")

    command = read_command(BY_UPDATE["give_feedback"], form, "UTC", {"conversation_number": "2"})

    assert command == GiveFeedback(conversation_number=2, usefulness=5, clarity=4)


def test_the_rules_problems_go_next_to_the_field_they_are_about() -> None:
    problems = sort_problems(
        LogConversation,
        [
            "a conversation must conclude with an action plan of at least one item",
            "a conversation must discuss at least one of the mentee's goals",
            "held_at is in the future",
            "action_items[0].due_at must be after held_at",
            "cannot log a conversation while the relationship is closed",
        ],
    ).by_field

    assert problems == {
        "action_items": [
            "a conversation must conclude with an action plan of at least one item",
            "action_items[0].due_at must be after held_at",
        ],
        "goal_ids": ["a conversation must discuss at least one of the mentee's goals"],
        "held_at": ["held_at is in the future"],
        GENERAL: ["cannot log a conversation while the relationship is closed"],
    }


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert time_zone_or_utc("Europe/Berlin") == "Europe/Berlin"
    assert time_zone_or_utc("Mars/Olympus") == "UTC"
    assert time_zone_or_utc("") == "UTC"
