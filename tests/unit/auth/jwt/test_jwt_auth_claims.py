"""Claim lookup, text conversion and ``*`` globs on their own; globs agree with a reference matcher."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.auth.jwt.claims import as_text, claim, glob_match


def _reference(pattern: str, value: str) -> bool:
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), value, re.DOTALL) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab*?[/.", max_size=8), st.text(alphabet="ab*?[/.", max_size=10))
def test_globs_agree_with_a_reference_matcher(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == _reference(pattern, value)


CLAIMS = {"repository": "acme/web", "project": {"id": 7}, "a/b": {"c~d": "escaped"}}


@pytest.mark.parametrize(("name", "found"), [
    ("repository", "acme/web"),
    ("/repository", "acme/web"),
    ("/project/id", 7),
    ("/a~1b/c~0d", "escaped"),
])
def test_claims_are_keys_or_json_pointers(name: str, found: Any) -> None:
    assert claim(CLAIMS, name) == found


@pytest.mark.parametrize("name", ["project/id", "/project/missing", "/repository/deeper", "absent", "/"])
def test_a_missing_claim_is_no_value_at_all(name: str) -> None:
    value = claim(CLAIMS, name)
    assert value is not None
    assert as_text(value) is None
    assert value not in CLAIMS.values()


@pytest.mark.parametrize(("value", "text"), [
    ("x", "x"), (7, "7"), (-3, "-3"), (True, "true"), (False, "false"),
    (1.5, None), (None, None), ({"a": 1}, None), (["x"], None),
])
def test_only_strings_integers_and_booleans_have_a_text_form(value: Any, text: str | None) -> None:
    assert as_text(value) == text
