"""The notification-preferences page, ``/preferences``: the page every email's footer and
``List-Unsubscribe`` header link to.

Reading and saving are the API's own routes, called as functions
(`mentorflow.api.preferences.get_notification_preferences` and
`put_notification_preferences`), so the same rules hold: a participant reads and changes
their own choices only; HR anyone's; someone else's, or a forgotten person's, is the same 404
page as a person nobody has heard of.

Whose page:

* A participant's ``/preferences`` is their own. ``?person_id=`` may name themselves; any
  other id is the 404 page.
* HR signs in without a person id, but HR contacts have one (their id in the cohort spec,
  under which the notifier keeps their digest and quiet hours). HR's ``/preferences``
  without ``?person_id=`` is a short form asking whose preferences to open; it opens
  ``/preferences?person_id=…`` for anyone, participant or HR contact. Only HR's page has
  the digest choice.

``?unsubscribe=<category>`` (a link in an email) adds "Stop emails like this one?" above the
form, with a one-click button: a participant's kinds of email stop with the channel set to
none (the consent and status messages still come); the digest stops with the digest set to
off. Escalations and review outcomes go to every HR contact of the cohort whatever their
preferences, so for those the page says so instead of offering a button that would change
nothing. An unknown category is ignored.

Every POST carries the session's form token and counts against the write rate limit
(`CheckedForm`). A bad form is the page again with every problem next to its input (422),
and nothing is stored; a saved one redirects to the page with ``?saved=…`` (303).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, NotFound
from mentorflow.api.models.preferences import (
    NotificationPreferencesRequest,
    NotificationPreferencesView,
)
from mentorflow.api.preferences import (
    get_notification_preferences,
    put_notification_preferences,
)
from mentorflow.api.read_models import relationships_of
from mentorflow.console.auth import CheckedForm, SignedIn, Viewer
from mentorflow.console.forms import GENERAL, FieldProblems, FormInvalid
from mentorflow.console.people import People, people_of, viewer_zone
from mentorflow.console.preferences_form import (
    Unsubscribe,
    form_choices,
    read_preferences_form,
    stopped,
    typed_values,
    unsubscribe_of,
)
from mentorflow.console.relationship_view import Failed
from mentorflow.console.web import error_page, render
from mentorflow.people import PERSON_ID

router = APIRouter(include_in_schema=False)
PATH = "/preferences"
FORM_ID = "preferences"
SAVED = {
    "preferences": "Saved: the notification preferences are updated.",
    "stopped": "Saved: emails like that one are stopped.",
}
"""The confirmations of ``?saved=…``; any other value shows none."""
PERSON_ID_PROBLEM = "A person id is 1-64 letters, digits, '.', '_', '@' or '-'."


@router.get(PATH)
async def preferences_page(
    request: Request,
    services: Services,
    viewer: SignedIn,
    person_id: str | None = None,
    unsubscribe: str | None = None,
    saved: str | None = None,
) -> Response:
    """The person's notification preferences and the form that changes them."""
    entry = unsubscribe_of(unsubscribe)
    target = person_id.strip() if person_id is not None else viewer.person_id
    if target is None:
        return _pick_person(request, viewer, "", [], entry)
    if not PERSON_ID.fullmatch(target):
        if viewer.is_hr:
            return _pick_person(request, viewer, target, [_id_problem(target)], entry)
        return _not_found(request, viewer)
    try:
        stored = await get_notification_preferences(target, services, viewer.principal)
    except NotFound:
        return _not_found(request, viewer)
    return await _page(
        request, services, viewer, stored, unsubscribe=entry, saved=SAVED.get(saved or "")
    )


@router.post(PATH)
async def save_preferences(
    request: Request, services: Services, viewer: SignedIn, form: CheckedForm
) -> Response:
    """Save the form, or stop one kind of email (the ``stop`` button); back to the page."""
    target = _text(form, "person_id") or viewer.person_id
    if target is None or not PERSON_ID.fullmatch(target):
        if viewer.is_hr:
            return _pick_person(request, viewer, target or "", [_id_problem(target or "")], None)
        return _not_found(request, viewer)
    try:
        stored = await get_notification_preferences(target, services, viewer.principal)
    except NotFound:
        return _not_found(request, viewer)
    try:
        body = _requested(form, stored, viewer)
        await put_notification_preferences(target, body, services, viewer.principal)
    except NotFound:  # forgotten since it was read
        return _not_found(request, viewer)
    except (FormInvalid, ApiError) as refusal:
        failed = Failed(FORM_ID, _problems(refusal), typed_values(form))
        return await _page(request, services, viewer, stored, failed=failed)
    query = {"saved": "stopped" if "stop" in form else "preferences"}
    if viewer.is_hr:
        query = {"person_id": target, **query}
    return RedirectResponse(f"{PATH}?{urlencode(query)}", status_code=303)


def _requested(
    form: FormData, stored: NotificationPreferencesView, viewer: Viewer
) -> NotificationPreferencesRequest:
    """The request body the form asks for: one kind of email stopped, or the whole form.

    Raises:
        FormInvalid: The form's problems, or a ``stop`` of no known kind of email.
    """
    if "stop" not in form:
        return read_preferences_form(form, stored, with_digest=viewer.is_hr)
    entry = unsubscribe_of(_text(form, "stop"))
    if entry is None or entry.stops is None:
        problems = FieldProblems()
        problems.add(GENERAL, "These emails cannot be stopped here.")
        raise FormInvalid(problems)
    return stopped(stored, entry)


def _problems(refusal: FormInvalid | ApiError) -> FieldProblems:
    if isinstance(refusal, FormInvalid):
        return refusal.problems
    problems = FieldProblems()
    problems.add(GENERAL, refusal.message)
    return problems


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _id_problem(typed: str) -> str:
    return PERSON_ID_PROBLEM if typed else "Give the person's id."


async def _page(
    request: Request,
    services: ApiServices,
    viewer: Viewer,
    stored: NotificationPreferencesView,
    *,
    unsubscribe: Unsubscribe | None = None,
    saved: str | None = None,
    failed: Failed | None = None,
) -> Response:
    person_id = stored.person_id
    people = await _people(services, person_id)
    context = {
        "viewer": viewer,
        "person_id": person_id,
        "own": person_id == viewer.person_id,
        "people": people,
        "person_zone": people.zone(person_id),
        "zone": viewer_zone(viewer, people),
        "choices": form_choices(stored),
        "unsubscribe": unsubscribe,
        "saved": saved,
        "failed": failed,
        "form_id": FORM_ID,
        "general": GENERAL,
    }
    return render(request, "preferences.html", context, status_code=422 if failed else 200)


async def _people(services: ApiServices, person_id: str) -> People:
    """The person's card (name, language, zone) from the cohort of one of their
    relationships; none for someone in no relationship (an HR contact)."""
    rows = await relationships_of(services.pool, person_id, after=None, limit=1)
    if not rows:
        return People()
    return await people_of(services, rows[0][0])


def _pick_person(
    request: Request,
    viewer: Viewer,
    typed: str,
    problems: list[str],
    unsubscribe: Unsubscribe | None,
) -> Response:
    """HR's form: whose preferences to open."""
    context = {
        "viewer": viewer,
        "typed": typed,
        "problems": problems,
        "unsubscribe": unsubscribe,
    }
    return render(request, "preferences_person.html", context, status_code=422 if problems else 200)


def _not_found(request: Request, viewer: Viewer) -> Response:
    """The one answer for someone else's preferences, an unknown person, a forgotten one."""
    return error_page(request, 404, "Not found", "There is no such page.", viewer)
