"""Canonical request paths and policy patterns: one spelling per path, tricks refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.core.policy.canonical import (
    canonical_policy_path,
    canonical_request_path,
    is_canonical_request_path,
)
from strongroom.errors import InvalidRequest


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("secret/x", "secret/x"),
        ("/secret/x", "secret/x"),
        ("///secret/x", "secret/x"),
        ("secret//x", "secret/x"),
        ("secret/./x", "secret/x"),
        ("./secret/x", "secret/x"),
        ("secret/x/.", "secret/x"),
        ("secret/x/", "secret/x/"),
        ("secret/x//", "secret/x/"),
        ("secret/x/./", "secret/x/"),
        ("/", ""),
        ("", ""),
        ("./", ""),
        # An already-decoded %2F is a separator like any other slash.
        ("secret/a/b", "secret/a/b"),
        # A doubly-encoded %252F arrives as the text "%2F" and stays text (no second decode).
        ("secret/a%2Fb", "secret/a%2Fb"),
        ("secret/%2e%2e/x", "secret/%2e%2e/x"),
        ("secret/...", "secret/..."),
        ("secret/.hidden", "secret/.hidden"),
        # No Unicode normalisation: a look-alike is a different path.
        ("\uff53ecret/x", "\uff53ecret/x"),
        ("secret/a+b*", "secret/a+b*"),
    ],
)
def test_request_paths_have_one_canonical_spelling(raw: str, canonical: str) -> None:
    assert canonical_request_path(raw) == canonical
    assert canonical_request_path(canonical) == canonical
    assert is_canonical_request_path(canonical)


@pytest.mark.parametrize(
    "raw",
    [
        "secret/../sys/policy",
        "secret/a/../b",
        "..",
        "../secret",
        "secret/..",
        "secret/../",
        # "%2e%2e" arrives here already decoded once, as "..".
        "secret/%2e%2e/x".replace("%2e%2e", ".."),
    ],
)
def test_dot_dot_segments_are_refused_with_a_clear_error(raw: str) -> None:
    with pytest.raises(InvalidRequest, match=r"invalid path: '\.\.' segments are not allowed"):
        canonical_request_path(raw)
    assert not is_canonical_request_path(raw)


@pytest.mark.parametrize(
    "raw",
    ["secret/a\x00b", "secret/\nx", "secret/\tx", "secret/\x7f", "secret/\x85", "secret/a\u200bb",
     "secret/\u202ex", "secret/\ufeffx", "secret/\ud800"],
)
def test_control_and_invisible_characters_are_refused_without_echoing_the_path(raw: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        canonical_request_path(raw)
    assert "control and invisible characters" in caught.value.message
    assert "secret" not in caught.value.message


@pytest.mark.parametrize(
    ("pattern", "canonical"),
    [
        ("secret/*", "secret/*"),
        ("/secret/*", "secret/*"),
        ("secret//*", "secret/*"),
        ("secret/./*", "secret/*"),
        ("secret//a/./b", "secret/a/b"),
        ("secret/a/", "secret/a/"),
        ("secret/+/x", "secret/+/x"),
        ("secret/+/", "secret/+/"),
        ("secret/+*", "secret/+*"),
        ("+/sys/policy", "+/sys/policy"),
        ("*", "*"),
        ("/*", "*"),
        ("secret/fo*", "secret/fo*"),
        # The piece before a final '*' is a prefix, kept verbatim: not widened to "secret/*".
        ("secret/.*", "secret/.*"),
        ("secret/..*", "secret/..*"),
    ],
)
def test_policy_patterns_have_one_canonical_spelling(pattern: str, canonical: str) -> None:
    assert canonical_policy_path(pattern) == canonical
    assert canonical_policy_path(canonical) == canonical


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("secret/*/x", "'*' is only allowed as the last character"),
        ("secret/**", "'*' is only allowed as the last character"),
        ("*secret", "'*' is only allowed as the last character"),
        ("secret/a+", "'+' must be a whole path segment"),
        ("secret/+a/x", "'+' must be a whole path segment"),
        ("secret/a+*", "'+' must be a whole path segment"),
        ("secret/../x", "'..' segments are not allowed"),
        ("secret/../*", "'..' segments are not allowed"),
        ("", "the path is empty"),
        ("/", "the path is empty"),
        ("secret/\x00", "control and invisible characters"),
        ("identity/{{identity.entity.id}}/*", "template markers are not allowed here"),
    ],
)
def test_bad_policy_patterns_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid policy path") as caught:
        canonical_policy_path(pattern)
    assert message in caught.value.message


def _reference_canonical(raw: str) -> str | None:
    """The documented rule, written out plainly (None: refused)."""
    if not (raw.isascii() and raw.isprintable()):
        return None  # outside what this property draws; refusals are tested above
    segments = raw.split("/")
    if ".." in segments:
        return None
    path = "/".join(segment for segment in segments if segment not in ("", "."))
    return path + "/" if path and raw.endswith("/") else path


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab./%+* ", max_size=12))
def test_the_fast_path_for_already_canonical_paths_agrees_with_the_rule(raw: str) -> None:
    expected = _reference_canonical(raw)
    if expected is None:
        with pytest.raises(InvalidRequest):
            canonical_request_path(raw)
    else:
        assert canonical_request_path(raw) == expected
        assert is_canonical_request_path(raw) == (raw == expected)
