"""HR imports people from a CSV file: upload, see the diff and every problem, then apply.

The upload is only checked: `mentorflow.directory.csv_import.plan_import`, the command line's
own dry run, shows who is new, changed (field names, never values), deactivated or
reactivated, and every problem per row. Nothing is recorded. When there is no problem, the
page carries the file back in a hidden field (base64) with the digest of the diff shown, and
its "Apply" button posts both. The apply plans the file again from scratch, so a changed
field gains nothing over uploading another file; when the diff differs from the one HR saw
(the directory changed meanwhile, or the field was edited), the new diff is shown to confirm
instead of applying it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from mentorflow.api.context import ApiServices, Services
from mentorflow.console.auth import HrViewer, Viewer, checked_form
from mentorflow.console.web import render
from mentorflow.directory import PeopleDirectory
from mentorflow.directory.csv_file import COLUMNS, MAX_FILE_BYTES, MAX_ROWS
from mentorflow.directory.csv_import import ImportPlan, ImportReport, apply_import, plan_import

router = APIRouter(include_in_schema=False)
PATH = "/hr/people/import"
APPLY_PATH = PATH + "/apply"
MAX_FIELD_BYTES = (MAX_FILE_BYTES + 2) // 3 * 4 + 4096
"""The hidden field carrying a file at the size limit, in base64."""


async def import_form(request: Request, viewer: HrViewer) -> FormData:
    """The POSTed form (its form token checked), with room for a file at the size limit."""
    await request.form(max_files=1, max_fields=4, max_part_size=MAX_FIELD_BYTES)
    return await checked_form(request, viewer)


ImportForm = Annotated[FormData, Depends(import_form)]


@router.get(PATH)
async def import_page(request: Request, viewer: HrViewer) -> Response:
    """The upload form, with the columns a file may have."""
    return _page(request, viewer, report=None, content=b"", problems=[])


@router.post(PATH)
async def check_import(
    request: Request, services: Services, viewer: HrViewer, form: ImportForm
) -> Response:
    """Check an uploaded file: the diff and every problem; nothing is recorded."""
    upload = form.get("people_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, viewer, None, b"", ["file: choose a CSV file"], status_code=422)
    content = await upload.read(MAX_FILE_BYTES + 1)  # one byte more: the reader names the limit
    plan = await plan_import(_directory(services), content)
    return _checked(request, viewer, plan, content)


@router.post(APPLY_PATH)
async def apply(
    request: Request, services: Services, viewer: HrViewer, form: ImportForm
) -> Response:
    """Apply a checked file, if its diff is still the one HR saw; show what was recorded."""
    content = _carried(form.get("content"))
    if content is None:
        problem = "file: the checked file did not come back; upload it again"
        return _page(request, viewer, None, b"", [problem], status_code=422)
    directory = _directory(services)
    plan = await plan_import(directory, content)
    if plan.report.problems or form.get("diff") != diff_digest(plan.report):
        return _checked(request, viewer, plan, content, changed=True)
    report = await apply_import(directory, plan)
    return render(request, "people_import_done.html", {"viewer": viewer, "report": report})


def diff_digest(report: ImportReport) -> str:
    """A digest of a diff, to tell whether the diff applied is the one HR confirmed."""
    changes = [change.model_dump_json() for change in report.changes]
    return hashlib.sha256("\n".join(changes).encode()).hexdigest()


def _directory(services: ApiServices) -> PeopleDirectory:
    return PeopleDirectory(services.pool, services.vault)


def _carried(value: object) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_BYTES:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _checked(
    request: Request, viewer: Viewer, plan: ImportPlan, content: bytes, *, changed: bool = False
) -> Response:
    report = plan.report
    status = 422 if report.problems else 200
    return _page(
        request, viewer, report, content, report.problems, status_code=status, changed=changed
    )


def _page(
    request: Request,
    viewer: Viewer,
    report: ImportReport | None,
    content: bytes,
    problems: list[str],
    *,
    status_code: int = 200,
    changed: bool = False,
) -> Response:
    applicable = report is not None and not problems and bool(report.changes)
    context: dict[str, Any] = {
        "viewer": viewer,
        "report": report,
        "problems": problems,
        "changed": changed,
        "columns": COLUMNS,
        "max_mib": MAX_FILE_BYTES // (1024 * 1024),
        "max_rows": MAX_ROWS,
        "content": base64.b64encode(content).decode() if applicable else "",
        "diff": diff_digest(report) if applicable and report is not None else "",
    }
    return render(request, "people_import.html", context, status_code=status_code)
