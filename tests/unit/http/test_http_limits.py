"""check_json_shape: the same verdict with or without the size shortcut, at and just past every limit."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import InvalidRequest
from strongroom.http.limits import RequestLimits, check_json_shape

SMALL = RequestLimits(max_json_depth=3, max_entries=3, max_string_length=3)


def _reference_ok(value: Any, limits: RequestLimits, depth: int = 1) -> bool:
    """The limits written out recursively (fine for the small values drawn here)."""
    if isinstance(value, str):
        return len(value) <= limits.max_string_length
    if isinstance(value, dict):
        return (depth <= limits.max_json_depth and len(value) <= limits.max_entries
                and all(len(key) <= limits.max_string_length for key in value)
                and all(_reference_ok(child, limits, depth + 1) for child in value.values()))
    if isinstance(value, list):
        return (depth <= limits.max_json_depth and len(value) <= limits.max_entries
                and all(_reference_ok(child, limits, depth + 1) for child in value))
    return True


def _accepts(value: Any, limits: RequestLimits, encoded_size: int | None) -> bool:
    try:
        check_json_shape(value, limits, encoded_size=encoded_size)
    except InvalidRequest:
        return False
    return True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-9, 9) | st.text(alphabet="ab\u00e9\n", max_size=5),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(alphabet="ab", max_size=5), children,
                                                                      max_size=5),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_verdict_matches_the_written_out_limits_with_and_without_the_size(value: Any) -> None:
    expected = _reference_ok(value, SMALL)
    assert _accepts(value, SMALL, None) == expected
    assert _accepts(value, SMALL, len(orjson.dumps(value))) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ([[[]]], True),
        ([[[[]]]], False),
        ({"a": 1, "b": 2, "c": 3}, True),
        ({"a": 1, "b": 2, "c": 3, "d": 4}, False),
        ([1, 2, 3, 4], False),
        ({"abc": "abc"}, True),
        ({"abcd": 1}, False),
        (["abcd"], False),
        ("abcd", False),
        ("\u00e9\u00e9\u00e9", True),
    ],
)
def test_each_limit_holds_at_its_edge(value: Any, ok: bool) -> None:
    assert _accepts(value, SMALL, None) is ok
    assert _accepts(value, SMALL, len(orjson.dumps(value))) is ok


def test_a_short_text_is_not_walked_at_all() -> None:
    class Exploding(dict[str, Any]):
        def values(self) -> Any:
            raise AssertionError("walked")

    check_json_shape(Exploding(a=1), RequestLimits(), encoded_size=8)
    with pytest.raises(AssertionError):
        check_json_shape(Exploding(a=1), RequestLimits())
