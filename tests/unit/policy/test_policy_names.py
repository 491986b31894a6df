"""Policy names: one spelling per name; no spelling of root can be created, updated or deleted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.core.policy.names import (
    deletable_policy_name,
    is_default,
    is_reserved,
    normalize_policy_name,
    writable_policy_name,
)
from strongroom.errors import InvalidRequest

ROOT_SPELLINGS = [
    "root",
    "Root",
    "ROOT",
    " root ",
    "\troot\n",
    "ROOT\u200b",
    "\u200broot",
    "ro\u200dot",
    "\ufeffroot",
    "\uff52\uff4f\uff4f\uff54",  # fullwidth
    "\uff32\uff2f\uff2f\uff34",
    "root\u00a0",  # no-break space
    "r\u043e\u043et",  # Cyrillic o
    "r\u03bf\u03bft",  # Greek omicron
    "roo\u0442",  # Cyrillic te
    "r\u00f4ot",  # o with circumflex
    "ro\u0301ot",  # combining acute accent
    "ro ot",
]


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_every_spelling_of_root_is_reserved(spelling: str) -> None:
    assert is_reserved(spelling)


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_no_spelling_of_root_can_be_written(spelling: str) -> None:
    with pytest.raises(InvalidRequest, match="root policy"):
        writable_policy_name(spelling)


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_no_spelling_of_root_can_be_deleted(spelling: str) -> None:
    with pytest.raises(InvalidRequest, match="root policy"):
        deletable_policy_name(spelling)


@pytest.mark.parametrize(
    "spelling",
    ["default", "Default", " DEFAULT ", "\uff44\uff45\uff46\uff41\uff55\uff4c\uff54", "default\u200b"],
)
def test_default_cannot_be_deleted_in_any_spelling(spelling: str) -> None:
    assert is_default(spelling)
    with pytest.raises(InvalidRequest, match="cannot delete the default policy"):
        deletable_policy_name(spelling)


def test_default_can_be_updated() -> None:
    assert writable_policy_name(" Default ") == "default"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("dev", "dev"),
        ("Dev-Team", "dev-team"),
        ("  ops.readonly  ", "ops.readonly"),
        ("\uff21\uff30\uff30_1", "app_1"),
        ("app\u200b", "app"),
        ("_internal", "_internal"),
        ("rooted", "rooted"),
        ("root-reader", "root-reader"),
    ],
)
def test_names_are_trimmed_lower_cased_and_nfkc_normalised(name: str, canonical: str) -> None:
    assert normalize_policy_name(name) == canonical


@pytest.mark.parametrize("name", ["rooted", "root-reader", "my-root", "roots", "dev"])
def test_names_that_merely_contain_root_are_not_reserved(name: str) -> None:
    assert not is_reserved(name)
    assert writable_policy_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "   ", "a/b", "a b", "-dev", ".dev", "..", "dév", "d\u0435v", "a" * 129, "a\x00", "a;b", "a%2fb"],
)
def test_names_outside_the_charset_are_refused_without_echoing_them(name: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid policy name") as caught:
        normalize_policy_name(name)
    assert name.strip() == "" or name not in caught.value.message


def _variants(char: str) -> list[str]:
    fullwidth = chr(ord(char) - 0x21 + 0xFF01)
    return [char, char.upper(), fullwidth, fullwidth.upper()]


_INVISIBLE = ["", "", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
_SPACE = ["", " ", "\t", "\n", "\u00a0", "\u3000"]

root_spellings = st.builds(
    lambda pad, letters, gaps, tail: pad + "".join(a + b for a, b in zip(letters, gaps, strict=True)) + tail,
    st.sampled_from(_SPACE),
    st.tuples(*(st.sampled_from(_variants(c)) for c in "root")),
    st.tuples(*(st.sampled_from(_INVISIBLE) for _ in "root")),
    st.sampled_from(_SPACE),
)


@settings(max_examples=300, deadline=None)
@given(root_spellings)
def test_generated_spellings_of_root_normalise_to_root_and_are_reserved(spelling: str) -> None:
    assert normalize_policy_name(spelling) == "root"
    assert is_reserved(spelling)
    with pytest.raises(InvalidRequest, match="root policy"):
        writable_policy_name(spelling)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=8))
def test_any_name_that_normalises_to_root_is_reserved(name: str) -> None:
    try:
        canonical = normalize_policy_name(name)
    except InvalidRequest:
        return
    if canonical == "root":
        assert is_reserved(name)
