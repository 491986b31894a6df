"""The cert auth glob: Vault's `*` semantics, checked against a reference, and linear on hostile patterns."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.auth.cert.matching import glob_match, glob_one

ALPHABET = st.sampled_from("ab.*-")


def _reference(pattern: str, value: str) -> bool:
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), value, re.DOTALL) is not None


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=8), st.text(st.sampled_from("ab.-"), max_size=10))
def test_glob_agrees_with_a_reference_matcher(pattern: str, value: str) -> None:
    assert glob_one(pattern, value) == _reference(pattern, value)


def test_examples() -> None:
    assert glob_one("*.example.com", "a.b.example.com")
    assert not glob_one("*.example.com", "example.com")
    assert glob_one("web-*", "web-")
    assert not glob_one("web", "web-1")
    assert glob_one("*", "")
    assert not glob_one("", "x")
    assert glob_match(["x", "web-*"], ["db", "web-2"])
    assert not glob_match([], ["anything"])


def test_a_pattern_full_of_stars_against_a_long_name_finishes() -> None:
    # A backtracking regex takes exponential time here; the two-pointer matcher is quadratic at worst.
    assert not glob_one("*a" * 30 + "b", "a" * 3000)
