"""key=value arguments, files, stdin, and -metadata style pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.cli.errors import LocalError
from strongroom.cli.kvargs import parse_kv_args, parse_pairs


def no_stdin() -> str:
    raise AssertionError("stdin must not be read")


def test_pairs_become_string_values() -> None:
    assert parse_kv_args(["a=1", "b=x=y", "c="], no_stdin) == {"a": "1", "b": "x=y", "c": ""}


def test_repeated_keys_become_lists() -> None:
    assert parse_kv_args(["p=a", "p=b", "p=c"], no_stdin) == {"p": ["a", "b", "c"]}


def test_at_file_reads_the_value_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN-----\n")

    assert parse_kv_args([f"cert=@{tmp_path / 'cert.pem'}"], no_stdin) == {"cert": "-----BEGIN-----\n"}


def test_escaped_at_is_a_literal() -> None:
    assert parse_kv_args(["handle=\\@someone"], no_stdin) == {"handle": "@someone"}


def test_dash_value_reads_stdin_without_its_final_newline() -> None:
    assert parse_kv_args(["password=-"], lambda: "s3cret\n") == {"password": "s3cret"}


def test_lone_dash_reads_a_json_object_from_stdin() -> None:
    assert parse_kv_args(["-", "extra=1"], lambda: '{"n": 2, "list": [1]}') == {"n": 2, "list": [1], "extra": "1"}


def test_lone_at_file_reads_a_json_object(tmp_path: Path) -> None:
    (tmp_path / "body.json").write_text('{"data": {"a": "b"}}')

    assert parse_kv_args([f"@{tmp_path / 'body.json'}"], no_stdin) == {"data": {"a": "b"}}


def test_stdin_can_be_read_only_once() -> None:
    with pytest.raises(LocalError, match="stdin can only be read once"):
        parse_kv_args(["a=-", "b=-"], lambda: "x")


def test_stdin_json_must_be_an_object() -> None:
    with pytest.raises(LocalError, match="stdin must hold a JSON object"):
        parse_kv_args(["-"], lambda: "[1, 2]")


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(LocalError, match=r"invalid JSON in stdin: .* \(line 2\)"):
        parse_kv_args(["-"], lambda: '{\n"a": }')


def test_missing_file_is_a_local_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(LocalError, match=r"cannot read .*missing\.txt"):
        parse_kv_args([f"a=@{tmp_path / 'missing.txt'}"], no_stdin)


def test_argument_without_equals_is_reported_by_position_not_by_value() -> None:
    with pytest.raises(LocalError) as caught:
        parse_kv_args(["a=1", "hunter2"], no_stdin)

    assert caught.value.message == "invalid argument #2: expected key=value"
    assert "hunter2" not in caught.value.message


def test_flag_pairs_become_a_dict_and_errors_name_the_flag() -> None:
    assert parse_pairs(("team=a", "env=prod=1"), "metadata") == {"team": "a", "env": "prod=1"}
    with pytest.raises(LocalError, match="invalid -metadata #1: expected key=value"):
        parse_pairs(("secretvalue",), "metadata")
