"""The token helper file: 0600 in a 0700 directory, atomic, no symlinks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from strongroom.cli.errors import LocalError
from strongroom.cli.token_helper import erase_token, read_token, store_token, token_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stored_token_file_is_0600_in_a_new_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".strongroom" / "token"

    store_token(path, "hvs.example")

    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert read_token(path) == "hvs.example"


def test_replacing_a_world_readable_token_file_leaves_0600(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("old")
    path.chmod(0o644)

    store_token(path, "new")

    assert mode(path) == 0o600
    assert read_token(path) == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["token"]


def test_permissions_hold_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        store_token(tmp_path / "d" / "token", "t")
    finally:
        os.umask(previous)

    assert mode(tmp_path / "d" / "token") == 0o600
    assert mode(tmp_path / "d") == 0o700


def test_symlinked_token_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("someone-elses-token")
    link = tmp_path / "token"
    link.symlink_to(target)

    with pytest.raises(LocalError, match="cannot read token file"):
        read_token(link)


def test_missing_or_empty_token_file_means_no_token(tmp_path: Path) -> None:
    assert read_token(tmp_path / "none") is None
    (tmp_path / "empty").write_text("\n")
    assert read_token(tmp_path / "empty") is None


def test_erase_removes_the_file_and_tolerates_absence(tmp_path: Path) -> None:
    path = tmp_path / "token"
    store_token(path, "t")

    erase_token(path)
    erase_token(path)

    assert not path.exists()


def test_token_path_defaults_to_the_home_directory_and_honours_the_override() -> None:
    assert token_path({}) == Path.home() / ".strongroom" / "token"
    assert token_path({"STRONGROOM_TOKEN_FILE": "/run/user/1/t"}) == Path("/run/user/1/t")
