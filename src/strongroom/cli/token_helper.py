"""The token helper: where ``login`` keeps the token for later commands.

The token lives in one file, ``~/.strongroom/token`` unless
``STRONGROOM_TOKEN_FILE`` names another. It is created with mode 0600 inside a
directory we create with mode 0700, written to a temporary file first and
renamed into place so a crash never leaves half a token; the rename also
replaces an older file whatever its mode was. Reading and writing refuse a
symlink, so another user cannot point our token file at one of theirs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from strongroom.cli.errors import LocalError

FILE_MODE = 0o600
DIR_MODE = 0o700


def token_path(environ: Mapping[str, str] | None = None) -> Path:
    """The token file's path (``STRONGROOM_TOKEN_FILE`` or ``~/.strongroom/token``)."""
    source = os.environ if environ is None else environ
    configured = source.get("STRONGROOM_TOKEN_FILE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".strongroom" / "token"


def read_token(path: Path) -> str | None:
    """The stored token, or None when there is none. Refuses symlinks."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LocalError(f"cannot read token file {path}: {exc.strerror}") from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        token = handle.read().strip()
    return token or None


def store_token(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` with mode 0600, atomically."""
    directory = path.parent
    try:
        if not directory.exists():
            directory.mkdir(mode=DIR_MODE, parents=True)
        temp = directory / f".{path.name}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(token)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
    except OSError as exc:
        raise LocalError(f"cannot store token in {path}: {exc.strerror}") from None


def erase_token(path: Path) -> None:
    """Remove the stored token, if any."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LocalError(f"cannot remove token file {path}: {exc.strerror}") from None
