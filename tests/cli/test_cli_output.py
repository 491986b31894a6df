"""Table, JSON and YAML rendering."""

from __future__ import annotations

import json

import pytest
import yaml

from strongroom.cli import output


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59, "59s"), (90, "1m30s"), (3600, "1h"), (5400, "1h30m"), (2764800, "768h")]
)
def test_durations_read_like_vaults(seconds: int, text: str) -> None:
    assert output.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "<nil>"),
        ("", "n/a"),
        (True, "true"),
        (["a", "b"], "[a b]"),
        ({"b": 2, "a": [1]}, "map[a:[1] b:2]"),
        (3, "3"),
    ],
)
def test_values_are_printed_like_go_prints_them(value: object, text: str) -> None:
    assert output.format_value(value) == text


def test_key_value_table_aligns_columns_with_four_spaces() -> None:
    table = output.key_value_table([("a", "1"), ("longer_key", True)])

    assert table.splitlines() == [
        "Key           Value",
        "---           -----",
        "a             1",
        "longer_key    true",
    ]


def test_secret_rows_put_lease_and_auth_before_sorted_data() -> None:
    body = {
        "lease_id": "db/creds/x/abc",
        "lease_duration": 3600,
        "renewable": True,
        "data": {"username": "u", "password": "p"},
    }

    keys = [key for key, _ in output.secret_rows(body)]
    assert keys == ["lease_id", "lease_duration", "lease_renewable", "password", "username"]
    assert dict(output.secret_rows(body))["lease_duration"] == "1h"


def test_auth_rows_show_an_unlimited_token_as_infinity() -> None:
    rows = dict(
        output.auth_rows({"client_token": "t", "lease_duration": 0, "policies": ["root"], "metadata": {"a": "b"}})
    )

    assert rows["token_duration"] == "∞"
    assert rows["token_policies"] == ["root"]
    assert rows["token_meta_a"] == "b"


def test_json_and_yaml_dumps_keep_the_structure() -> None:
    value = {"data": {"b": 1, "a": [True, None]}, "warnings": None}

    assert json.loads(output.dump(value, "json")) == value
    assert yaml.safe_load(output.dump(value, "yaml")) == value
    assert output.dump(value, "yaml").splitlines()[0] == "data:"


def test_raw_field_output_has_no_newline_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_raw_field("s3cret")
    output.emit_raw_field({"a": 1})

    assert capsys.readouterr().out == 's3cret{"a": 1}'


def test_missing_field_is_a_local_error() -> None:
    with pytest.raises(output.LocalError, match='field "nope" not present'):
        output.field_value([("a", 1)], "nope")
