"""Reading a spec's text from an untrusted sender: no YAML aliases, a size limit."""

from __future__ import annotations

import pytest

from domain.cohort_spec import CohortSpecInvalid, load_spec_document

LAUGHS = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"


def test_aliases_are_refused_when_the_sender_is_untrusted() -> None:
    with pytest.raises(CohortSpecInvalid) as refused:
        load_spec_document(LAUGHS, "yaml", aliases=False)

    assert len(refused.value.problems) == 1
    assert "aliases (*name) are not accepted" in refused.value.problems[0]
    assert "line 2" in refused.value.problems[0]


def test_aliases_are_still_followed_by_default() -> None:
    assert load_spec_document(LAUGHS, "yaml") == {
        "a": ["x", "x"],
        "b": [["x", "x"], ["x", "x"]],
        "c": [[["x", "x"], ["x", "x"]], [["x", "x"], ["x", "x"]]],
    }


def test_a_text_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(CohortSpecInvalid) as refused:
        load_spec_document("ä: [" * 10, "yaml", max_bytes=20)

    assert refused.value.problems == ["document: 50 bytes, larger than the limit of 20 bytes"]


def test_anchors_without_aliases_and_plain_json_are_read() -> None:
    assert load_spec_document("a: &keep 1\n", "yaml", aliases=False) == {"a": 1}
    assert load_spec_document('{"a": [1]}', "json", aliases=False, max_bytes=100) == {"a": [1]}
