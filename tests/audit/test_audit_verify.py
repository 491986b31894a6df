"""``verify_logs``: an intact log passes (also rotated into files given in any order); every kind of
edit is named at the first line it touched."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from strongroom.core.audit.chain import Chain, line_hash
from strongroom.core.audit.verify import Report, verify_logs

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()
_clock = itertools.count()


def new_chain(name: str, every: int = 4, prefix: bytes = b"", key: Ed25519PrivateKey = KEY) -> Chain:
    return Chain(chain_id=name * 32, device="file/", prefix=prefix, signer=key,
                 clock=lambda: f"2026-01-01T00:00:{next(_clock) % 60:02d}.000000Z", checkpoint_every=every)


def body(n: int) -> bytes:
    return orjson.dumps({"type": "request", "time": "t", "request": {"id": f"r{n}", "path": "secret/data/x"}})


def write(chain: Chain, count: int, start: int = 0, closing: str = "") -> list[bytes]:
    lines = chain.render([body(start + i) for i in range(count)], closing=closing)
    chain.commit(len(lines))
    return lines


def interleaved_log(tmp_path: Path, *, close: bool = True) -> Path:
    """Two writers (chains a and b) appending to one file, like two workers; 10 entries each."""
    a, b = new_chain("a"), new_chain("b")
    lines: list[bytes] = []
    for round_ in range(5):
        lines += write(a, 2, round_ * 2)
        lines += write(b, 2, 100 + round_ * 2)
    if close:
        lines += write(a, 0, closing="close") + write(b, 0, closing="close")
    path = tmp_path / "audit.log"
    path.write_bytes(b"".join(lines))
    return path


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def first(report: Report, allow_open_tail: bool = False) -> tuple[str, int]:
    failures = report.failures(allow_open_tail)
    assert failures, "expected a problem"
    return failures[0].kind, failures[0].line


def test_an_untouched_log_of_two_interleaved_writers_is_intact(tmp_path: Path) -> None:
    report = verify_logs([interleaved_log(tmp_path)], PUBLIC)
    assert report.problems == []
    assert report.chains == 2
    assert report.entries == len(lines_of(tmp_path / "audit.log"))
    assert report.checkpoints >= 6


def test_a_changed_line_is_named(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    lines = lines_of(path)
    lines[5] = lines[5].replace(b"secret/data/x", b"secret/data/y")
    path.write_bytes(b"".join(lines))

    assert first(verify_logs([path], PUBLIC)) == ("changed", 6)


def test_a_changed_line_with_every_later_hash_recomputed_fails_at_the_next_checkpoint(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    lines = lines_of(path)
    target = next(i for i, line in enumerate(lines) if b'"id":"aaaa' in line and b"r3" in line)
    lines[target] = lines[target].replace(b"secret/data/x", b"secret/data/y")
    # The forger re-links the rest of chain a: only the signatures give it away.
    previous = line_hash(lines[target])
    for i in range(target + 1, len(lines)):
        entry = orjson.loads(lines[i])
        if entry["chain"]["id"] != "a" * 32:
            continue
        entry["chain"]["prev"] = previous
        lines[i] = orjson.dumps(entry) + b"\n"
        previous = line_hash(lines[i])
    path.write_bytes(b"".join(lines))

    failures = verify_logs([path], PUBLIC).failures(allow_open_tail=False)
    assert failures[0].kind == "changed"
    assert "invalid signature" in failures[0].message
    assert failures[0].line > target + 1


def test_a_deleted_line_is_named_at_the_gap(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    lines = lines_of(path)
    del lines[4]
    path.write_bytes(b"".join(lines))

    kind, line = first(verify_logs([path], PUBLIC))
    assert kind == "deleted"
    assert line in (5, 6)  # the next line of the same chain, wherever the other writer's lines fall


def test_an_inserted_copy_and_an_inserted_stranger_are_named(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    lines = lines_of(path)
    path.write_bytes(b"".join([*lines[:7], lines[3], *lines[7:]]))
    assert first(verify_logs([path], PUBLIC)) == ("inserted", 8)

    stranger = orjson.dumps({"type": "request", "time": "t", "request": {"path": "sys/seal"}}) + b"\n"
    path.write_bytes(b"".join([*lines[:2], stranger, *lines[2:]]))
    assert first(verify_logs([path], PUBLIC)) == ("inserted", 3)


def test_a_fabricated_chain_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    forged = new_chain("f", key=Ed25519PrivateKey.generate())
    path.write_bytes(path.read_bytes() + b"".join(write(forged, 3, closing="close")))

    failures = verify_logs([path], PUBLIC).failures(allow_open_tail=True)
    assert failures
    assert failures[0].kind == "changed"
    assert "not the given key" in failures[0].message


def test_two_swapped_lines_of_one_writer_are_named_as_reordered(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    lines = lines_of(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))

    assert first(verify_logs([path], PUBLIC)) == ("reordered", 3)


def test_truncation_after_the_last_checkpoint_is_an_unverified_tail(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path, close=False)
    report = verify_logs([path], PUBLIC)
    assert {p.kind for p in report.problems} == {"open-tail"}
    assert report.failures(allow_open_tail=True) == []
    assert "unverified tail" in report.problems[0].message

    closed = interleaved_log(tmp_path)
    lines = lines_of(closed)
    closed.write_bytes(b"".join(lines[:-1]))  # the close checkpoint of chain b cut off
    report = verify_logs([closed], PUBLIC)
    assert [p.kind for p in report.failures(allow_open_tail=False)] == ["open-tail"]


def test_a_file_cut_inside_a_line_is_malformed_even_with_open_tails_allowed(tmp_path: Path) -> None:
    path = interleaved_log(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-40])

    failures = verify_logs([path], PUBLIC).failures(allow_open_tail=True)
    assert [p.kind for p in failures] == ["malformed"]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_a_log_rotated_into_three_files_verifies_in_any_order(tmp_path: Path, order: tuple[int, int, int]) -> None:
    a, b = new_chain("a"), new_chain("b")
    parts = [
        write(a, 3) + write(b, 3) + write(a, 0, closing="rotate") + write(b, 0, closing="rotate"),
        write(a, 5, 3) + write(b, 1, 3) + write(a, 0, closing="rotate") + write(b, 0, closing="rotate"),
        write(a, 2, 8) + write(b, 2, 4) + write(a, 0, closing="close") + write(b, 0, closing="close"),
    ]
    files = []
    for index, lines in enumerate(parts):
        files.append(tmp_path / f"audit.log.{index}")
        files[-1].write_bytes(b"".join(lines))

    report = verify_logs([files[i] for i in order], PUBLIC)
    assert report.problems == []
    assert report.files == [str(f) for f in files]

    missing_middle = verify_logs([files[2], files[0]], PUBLIC)
    assert first(missing_middle)[0] == "deleted"


def test_the_prefix_is_part_of_each_line(tmp_path: Path) -> None:
    chain = new_chain("p", prefix=b"audit: ")
    path = tmp_path / "prefixed.log"
    path.write_bytes(b"".join(write(chain, 5) + write(chain, 0, closing="close")))

    assert verify_logs([path], PUBLIC, prefix="audit: ").problems == []
    assert verify_logs([path], PUBLIC).problems == []  # found without being told, too
    lines = lines_of(path)
    lines[2] = lines[2].replace(b"audit: ", b"audit; ")
    path.write_bytes(b"".join(lines))
    assert first(verify_logs([path], PUBLIC)) == ("changed", 3)


def test_a_log_checked_against_the_wrong_key_fails(tmp_path: Path) -> None:
    report = verify_logs([interleaved_log(tmp_path)], Ed25519PrivateKey.generate().public_key())
    kind, _ = first(report)
    assert kind == "changed"
    assert "not the given key" in report.problems[0].message
