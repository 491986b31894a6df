"""``strongroom audit search FILE...``: the entries of an audit log that match filters, as a table or JSON lines.

Files are read with the same reader as ``audit verify``
(:mod:`strongroom.core.audit.logfile`): rotated files in any order, gzip'd
ones too. Output is sorted by time. The server is contacted only to turn a
plaintext into the HMAC a device writes for it (``sys/audit-hash``): for
``-value`` always, for ``-accessor`` when the log holds HMAC'd accessors.

Exit status: 0 on success (also when nothing matches); 1 for bad flags, an
unreadable file, or malformed lines (each reported as ``file:line``, the search
goes on; ``-skip-malformed`` accepts them); 2 when the server could not hash.
Values logged raw (``log_raw`` devices) are never printed unless ``-show-raw``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import orjson

from strongroom.cli import output
from strongroom.cli.audit_entry import is_hmac, redact
from strongroom.cli.audit_filters import Criteria, Needle, accessors, build_criteria, entry_time
from strongroom.cli.commands.audit import device_path
from strongroom.cli.errors import LocalError, RemoteError, doing
from strongroom.cli.session import Session, api_command
from strongroom.core.audit.logfile import Line, Malformed, read_log

SHOWN_MALFORMED = 20
HEADERS = ("Time", "Type", "Operation", "Path", "Status", "Remote Address", "Accessor")
_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass
class Found:
    """What one pass over the log produced."""

    #: (sort key, the entry's JSON as logged): parsed again for output, so a large result costs its size once.
    matches: list[tuple[tuple[Any, ...], bytes]] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)


@dataclass
class Survey:
    """What the log says about its writers: the devices its checkpoints name, whether accessors are HMAC'd."""

    devices: set[str] = field(default_factory=set)
    hmac_accessors: bool = False


def register(audit: click.Group) -> None:
    """Add ``search`` to the ``audit`` group."""

    @api_command(audit, "search", help="Find the entries of the audit log made of FILE... that match the filters "
                                       "(rotated and gzip'd files in any order).")
    @click.argument("files", nargs=-1, required=True, metavar="FILE...")
    @click.option("--since", metavar="TIME", help="From this time: RFC 3339 (2026-03-01T10:00:00Z) or ago (15m).")
    @click.option("--until", metavar="TIME", help="Before this time: RFC 3339 or ago (5m).")
    @click.option("--path", "paths", multiple=True, metavar="PREFIX", help="Request path prefix (repeatable).")
    @click.option("--operation", "operations", multiple=True, metavar="OP", help="read, list, ... (repeatable).")
    @click.option("--type", "types", multiple=True, metavar="TYPE", help="request, response, checkpoint "
                                                                         "(default: request and response).")
    @click.option("--accessor", "accessor_values", multiple=True, metavar="ACCESSOR",
                  help="Token accessor, plaintext or hmac-sha256:... (repeatable).")
    @click.option("--remote-address", "remote_addresses", multiple=True, metavar="ADDR|CIDR",
                  help="Client address or block (repeatable).")
    @click.option("--status", "statuses", multiple=True, metavar="CODE", help="Response status: 403, 4xx "
                                                                              "(repeatable).")
    @click.option("--error", metavar="TEXT", help="Error message contains TEXT (any case); empty: any error.")
    @click.option("--request-id", "request_ids", multiple=True, metavar="ID", help="Request id (repeatable).")
    @click.option("--value", metavar="VALUE|-", help="Entries that carried this value ('-': read it from stdin).")
    @click.option("--value-file", metavar="FILE|-", help="Like -value, the value read from FILE.")
    @click.option("--device", metavar="PATH", help="The audit device that wrote the log, for sys/audit-hash "
                                                   "(default: the one its checkpoints name).")
    @click.option("--prefix", default="", metavar="TEXT", help="The device's prefix option, if it had one.")
    @click.option("--checkpoints", is_flag=True, help="Also show checkpoint lines.")
    @click.option("--show-raw", is_flag=True, help="Print values the device logged in clear (log_raw).")
    @click.option("--skip-malformed", is_flag=True, help="Exit 0 even when some lines are malformed.")
    def search(session: Session, *, files: tuple[str, ...], since: str | None, until: str | None,
               paths: tuple[str, ...], operations: tuple[str, ...], types: tuple[str, ...],
               accessor_values: tuple[str, ...], remote_addresses: tuple[str, ...], statuses: tuple[str, ...],
               error: str | None, request_ids: tuple[str, ...], value: str | None, value_file: str | None,
               device: str | None, prefix: str, checkpoints: bool, show_raw: bool, skip_malformed: bool) -> int:
        try:
            criteria = build_criteria(now=dt.datetime.now(dt.UTC), since=since, until=until, paths=paths,
                                      operations=operations, types=types, request_ids=request_ids,
                                      remote_addresses=remote_addresses, statuses=statuses, error=error,
                                      checkpoints=checkpoints)
        except ValueError as exc:
            raise LocalError(str(exc)) from None
        check_readable(files)
        secret = read_value(value, value_file)
        marker = prefix.encode()
        hasher = Hasher(session, files, marker, device)
        if secret is not None:
            criteria = criteria.with_needles(value_hmacs=Needle([hasher.hash(secret, "the value")]),
                                             value_plain=Needle([secret]))
        if accessor_values:
            criteria = criteria.with_needles(accessor=accessor_needle(accessor_values, hasher))
        found = scan(files, marker, criteria)
        found.matches.sort(key=lambda match: match[0])
        print_matches(session.format, [body for _, body in found.matches], show_raw)
        return report_malformed(found.malformed, skip_malformed)


