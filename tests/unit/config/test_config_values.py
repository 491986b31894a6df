"""Scalar coercions and the line locator, tested directly."""

from __future__ import annotations

import pytest

from strongroom.config.locate import SourceMap
from strongroom.config.values import (
    ValueProblem,
    as_bool,
    as_duration,
    as_int,
    as_str,
    split_host_port,
    string_map,
)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("768h", 768 * 3600), ("1h30m", 5400), ("90", 90), (90, 90), ("15s", 15), ("2d", 172800), (2.9, 2)],
)
def test_durations_use_vault_spellings(raw: object, seconds: int) -> None:
    assert as_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["10 parsecs", "", "-5s", "h", "5x", True, [1], float("nan"), float("inf"), -1])
def test_invalid_durations_are_problems(raw: object) -> None:
    with pytest.raises(ValueProblem):
        as_duration(raw)


@pytest.mark.parametrize(("raw", "value"), [("12", 12), (" -3 ", -3), (7, 7), (4.0, 4), ("+2", 2)])
def test_integers_accept_numbers_and_decimal_strings(raw: object, value: int) -> None:
    assert as_int(raw) == value


@pytest.mark.parametrize("raw", ["1e3", "0x10", 1.5, True, None, "", "-"])
def test_non_integers_are_problems(raw: object) -> None:
    with pytest.raises(ValueProblem):
        as_int(raw)


@pytest.mark.parametrize("raw", [2, "maybe", None, 1.0])
def test_non_booleans_are_problems(raw: object) -> None:
    with pytest.raises(ValueProblem):
        as_bool(raw)


def test_strings_accept_integers_but_not_booleans() -> None:
    assert as_str(8200) == "8200"
    with pytest.raises(ValueProblem, match="expected a string, got a boolean"):
        as_str(True)


def test_string_map_renders_scalars_like_vault() -> None:
    assert dict(string_map({"a": True, "b": 3, "c": "x", "d": 1.5})) == {
        "a": "true",
        "b": "3",
        "c": "x",
        "d": "1.5",
    }


def test_string_map_names_the_nested_key_that_is_not_a_scalar() -> None:
    with pytest.raises(ValueProblem) as caught:
        string_map({"ok": "1", "bad": {"x": 1}})
    assert caught.value.key == "bad"


@pytest.mark.parametrize(
    ("address", "parts"),
    [("0.0.0.0:8200", ("0.0.0.0", 8200)), ("[::]:1", ("::", 1)), ("vault.local:0", ("vault.local", 0))],
)
def test_addresses_split_into_host_and_port(address: str, parts: tuple[str, int]) -> None:
    assert split_host_port(address) == parts


@pytest.mark.parametrize("address", ["8200", ":8200", "host:", "host:http", "a:b:1", "h:65536"])
def test_malformed_addresses_are_problems(address: str) -> None:
    with pytest.raises(ValueProblem):
        split_host_port(address)


def test_source_map_finds_keys_per_block_occurrence() -> None:
    source = SourceMap(
        'listener "tcp" {\n  address = "a"\n}\n'
        'listener tcp {\n  tls_disable = true\n  address = "b"\n}\n'
        'listener {\n  tcp {\n    address = "c"\n  }\n}\n'
    )

    assert [source.key_line(("listener", "tcp"), n, "address") for n in range(3)] == [2, 6, 10]
    assert source.block_line(("listener", "tcp"), 2) == 9


def test_source_map_treats_json_list_elements_as_repeated_blocks() -> None:
    source = SourceMap('{"listener": [\n {"tcp": {"address": "a"}},\n {"tcp": {\n  "address": "b"}}]}')

    assert source.key_line(("listener", "tcp"), 1, "address") == 4


def test_source_map_falls_back_to_the_block_line_for_a_missing_key() -> None:
    source = SourceMap('ui = true\n\nseal "x" {\n  a = 1\n}\n')

    assert source.key_line(("seal", "x"), 0, "missing") == 3
    assert source.key_line((), 0, "ui") == 1
    assert source.key_count((), 0, "ui") == 1


def test_source_map_counts_repeated_keys_and_returns_the_nth() -> None:
    source = SourceMap("a = 1\nb = 2\na = 3\n")

    assert source.key_count((), 0, "a") == 2
    assert source.key_line((), 0, "a", 1) == 3


def test_source_map_of_untokenisable_text_answers_none() -> None:
    assert SourceMap("€").key_line((), 0, "x") is None
