"""Proving an audit log intact, or naming the first line that was changed, deleted, inserted or reordered.

Input: the files of one log (several after rotation, in any order), the
checkpoint public key, and the device's prefix. Every line must belong to a
chain (docs/audit.md). Per chain, the verifier checks that:

* ``seq`` runs 1, 2, 3, ... with no gap (**deleted**), no repeat (**inserted**)
  and in file order (**reordered**);
* every ``prev`` is the hash of the chain's previous line (**changed**: when one
  link breaks, the line before it was changed; when two links in a row break,
  the line between them was);
* ``seq`` 1 is a signed ``open`` checkpoint (a chain nobody signed was **inserted**);
* every checkpoint's signature holds (one that fails means a line before it was
  changed and the hashes after it were recomputed);
* the chain ends with a signed ``close`` checkpoint. Otherwise it has an **open
  tail**: lines after its last checkpoint that nothing signed yet (the server
  is running, a worker was killed, or the log was truncated).

Files are put in order by their chains' sequence numbers: a file whose lines of
some chain come before another file's lines of that chain goes first. Files are
read by :mod:`strongroom.core.audit.logfile` (so gzip-compressed rotations are
read too); lines that are not chained audit entries (a torn write after a full
disk, an edit) are reported as **malformed**.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from strongroom.core.audit.chain import CHECKPOINT_KINDS, GENESIS, checkpoint_message, key_id, line_hash
from strongroom.core.audit.logfile import Line, read_log

KINDS = ("changed", "deleted", "inserted", "reordered", "malformed", "open-tail")


@dataclass(frozen=True)
class Problem:
    """One finding, located at a file and 1-based line number."""

    kind: str
    file: str
    line: int
    message: str
    #: Position of the file in the verified order, for sorting.
    order: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message}"


@dataclass
class Report:
    files: list[str] = field(default_factory=list)
    chains: int = 0
    entries: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    def failures(self, allow_open_tail: bool) -> list[Problem]:
        return [p for p in self.problems if not (allow_open_tail and p.kind == "open-tail")]


@dataclass
class _Line:
    file: str
    order: int
    number: int
    raw: bytes
    digest: str
    entry: dict[str, Any]
    chain: str
    seq: int
    prev: str

    def where(self) -> str:
        return f"{self.file}:{self.number}"


def verify_logs(paths: Sequence[str | Path], public_key: Ed25519PublicKey, *, prefix: str = "") -> Report:
    """Check the log made of ``paths``; the report lists every problem found (empty: intact)."""
    report = Report()
    parsed: list[list[_Line]] = []
    for index, path in enumerate(paths):
        lines, bad = _parse_file(str(path), index, prefix.encode())
        parsed.append(lines)
        report.problems.extend(bad)
    order = _file_order(parsed)
    report.files = [str(paths[i]) for i in order]
    rank = {index: position for position, index in enumerate(order)}
    chains: dict[str, list[_Line]] = {}
    for index in order:
        for line in parsed[index]:
            line.order = rank[index]
            chains.setdefault(line.chain, []).append(line)
    report.problems = [_reorder(p, rank) for p in report.problems]
    report.chains = len(chains)
    for lines in chains.values():
        report.entries += len(lines)
        report.checkpoints += sum(1 for line in lines if line.entry.get("type") == "checkpoint")
        report.problems.extend(_check_chain(lines, public_key))
    report.problems.sort(key=lambda p: (p.order, p.line))
    return report


def _reorder(problem: Problem, rank: dict[int, int]) -> Problem:
    return Problem(problem.kind, problem.file, problem.line, problem.message, rank.get(problem.order, 0))


def _parse_file(path: str, file_index: int, prefix: bytes) -> tuple[list[_Line], list[Problem]]:
    lines: list[_Line] = []
    problems: list[Problem] = []
    for item in read_log(path, prefix):
        parsed = _chained(item) if isinstance(item, Line) else Problem("malformed", path, item.number, item.message)
        if isinstance(parsed, Problem):
            problems.append(Problem(parsed.kind, path, parsed.line, parsed.message, file_index))
        else:
            lines.append(parsed)
    return lines, problems


def _chained(line: Line) -> _Line | Problem:
    """The entry's chain link, or why it has none."""
    entry = line.entry
    chain = entry.get("chain")
    if not isinstance(chain, dict):
        return Problem("inserted", line.file, line.number, "a line without a chain link")
    chain_id, seq, prev = chain.get("id"), chain.get("seq"), chain.get("prev")
    if not (isinstance(chain_id, str) and isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1
            and isinstance(prev, str) and len(prev) == 64):
        return Problem("malformed", line.file, line.number, "an entry with a malformed chain link")
    return _Line(line.file, 0, line.number, line.raw, line_hash(line.raw), entry, chain_id, seq, prev)


def _file_order(parsed: list[list[_Line]]) -> list[int]:
    """File indexes in log order: A before B when A holds earlier lines of a chain both hold."""
    spans: list[dict[str, tuple[int, int]]] = []
    for lines in parsed:
        span: dict[str, tuple[int, int]] = {}
        for line in lines:
            low, high = span.get(line.chain, (line.seq, line.seq))
            span[line.chain] = (min(low, line.seq), max(high, line.seq))
        spans.append(span)
    count = len(parsed)
    before: dict[int, set[int]] = {i: set() for i in range(count)}
    for a in range(count):
        for b in range(count):
            if a != b and any(c in spans[b] and spans[a][c][1] < spans[b][c][0] for c in spans[a]):
                before[b].add(a)
    order: list[int] = []
    remaining = set(range(count))
    while remaining:
        ready = [i for i in sorted(remaining) if not (before[i] & remaining)]
        if not ready:
            return sorted(range(count))  # contradictory: keep the given order, the chains will say why
        order.append(ready[0])
        remaining.discard(ready[0])
    return order