def check_readable(files: Sequence[str]) -> None:
    """LocalError naming the first file that cannot be opened for reading."""
    for name in files:
        path = Path(name)
        if path.is_dir():
            raise LocalError(f"cannot read {name}: it is a directory")
        try:
            path.open("rb").close()
        except OSError as exc:
            raise LocalError(f"cannot read {name}: {exc.strerror or exc}") from None


def read_value(value: str | None, value_file: str | None) -> str | None:
    """The searched value, from the flag, a file or stdin (``-``), without one final newline."""
    if value is not None and value_file is not None:
        raise LocalError("give the value once: -value or -value-file")
    if value == "-" or value_file == "-":
        text = sys.stdin.read()
    elif value_file is not None:
        try:
            text = Path(value_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LocalError(f"cannot read the value from {value_file}: "
                             f"{getattr(exc, 'strerror', None) or 'not UTF-8 text'}") from None
    elif value is not None:
        text = value
    else:
        return None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise LocalError("the value to search for is empty")
    return text


class Hasher:
    """Plaintexts to HMACs through ``sys/audit-hash`` of the device that wrote the log (found once, lazily)."""

    def __init__(self, session: Session, files: Sequence[str], prefix: bytes, device: str | None) -> None:
        self._session = session
        self._files = files
        self._prefix = prefix
        self._given = device_path(device) if device else None
        self._survey: Survey | None = None
        self._device: str | None = None

    def __repr__(self) -> str:
        return f"Hasher(device={self._given!r})"

    @property
    def survey(self) -> Survey:
        if self._survey is None:
            self._survey = survey(self._files, self._prefix)
        return self._survey

    def device(self) -> str:
        """``-device``, else the single device the log's checkpoints name; LocalError when that is unclear."""
        if self._device is None:
            self._device = self._choose()
        return self._device

    def _choose(self) -> str:
        named = sorted(self.survey.devices)
        if self._given is not None:
            if named and self._given not in named:
                click.echo(f"WARNING! the log's checkpoints name {', '.join(named)}, not {self._given}: "
                           "HMACs from another device will not match", err=True)
            return self._given
        if len(named) == 1:
            return named[0]
        if not named:
            raise LocalError("the log names no audit device (it has no checkpoint line): pass -device")
        raise LocalError(f"the log was written by several devices ({', '.join(named)}): pass -device")

    def hash(self, plaintext: str, what: str) -> str:
        target = self.device()
        with doing(f"hashing {what} with audit device {target}"):
            answer = self._session.post(f"sys/audit-hash/{target}", {"input": plaintext})
            body = answer.body or {}
            digest = body.get("hash") or (body.get("data") or {}).get("hash")
            if not isinstance(digest, str) or not is_hmac(digest):
                raise RemoteError("the server answered without an HMAC")
        return digest


def accessor_needle(given: Sequence[str], hasher: Hasher) -> Needle:
    """Each accessor as given, plus its HMAC when the log holds HMAC'd accessors (hmac_accessor=true)."""
    forms = [a.strip() for a in given if a.strip()]
    if not forms:
        raise LocalError("-accessor is empty")
    plain = [a for a in forms if not is_hmac(a)]
    if plain and hasher.survey.hmac_accessors:
        forms += [hasher.hash(a, "the accessor") for a in plain]
    return Needle(forms)


def survey(files: Sequence[str], prefix: bytes) -> Survey:
    """Read each file until it has named a device and shown an accessor (usually a few lines)."""
    result = Survey()
    for name in files:
        seen_device = seen_accessor = False
        for item in lines_of(name, prefix):
            if not isinstance(item, Line):
                continue
            entry = item.entry
            checkpoint = entry.get("checkpoint")
            if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("device"), str):
                result.devices.add(checkpoint["device"])
                seen_device = True
            names = accessors(entry)
            if names:
                seen_accessor = True
                result.hmac_accessors |= any(is_hmac(a) for a in names)
            if seen_device and seen_accessor:
                break
    return result


