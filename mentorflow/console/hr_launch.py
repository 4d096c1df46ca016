"""HR launches a cohort: upload a spec file or paste one; every problem is shown first.

The text is read as `POST /cohorts` would read it, but from an untrusted browser: plain data
only, no YAML aliases, at most the launch's body limit. The decoded document then goes
through `mentorflow.api.cohorts.launch_document`, the API's own launch: the same validation
(every problem named, nothing started), the same once-per-id start. The problems are shown
per participant and field; the text stays in the form (an uploaded file's too) to be fixed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from domain.cohort_spec import CohortSpecInvalid, load_spec_document
from mentorflow.api.cohorts import launch_document
from mentorflow.api.context import Services
from mentorflow.api.errors import ApiError
from mentorflow.console.auth import HrViewer, Viewer, checked_form
from mentorflow.console.spec_problems import SpecProblems, group_problems
from mentorflow.console.web import render

router = APIRouter(include_in_schema=False)
LAUNCH_PATH = "/hr/cohorts/new"
SHOWN_TEXT_BYTES = 1024 * 1024
"""An uploaded file larger than this is not copied into the page to be edited."""


async def launch_form(request: Request, services: Services, viewer: HrViewer) -> FormData:
    """The launch form (with its form token checked): a pasted spec may be as large as a
    launch body, above the 1 MiB Starlette allows a form field by default."""
    limit = services.limits.max_cohort_body_bytes
    await request.form(max_files=1, max_fields=5, max_part_size=limit)  # cached for the check
    return await checked_form(request, viewer)


LaunchForm = Annotated[FormData, Depends(launch_form)]


@router.get(LAUNCH_PATH)
async def launch_page(request: Request, viewer: HrViewer) -> Response:
    """The empty launch form."""
    return _page(request, viewer, text="", problems=None)


@router.post(LAUNCH_PATH)
async def launch(
    request: Request, services: Services, viewer: HrViewer, form: LaunchForm
) -> Response:
    """Validate the spec; launch it and go to its matching, or show every problem."""
    limit = services.limits.max_cohort_body_bytes
    upload, pasted = form.get("spec_file"), form.get("spec_text")
    text = pasted if isinstance(pasted, str) else ""
    document: object = None
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(limit + 1)
            text = _shown(raw)
            document = load_spec_document(
                raw, _format(upload.filename, raw), aliases=False, max_bytes=limit
            )
        elif text.strip():
            document = load_spec_document(text, _format(None, text), aliases=False, max_bytes=limit)
        else:
            raise CohortSpecInvalid(["document: choose a spec file or paste a spec"])
        result = await launch_document(services, document)
    except CohortSpecInvalid as invalid:
        return _page(request, viewer, text, group_problems(invalid.problems, None), 422)
    except ApiError as refused:
        problems = refused.problems or [f"document: {refused.message}"]
        grouped = group_problems(problems, document)
        return _page(request, viewer, text, grouped, refused.status_code)
    notice = "already_launched" if result.already_launched else "launched"
    return RedirectResponse(
        f"/hr/cohorts/{result.cohort_id}/matching?notice={notice}", status_code=303
    )


def _format(filename: str | None, raw: str | bytes) -> Literal["json", "yaml"]:
    """JSON by the file's suffix, or by a leading ``{``; YAML otherwise."""
    if filename is not None:
        return "json" if filename.lower().endswith(".json") else "yaml"
    start = raw.lstrip()[:1]
    return "json" if start in ("{", b"{") else "yaml"


def _shown(raw: bytes) -> str:
    """An uploaded file's text, to fix in the form (empty when too large or not UTF-8)."""
    if len(raw) > SHOWN_TEXT_BYTES:
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def _page(
    request: Request,
    viewer: Viewer,
    text: str,
    problems: SpecProblems | None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {"viewer": viewer, "text": text, "problems": problems}
    return render(request, "launch.html", context, status_code=status_code)
