"""The one text type for everything that arrives from outside: request bodies, specs, commands.

Text is refused, with a message naming the problem (pydantic adds the field's location), when
it holds what the event store cannot keep or a reader cannot trust:

* NUL and the other C0 and C1 control characters, except tab, newline and carriage return
  (PostgreSQL's ``jsonb`` refuses NUL outright; the others forge log lines and terminals);
* lone surrogates (not text: they cannot be encoded as UTF-8);
* anything shaped like our own ciphertext, ``sealed:v<n>:`` (see `events.personal`): a value
  that looks sealed must only ever come from the vault.

Every text also has a maximum length, and every list a maximum count (``Field(max_length)``),
so they appear in the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SEALED = re.compile(r"sealed:v\d+:", re.IGNORECASE)

LOCAL_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
"""Ids a relationship gives its goals, action items, challenges and review cycles."""

SHORT_TEXT = 200
"""Names, labels, skills, reasons given in a word or two."""
TEXT = 4000
"""Descriptions, feedback, notes, comments."""
LIST_ITEMS = 50
"""Items in a list of a request (skills, strengths, goal ids, action items)."""


def text_problem(value: str) -> str | None:
    """Why ``value`` may not be stored as text, or None when it may."""
    if match := _CONTROL.search(value):
        return f"contains the control character U+{ord(match.group()):04X}"
    if match := _SURROGATE.search(value):
        return f"contains the lone surrogate U+{ord(match.group()):04X}"
    if _SEALED.search(value):
        return "looks like a sealed value ('sealed:v…:'), which only the vault writes"
    return None


def refuse_unsafe(value: str) -> str:
    """``value`` itself; `ValueError` naming the problem when it may not be stored."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


SafeText = Annotated[str, Field(max_length=TEXT), AfterValidator(refuse_unsafe)]
"""Free text of up to 4,000 characters."""
ShortText = Annotated[str, Field(max_length=SHORT_TEXT), AfterValidator(refuse_unsafe)]
"""A name, label or short reason of up to 200 characters."""
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(refuse_unsafe),
]
"""A non-empty label (skill, module, objective) of up to 100 characters."""
LocalId = Annotated[str, StringConstraints(pattern=LOCAL_ID_PATTERN)]
"""A goal, action item, challenge or review cycle id."""