def _problem(kind: str, line: _Line, message: str) -> Problem:
    return Problem(kind, line.file, line.number, message, line.order)


def _check_chain(lines: list[_Line], public_key: Ed25519PublicKey) -> list[Problem]:
    problems: list[Problem] = []
    chain_id = lines[0].chain
    short = chain_id[:12]
    first_seen: dict[int, _Line] = {}
    highest: _Line | None = None
    for line in lines:
        earlier = first_seen.get(line.seq)
        if earlier is not None:
            how = "a copy of" if earlier.raw == line.raw else "a second line claiming the place of"
            problems.append(_problem("inserted", line, f"{how} chain {short} seq {line.seq} ({earlier.where()})"))
            continue
        first_seen[line.seq] = line
        if highest is not None and line.seq < highest.seq:
            problems.append(_problem("reordered", line, f"chain {short} seq {line.seq} comes after seq "
                                                        f"{highest.seq} ({highest.where()})"))
        if highest is None or line.seq > highest.seq:
            highest = line
    ordered = [first_seen[s] for s in sorted(first_seen)]
    problems.extend(_check_sequence(ordered, short))
    problems.extend(_check_links(ordered, short))
    problems.extend(_check_checkpoints(ordered, short, public_key))
    return problems


def _check_sequence(ordered: list[_Line], short: str) -> list[Problem]:
    problems: list[Problem] = []
    if ordered[0].seq != 1:
        gone = _seq_range(1, ordered[0].seq - 1)
        problems.append(_problem("deleted", ordered[0], f"chain {short} starts at seq {ordered[0].seq}: {gone} "
                                                        "missing (deleted, or a file of the log was not given)"))
    for previous, line in itertools.pairwise(ordered):
        if line.seq != previous.seq + 1:
            gone = _seq_range(previous.seq + 1, line.seq - 1)
            problems.append(_problem("deleted", line, f"chain {short} {gone} missing between {previous.where()} "
                                                      "and here"))
    return problems


def _seq_range(low: int, high: int) -> str:
    return f"seq {low} is" if low == high else f"seq {low} to {high} are"


def _check_links(ordered: list[_Line], short: str) -> list[Problem]:
    """Hash links between consecutive lines; a break names the line that was changed."""
    by_seq = {line.seq: line for line in ordered}
    broken: set[int] = set()  # seq s: the link from s to s + 1 does not hold
    for line in ordered:
        before = by_seq.get(line.seq - 1)
        if before is not None and line.prev != before.digest:
            broken.add(before.seq)
    problems: list[Problem] = []
    first = ordered[0]
    if first.seq == 1 and first.prev != GENESIS:
        problems.append(_problem("changed", first, f"chain {short} seq 1 does not link to the chain's start"))
    skip: set[int] = set()
    for seq in sorted(broken):
        if seq in skip:
            continue
        if seq + 1 in broken:
            culprit = by_seq[seq + 1]  # both its links fail: this line itself was altered
            skip.add(seq + 1)
        else:
            culprit = by_seq[seq]
        problems.append(_problem("changed", culprit, f"chain {short} seq {culprit.seq} no longer matches the hash "
                                                     "the next line of its chain recorded"))
    return problems


def _check_checkpoints(ordered: list[_Line], short: str, public_key: Ed25519PublicKey) -> list[Problem]:
    problems: list[Problem] = []
    expected_key = key_id(public_key)
    last_valid: _Line | None = None
    for line in ordered:
        if line.entry.get("type") != "checkpoint":
            if line.seq == 1:
                problems.append(_problem("inserted", line, f"chain {short} does not begin with a signed checkpoint"))
            continue
        why = _checkpoint_error(line, public_key, expected_key)
        if why is not None:
            problems.append(_problem("changed", line, f"checkpoint of chain {short} seq {line.seq} {why}"))
            continue
        kind = line.entry["checkpoint"]["kind"]
        if (kind == "open") != (line.seq == 1):
            problems.append(_problem("inserted", line, f"an '{kind}' checkpoint at chain {short} seq {line.seq}"))
            continue
        last_valid = line
    last = ordered[-1]
    if last_valid is None:
        problems.append(_problem("open-tail", ordered[0], f"chain {short} has no valid checkpoint: none of its "
                                                          f"{len(ordered)} line(s) is verified"))
    elif last_valid is not last:
        unverified = sum(1 for line in ordered if line.seq > last_valid.seq)
        problems.append(_problem("open-tail", last, f"unverified tail: chain {short} has {unverified} line(s) after "
                                                    f"its last checkpoint ({last_valid.where()})"))
    elif last_valid.entry["checkpoint"]["kind"] != "close":
        problems.append(_problem("open-tail", last, f"unverified tail: chain {short} ends without a close "
                                                    "checkpoint (still being written, the writer was killed, "
                                                    "or the log was truncated here)"))
    return problems


def _checkpoint_error(line: _Line, public_key: Ed25519PublicKey, expected_key: str) -> str | None:
    body = line.entry.get("checkpoint")
    time = line.entry.get("time")
    if not isinstance(body, dict) or not isinstance(time, str):
        return "is malformed"
    kind, signature, signer = body.get("kind"), body.get("signature"), body.get("key_id")
    if kind not in CHECKPOINT_KINDS or not isinstance(signature, str):
        return "is malformed"
    if signer != expected_key:
        return f"was signed by key {signer!r}, not the given key {expected_key!r}"
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, checkpoint_message(line.chain, line.seq, line.prev, kind, time))
    except (binascii.Error, ValueError, InvalidSignature):
        return "has an invalid signature: it, or a line before it in its chain, was changed"
    return None