def scan(files: Sequence[str], prefix: bytes, criteria: Criteria) -> Found:
    found = Found()
    for order, name in enumerate(files):
        for item in lines_of(name, prefix):
            if isinstance(item, Malformed):
                found.malformed.append(item)
            elif criteria.matches(item.entry):
                found.matches.append((sort_key(item, order), item.body))
    return found


def lines_of(name: str, prefix: bytes) -> Iterator[Line | Malformed]:
    """:func:`read_log`, with an I/O error while reading turned into a LocalError naming the file."""
    try:
        yield from read_log(name, prefix)
    except OSError as exc:
        raise LocalError(f"cannot read {name}: {exc.strerror or exc}") from None


def sort_key(line: Line, order: int) -> tuple[Any, ...]:
    """By time; lines of one writer written in the same microsecond stay in their chain's order."""
    chain = line.entry.get("chain")
    chain = chain if isinstance(chain, Mapping) else {}
    seq = chain.get("seq")
    return (entry_time(line.entry) or _OLDEST, str(chain.get("id", "")), seq if isinstance(seq, int) else 0,
            order, line.number)


# -- output ------------------------------------------------------------------------------------------


def print_matches(fmt: str, bodies: list[bytes], show_raw: bool) -> None:
    """The entries as a table, JSON lines (each as logged unless something had to be hidden) or YAML."""
    hidden = 0

    def shown(body: bytes) -> tuple[dict[str, Any], bool]:
        nonlocal hidden
        entry = orjson.loads(body)
        if show_raw:
            return entry, False
        cleaned, count = redact(entry)
        hidden += count
        return cleaned, count > 0

    if fmt == "table":
        if bodies:
            output.emit(output.columns([row(orjson.loads(body)) for body in bodies], HEADERS))
        else:
            click.echo("No entries match.", err=True)
    elif fmt == "json":
        for body in bodies:
            entry, changed = shown(body)
            # Unchanged entries are printed exactly as logged, so they can be compared with the file.
            click.echo(orjson.dumps(entry).decode() if changed else body.decode("utf-8", "replace"))
    else:
        output.emit(output.dump([shown(body)[0] for body in bodies], fmt))
    if hidden:
        click.echo(f"{hidden} value(s) the device logged in clear were replaced by a placeholder; "
                   "-show-raw prints them", err=True)


def row(entry: Mapping[str, Any]) -> list[str]:
    """One table row: time, type, operation (a checkpoint's kind), path (its device), status, address, accessor."""
    request = _map(entry.get("request"))
    checkpoint = _map(entry.get("checkpoint"))
    status = _map(entry.get("response")).get("status_code")
    caller = [a for a in (_map(entry.get("auth")).get("accessor"), request.get("client_token_accessor"))
              if isinstance(a, str) and a]
    cells = (entry.get("time"), entry.get("type"), request.get("operation") or checkpoint.get("kind"),
             request.get("path") or checkpoint.get("device"), status, request.get("remote_address"),
             caller[0] if caller else None)
    return [str(cell) if cell not in (None, "") else "-" for cell in cells]


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def report_malformed(malformed: list[Malformed], skip: bool) -> int:
    """Each malformed line on stderr (the first few), then the exit status."""
    for item in malformed[:SHOWN_MALFORMED]:
        click.echo(f"malformed: {item}", err=True)
    if len(malformed) > SHOWN_MALFORMED:
        click.echo(f"malformed: ... and {len(malformed) - SHOWN_MALFORMED} more", err=True)
    if not malformed or skip:
        return 0
    click.echo(f"Error: {len(malformed)} malformed line(s) in the log (-skip-malformed accepts them)", err=True)
    return 1
