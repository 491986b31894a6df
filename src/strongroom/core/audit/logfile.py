"""Reading the files of an audit log line by line: plain or gzip-compressed, each line parsed or reported.

Shared by ``strongroom audit verify`` (:mod:`strongroom.core.audit.verify`) and
``strongroom audit search``, so both read a log the same way:

* a file is gzip-compressed when it starts with gzip's magic bytes (what
  logrotate's ``compress`` makes of a rotated file), whatever its name;
* a line is the device's ``prefix`` (if any), one JSON object, then ``\\n``.
  Without a known prefix, the JSON starts at the line's first ``{``;
* anything else is a :class:`Malformed` line, located by file and 1-based line
  number: not JSON, not an object, a missing prefix, a file that ends inside a
  line (torn or truncated), a compressed file that is damaged or cut short.
  Its text is never part of the message: a damaged line may hold anything.

Files are streamed, never read whole. ``OSError`` from opening or reading a
file (missing, a directory, an I/O error) reaches the caller; damage inside a
compressed stream does not (it is a :class:`Malformed` line, and reading stops).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Line:
    """One parsed entry: where it is, the line exactly as written (prefix included, no newline), the object."""

    file: str
    number: int
    raw: bytes
    start: int
    entry: dict[str, Any]

    @property
    def body(self) -> bytes:
        """The entry's JSON as written, without the prefix."""
        return self.raw[self.start:]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that is not an audit entry, and why (never its content)."""

    file: str
    number: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.number}: {self.message}"


def read_log(path: str | Path, prefix: bytes = b"") -> Iterator[Line | Malformed]:
    """Every line of the file at ``path`` in order, as a :class:`Line` or a :class:`Malformed`."""
    name = str(path)
    number = 0
    with Path(path).open("rb") as raw_file:
        compressed = raw_file.peek(2)[:2] == GZIP_MAGIC
        stream: gzip.GzipFile | io.BufferedReader = raw_file
        if compressed:
            stream = gzip.GzipFile(fileobj=raw_file, mode="rb")
        with stream:
            lines = iter(stream)
            while True:
                try:
                    chunk = next(lines)
                except StopIteration:
                    return
                except (gzip.BadGzipFile, EOFError, zlib.error):
                    # Only a compressed stream raises these: a damaged or half-written rotation.
                    yield Malformed(name, number + 1, "the compressed file is damaged or ends early")
                    return
                number += 1
                if not chunk.endswith(b"\n"):
                    yield Malformed(name, number, "the file ends inside a line (truncated or torn)")
                    return
                yield parse_line(name, number, chunk[:-1], prefix)


def parse_line(file: str, number: int, raw: bytes, prefix: bytes = b"") -> Line | Malformed:
    """One line (without its newline): the entry after ``prefix`` (or from the first ``{``), or why not."""
    if prefix:
        if not raw.startswith(prefix):
            return Malformed(file, number, "the line does not start with the device prefix")
        start = len(prefix)
    else:
        start = raw.find(b"{")
        if start < 0:
            return Malformed(file, number, "not an audit entry")
    try:
        entry = orjson.loads(raw[start:])
    except orjson.JSONDecodeError:
        return Malformed(file, number, "not an audit entry (invalid JSON: torn, truncated or edited)")
    if not isinstance(entry, dict):
        return Malformed(file, number, "not an audit entry (not a JSON object)")
    return Line(file, number, raw, start, entry)
