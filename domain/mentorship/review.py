"""The career-development summary drafted for a mentee's performance review.

Built from facts only (goals, skills, action items, conversation counts, feedback counts);
private notes and free-text feedback never enter it. The mentee may reword it before sharing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from domain.mentorship.state import MentorshipState
from events.mentorship import ReviewSummary

_THEMES = 5


def draft_review_summary(state: MentorshipState, now: datetime) -> ReviewSummary:
    """Draft the summary of the relationship so far."""
    goals = [
        f"{goal.horizon}-term goal {goal.goal_id}: {goal.status}, {goal.progress}% progress"
        for goal in sorted(state.goals.values(), key=lambda goal: goal.goal_id)
        if goal.status != "dropped"
    ]
    completed = sum(item.status == "completed" for item in state.action_items.values())
    overdue = len(state.action_items_overdue_at(now))
    skill_counts = Counter(state.skills_worked_on)
    skill_counts.update(challenge.skill for challenge in state.challenges.values())
    themes = [f"worked on {skill}" for skill, _ in skill_counts.most_common(_THEMES)]
    if state.feedback_to_mentee_count:
        themes.append(f"received feedback in {state.feedback_to_mentee_count} conversations")
    if state.feedback_to_mentor_count:
        themes.append(f"gave feedback in {state.feedback_to_mentor_count} conversations")
    held, expected = state.conversations_held, state.conversations_expected()
    text = (
        f"Held {held} of {expected} expected career conversations. "
        f"Goals: {'; '.join(goals) or 'none recorded'}. "
        f"Skills developed: {', '.join(state.skills_worked_on) or 'none recorded'}. "
        f"Action items: {completed} completed, {overdue} overdue."
    )
    return ReviewSummary(
        goals=goals,
        skills_developed=list(state.skills_worked_on),
        action_items_completed=completed,
        action_items_overdue=overdue,
        conversations_held=held,
        conversations_expected=expected,
        feedback_themes=themes,
        text=text,
    )
