"""Plain-word reasons: why a mentor suits a mentee, and why a mentee stays unmatched.

A pair's reasons are ranked by how much each fact adds to its weighted score, strongest first,
so the top few say what actually decided the match.
"""

from __future__ import annotations

import numpy as np

from matching.problem import Exclusion, MatchingProblem, primary_language
from matching.results import UnmatchedReason
from matching.scoring import WORKING_DAY_HOURS, Scores, time_zone_distance_hours

# A mentor "covers" a wanted skill at this level or above (0..5: competent and up).
COVERING_LEVEL = 3
# Traits closer than this count as "similar" in the reasons (the score uses the exact gap).
SIMILAR_TRAIT_GAP = 0.15
_SIMILARITY_TRAITS = ("openness", "conscientiousness", "agreeableness")
FALLBACK_REASON = "best available mentor within the hard constraints"

LANGUAGE_NAMES = {
    "ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese",
}  # fmt: skip


def _words(label: str) -> str:
    return label.replace("-", " ").replace("_", " ")


def _listing(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _hours(hours: float) -> str:
    return f"{hours:g} h"


def pair_reasons(
    problem: MatchingProblem,
    mentee: int,
    mentor: int,
    scores: Scores,
    position: int,
    limit: int = 3,
) -> list[str]:
    """The top reasons for one pair; ``scores`` are pair scores and ``position`` its index."""
    mentee_spec = problem.participants[problem.mentee_ids[mentee]]
    mentor_spec = problem.participants[problem.mentor_ids[mentor]]
    weight_skills, weight_objectives, weight_personality, weight_logistics = problem.weights
    candidates: list[tuple[float, str]] = []

    wanted = mentee_spec.wants_to_develop
    covered = [s for s in wanted if mentor_spec.skills.get(s, 0) >= COVERING_LEVEL]
    if covered:
        names = [_words(skill) for skill in covered]
        text = f"covers {len(covered)} of {len(wanted)} wanted skills ({_listing(names)})"
        if len(wanted) == 1:
            text = f"covers the wanted skill {names[0]}"
        candidates.append((weight_skills * float(scores.skills[position]), text))

    shared_tracks = sorted(set(mentee_spec.career_objectives) & set(mentor_spec.career_objectives))
    if shared_tracks:
        names = [_words(track) for track in shared_tracks]
        text = (
            f"same career track: {names[0]}"
            if len(names) == 1
            else f"shared career tracks: {_listing(names)}"
        )
        candidates.append((weight_objectives * float(scores.objectives[position]), text))

    if mentee_spec.traits is not None and mentor_spec.traits is not None:
        similar = [
            _words(trait)
            for trait in _SIMILARITY_TRAITS
            if abs(getattr(mentee_spec.traits, trait) - getattr(mentor_spec.traits, trait))
            <= SIMILAR_TRAIT_GAP
        ]
        if similar:
            text = f"similar work style ({', '.join(similar)})"
            candidates.append((weight_personality * float(scores.personality[position]), text))

    mentee_languages = {primary_language(code) for code in mentee_spec.languages}
    shared_languages = sorted(
        mentee_languages & {primary_language(code) for code in mentor_spec.languages}
    )
    if shared_languages:
        names = [LANGUAGE_NAMES.get(code, code) for code in shared_languages]
        label = "shared language" if len(names) == 1 else "shared languages"
        candidates.append((weight_logistics * 0.5, f"{label}: {_listing(names)}"))

    distance = float(
        time_zone_distance_hours(
            problem.mentee_utc_offset_hours[[mentee]], problem.mentor_utc_offset_hours[[mentor]]
        )[0]
    )
    overlap = max(0.0, WORKING_DAY_HOURS - distance) / WORKING_DAY_HOURS
    if overlap > 0:
        text = "same time zone" if distance == 0 else f"{_hours(distance)} time-zone difference"
        candidates.append((weight_logistics * 0.5 * overlap, text))

    ranked = sorted(candidates, key=lambda candidate: -candidate[0])
    reasons = [text for contribution, text in ranked if contribution > 0][:limit]
    return reasons or [FALLBACK_REASON]


def unmatched_reason(problem: MatchingProblem, mentee: int) -> tuple[UnmatchedReason, str]:
    """Why an optimal matching left a mentee without a mentor.

    When some mentor passes every hard constraint, the matching is optimal and still left the
    mentee out, so all of those mentors are at capacity (``problem.capacity`` is what was
    available to this matching).
    """
    _, mentors, flags = problem.forbidden_rows(mentee, mentee + 1)
    exclusion = np.zeros(problem.mentor_count, dtype=np.int64)
    exclusion[mentors] = flags
    others = (exclusion & Exclusion.SELF) == 0
    seniority = int(problem.mentee_seniority[mentee])
    gap = problem.min_seniority_gap
    senior = others & (problem.mentor_seniority - seniority >= gap)
    if not others.any():
        return UnmatchedReason.NO_OTHER_MENTOR, "no other mentor in the cohort"
    if not senior.any():
        if gap == 0:
            text = f"no mentor at the mentee's seniority level ({seniority}) or above"
        else:
            levels = "level" if gap == 1 else "levels"
            text = (
                f"no mentor at least {gap} seniority {levels} above (mentee is level {seniority})"
            )
        return UnmatchedReason.NO_SENIOR_MENTOR, text
    eligible = senior & (exclusion == 0)
    if not eligible.any():
        parts = []
        for flag, words in (
            (Exclusion.REPORTING_LINE, "in the reporting line"),
            (Exclusion.AVOID, "on an avoid list"),
            (Exclusion.EXCLUDED, "excluded for this match"),
        ):
            count = int((senior & ((exclusion & flag) != 0)).sum())
            if count:
                parts.append(f"{words} ({count})")
        text = "the only mentors senior enough are " + " or ".join(parts)
        return UnmatchedReason.ONLY_EXCLUDED_MENTORS, text
    count = int(eligible.sum())
    mentors_word = "mentor is" if count == 1 else "mentors are"
    return (
        UnmatchedReason.CAPACITY_EXHAUSTED,
        f"every eligible mentor is at capacity ({count} eligible {mentors_word} full)",
    )
