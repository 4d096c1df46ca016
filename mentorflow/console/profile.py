"""The participant's profile pages: ``/profile`` (their own directory fields) and
``/profile/personality`` (the Mini-IPIP questionnaire, taken with consent, and its withdrawal).

Reading and saving are the API's own routes, called as functions (`mentorflow.api.profile`),
so the same rules hold: only the person changes their own fields and traits. The pages are
the signed-in participant's own; HR (who signs in without a person id) and a person the
directory does not know get a page that says so (404).

Every POST carries the session's form token and counts against the write rate limit
(`CheckedForm`). A bad form is the page again with every problem next to its input (422),
and nothing is recorded; a saved one redirects to the page with ``?saved=…`` (303).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from domain.personality import CITATION, INSTRUCTION, ITEMS, SCALE
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, InvalidInput, NotFound
from mentorflow.api.models.profile import ProfileView, TraitsAssessmentRequest, TraitsView
from mentorflow.api.profile import (
    delete_traits,
    get_profile,
    get_traits,
    put_profile,
    put_traits,
)
from mentorflow.console.auth import CheckedForm, SignedIn, Viewer
from mentorflow.console.forms import GENERAL, FieldProblems, FormInvalid
from mentorflow.console.profile_form import (
    LEVELS,
    ProfileForm,
    form_of,
    read_profile_form,
    sort_problems,
    typed_form,
)
from mentorflow.console.relationship_view import Failed
from mentorflow.console.web import error_page, render, time_zone_names, time_zone_or_utc

router = APIRouter(include_in_schema=False)
PATH = "/profile"
PERSONALITY_PATH = "/profile/personality"
WITHDRAW_PATH = "/profile/personality/withdraw"
PROFILE_FORM = "profile"
TRAITS_FORM = "traits"
SAVED = {
    "profile": "Saved: your profile is updated.",
    "traits": "Saved: your traits are scored and kept. Your answers were not kept.",
    "withdrawn": "Done: your consent is withdrawn and your traits are removed.",
}
"""The confirmations of ``?saved=…``; any other value shows none."""
NOT_IN_DIRECTORY = (
    "Your profile is not in the people directory yet. HR adds people from the HR system; "
    "ask HR if you expected to be there."
)
TRAIT_NAMES = {
    "openness": "Openness",
    "conscientiousness": "Conscientiousness",
    "extraversion": "Extraversion",
    "agreeableness": "Agreeableness",
    "emotional_stability": "Emotional stability",
}


@router.get(PATH)
async def profile_page(
    request: Request, services: Services, viewer: SignedIn, saved: str | None = None
) -> Response:
    """The participant's profile: their own fields to edit, the HR system's to read."""
    loaded = await _profile(services, viewer)
    if loaded is None:
        return _not_in_directory(request, viewer)
    return _profile_page(request, viewer, loaded, form_of(loaded.own), saved=saved)


@router.post(PATH)
async def save_profile(
    request: Request, services: Services, viewer: SignedIn, form: CheckedForm
) -> Response:
    """Save the profile form; back to the page."""
    loaded = await _profile(services, viewer)
    if loaded is None or viewer.person_id is None:
        return _not_in_directory(request, viewer)
    try:
        body = read_profile_form(form)
        await put_profile(viewer.person_id, body, services, viewer.principal)
    except NotFound:  # forgotten since it was read
        return _not_in_directory(request, viewer)
    except (FormInvalid, ApiError) as refusal:
        failed = Failed(PROFILE_FORM, _profile_problems(refusal), {})
        return _profile_page(request, viewer, loaded, typed_form(form), failed=failed)
    return RedirectResponse(f"{PATH}?saved=profile", status_code=303)


@router.get(PERSONALITY_PATH)
async def personality_page(
    request: Request, services: Services, viewer: SignedIn, saved: str | None = None
) -> Response:
    """The questionnaire, and the traits kept (with the way to withdraw consent)."""
    loaded = await _traits(services, viewer)
    if loaded is None:
        return _not_in_directory(request, viewer)
    return await _personality_page(request, services, viewer, loaded, saved=saved)


@router.post(PERSONALITY_PATH)
async def answer_questionnaire(
    request: Request, services: Services, viewer: SignedIn, form: CheckedForm
) -> Response:
    """Score the answers and keep the traits, with consent; back to the page."""
    loaded = await _traits(services, viewer)
    if loaded is None or viewer.person_id is None:
        return _not_in_directory(request, viewer)
    try:
        body = _read_answers(form)
        await put_traits(viewer.person_id, body, services, viewer.principal)
    except NotFound:
        return _not_in_directory(request, viewer)
    except (FormInvalid, ApiError) as refusal:
        problems = refusal.problems if isinstance(refusal, FormInvalid) else _general(refusal)
        failed = Failed(TRAITS_FORM, problems, _typed_answers(form))
        return await _personality_page(request, services, viewer, loaded, failed=failed)
    return RedirectResponse(f"{PERSONALITY_PATH}?saved=traits", status_code=303)


@router.post(WITHDRAW_PATH)
async def withdraw_consent(
    request: Request, services: Services, viewer: SignedIn, form: CheckedForm
) -> Response:
    """Withdraw consent: the traits are removed; back to the page."""
    del form  # checked: the session's form token
    if viewer.person_id is None:
        return _not_in_directory(request, viewer)
    try:
        await delete_traits(viewer.person_id, services, viewer.principal)
    except NotFound:
        return _not_in_directory(request, viewer)
    return RedirectResponse(f"{PERSONALITY_PATH}?saved=withdrawn", status_code=303)


async def _profile(services: ApiServices, viewer: Viewer) -> ProfileView | None:
    if viewer.person_id is None:
        return None
    try:
        return await get_profile(viewer.person_id, services, viewer.principal)
    except NotFound:
        return None


async def _traits(services: ApiServices, viewer: Viewer) -> TraitsView | None:
    if viewer.person_id is None:
        return None
    try:
        return await get_traits(viewer.person_id, services, viewer.principal)
    except NotFound:
        return None


def _profile_problems(refusal: FormInvalid | ApiError) -> FieldProblems:
    if isinstance(refusal, FormInvalid):
        return refusal.problems
    if isinstance(refusal, InvalidInput) and refusal.problems:
        return sort_problems(refusal.problems)
    return _general(refusal)


def _general(refusal: ApiError) -> FieldProblems:
    problems = FieldProblems()
    problems.add(GENERAL, refusal.message[:1].upper() + refusal.message[1:] + ".")
    return problems


def _profile_page(
    request: Request,
    viewer: Viewer,
    loaded: ProfileView,
    form: ProfileForm,
    *,
    saved: str | None = None,
    failed: Failed | None = None,
) -> Response:
    zone = time_zone_or_utc(loaded.own.timezone or viewer.time_zone)
    context: dict[str, Any] = {
        "viewer": viewer,
        "profile": loaded,
        "form": form,
        "zones": time_zone_names(),
        "levels": LEVELS,
        "saved": SAVED.get(saved or "") if saved == "profile" else None,
        "failed": failed,
        "form_id": PROFILE_FORM,
        "general": GENERAL,
        "zone": zone,
    }
    return render(request, "profile.html", context, status_code=422 if failed else 200)


async def _personality_page(
    request: Request,
    services: ApiServices,
    viewer: Viewer,
    loaded: TraitsView,
    *,
    saved: str | None = None,
    failed: Failed | None = None,
) -> Response:
    profile = await _profile(services, viewer)
    own_zone = profile.own.timezone if profile is not None else ""
    context: dict[str, Any] = {
        "viewer": viewer,
        "traits": loaded,
        "trait_names": TRAIT_NAMES,
        "items": ITEMS,
        "scale": SCALE,
        "instruction": INSTRUCTION,
        "citation": CITATION,
        "saved": SAVED.get(saved or "") if saved in ("traits", "withdrawn") else None,
        "failed": failed,
        "form_id": TRAITS_FORM,
        "general": GENERAL,
        "zone": time_zone_or_utc(own_zone or viewer.time_zone),
    }
    return render(request, "personality.html", context, status_code=422 if failed else 200)


def _item_field(number: int) -> str:
    return f"item-{number}"


def _typed_answers(form: FormData) -> dict[str, str]:
    names = [_item_field(item.number) for item in ITEMS]
    return {name: str(form.get(name) or "") for name in [*names, "consent"]}


def _read_answers(form: FormData) -> TraitsAssessmentRequest:
    """The API request body of a posted questionnaire.

    Raises:
        FormInvalid: An item without an answer (or with one not on the scale), or no consent.
    """
    problems = FieldProblems()
    answers: list[int] = []
    choices = {str(value): value for value, _ in SCALE}
    for item in ITEMS:
        value = str(form.get(_item_field(item.number)) or "")
        if value not in choices:
            problems.add(_item_field(item.number), "Choose one of the five answers.")
        else:
            answers.append(choices[value])
    if form.get("consent") != "yes":
        problems.add(
            "consent",
            "Tick the box to agree that your answers are scored and the scores kept; "
            "without it nothing is recorded.",
        )
    if problems:
        raise FormInvalid(problems)
    return TraitsAssessmentRequest(consent=True, answers=list(answers))


def _not_in_directory(request: Request, viewer: Viewer) -> Response:
    """The page of HR and of a person the directory does not know (or forgot)."""
    if viewer.is_hr:
        return error_page(request, 404, "Not found", "There is no such page.", viewer)
    return error_page(request, 404, "No profile yet", NOT_IN_DIRECTORY, viewer)
