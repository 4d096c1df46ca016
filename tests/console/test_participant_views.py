"""What participant pages compute: the conversation history, the next step, names and zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import FormData

from domain.mentorship.catalog import BY_UPDATE
from domain.mentorship.commands import SetChallenge, SubmitSurvey
from domain.mentorship.state import ActionItemState
from mentorflow.api.models.mentorship_views import MentorshipOverview
from mentorflow.console.forms import FormInvalid, read_command
from mentorflow.console.history import conversation_history
from mentorflow.console.participants import next_step
from mentorflow.console.people import People, zone_for
from tests.api.support import terms
from workflows.cohort_models import ParticipantCard
from workflows.mentorship_models import MentorshipSnapshot

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _item(item_id: str, conversation_number: int, days: int) -> ActionItemState:
    return ActionItemState(
        item_id=item_id,
        owner="mentee",
        description=f"item {item_id}",
        due_at=NOW + timedelta(days=days),
        conversation_number=conversation_number,
    )


def _snapshot(**values: object) -> MentorshipSnapshot:
    parties = {"stream_id": "mentorship-c-m", "mentor_id": "p-1", "mentee_id": "p-2"}
    return MentorshipSnapshot.model_validate({**parties, "terms": terms("c"), **values})


def test_history_lists_held_and_missed_conversations_newest_first_with_their_plans() -> None:
    state = _snapshot(
        conversations_held=2,
        total_misses=2,  # the third, and one after the last held
        conversation_times={1: NOW, 2: NOW + timedelta(days=14)},
        action_items={
            "a-2": _item("a-2", 1, 9),
            "a-1": _item("a-1", 1, 7),
            "a-3": _item("a-3", 2, 20),
            "a-0": _item("a-0", 0, 5),  # carried over from an earlier relationship
        },
    )

    history = conversation_history(state)

    assert [(entry.number, entry.held) for entry in history] == [
        (4, False),
        (3, False),
        (2, True),
        (1, True),
    ]
    assert [item.item_id for item in history[3].action_plan] == ["a-1", "a-2"]
    assert [item.item_id for item in history[2].action_plan] == ["a-3"]
    assert history[0].action_plan == []


def test_a_relationship_without_conversations_has_an_empty_history() -> None:
    assert conversation_history(_snapshot()) == []


def _overview(stage: str, **values: object) -> MentorshipOverview:
    figures: dict[str, object] = {
        "stage": stage,
        "match_score": 0.8,
        "rematch_of": None,
        "matched_at": NOW,
        "conversations_held": 0,
        "conversations_missed": 0,
        "conversations_expected": 0,
        "consecutive_misses": 0,
        "last_conversation_at": None,
        "next_conversation_due": None,
        "action_items_open": 0,
        "action_items_overdue": 0,
        "action_items_completed": 0,
        "escalations": 0,
        "closure_reason": None,
        "updated_at": NOW,
    }
    return MentorshipOverview.model_validate({**figures, **values})


def test_the_next_step_follows_the_stage_and_what_is_behind() -> None:
    assert "onboarding" in next_step(_overview("onboarding"))
    assert next_step(_overview("active", action_items_overdue=2)) == (
        "Catch up on 2 overdue action items"
    )
    assert "was missed" in next_step(_overview("active", consecutive_misses=1))
    assert next_step(_overview("active")).startswith("Hold the next conversation")
    assert next_step(_overview("closing")) == "Answer the closing survey"
    assert "ended" in next_step(_overview("closed"))


def test_names_languages_and_zones_come_from_the_cards_with_fallbacks() -> None:
    people = People(
        {
            "p-1": ParticipantCard(
                person_id="p-1", name="Zoë <Ñúñez>", timezone="Asia/Tokyo", languages=["ja", "en"]
            )
        }
    )

    assert people.person("p-1") == '<span lang="ja">Zoë &lt;Ñúñez&gt;</span>'
    assert people.person("p-9") == "<span>p-9</span>"  # unknown: the id, no lang
    assert zone_for("p-1", "Europe/Berlin", people) == "Asia/Tokyo"
    assert zone_for("p-9", "Europe/Berlin", people) == "Europe/Berlin"
    assert zone_for(None, "Not/AZone", People()) == "UTC"


def test_the_closing_survey_form_becomes_the_command_and_names_each_missing_answer() -> None:
    entry = BY_UPDATE["submit_survey"]
    answered = FormData(
        [("person_id", "p-2"), ("satisfaction", "5"), ("value", "4"), ("would_recommend", "false")]
    )

    command = read_command(entry, answered, "UTC", {})
    with pytest.raises(FormInvalid) as unanswered:
        read_command(entry, FormData([("person_id", "p-2"), ("comment", "")]), "UTC", {})

    assert command == SubmitSurvey(person_id="p-2", satisfaction=5, value=4, would_recommend=False)
    assert set(unanswered.value.problems.by_field) == {"satisfaction", "value", "would_recommend"}


def test_a_challenge_is_due_in_the_viewers_zone() -> None:
    form = FormData(
        [("skill", "negotiation"), ("description", "A vendor call"), ("due_at", "2099-02-01T09:00")]
    )

    command = read_command(BY_UPDATE["set_challenge"], form, "Asia/Tokyo", {})

    assert isinstance(command, SetChallenge)
    assert command.due_at == datetime(2099, 2, 1, 0, 0, tzinfo=UTC)
