"""The keyring: terms, immutable rotation, serialisation and hidden keys."""

from __future__ import annotations

import base64
import json
import random

import pytest

from strongroom.crypto.keyring import Keyring, Term
from strongroom.errors import InternalError


def make_keyring(seed: int = 1) -> Keyring:
    return Keyring.create(random.Random(seed).randbytes, now=1000.0)


def test_a_new_keyring_has_term_one_installed_now() -> None:
    keyring = make_keyring()
    assert keyring.active_term == 1
    assert keyring.active.install_time == 1000.0
    assert len(keyring.active.key) == 32


def test_rotation_returns_a_new_keyring_with_the_next_term_and_leaves_the_old_one_alone() -> None:
    keyring = make_keyring()
    rotated = keyring.rotate(random.Random(2).randbytes, now=2000.0)
    assert keyring.active_term == 1
    assert rotated.active_term == 2
    assert [term.number for term in rotated.terms] == [1, 2]
    assert rotated.active.install_time == 2000.0
    assert rotated.active.key != keyring.active.key
    first = rotated.term(1)
    assert first is not None
    assert first.key == keyring.active.key
    assert rotated.term(3) is None


def test_a_keyring_survives_serialisation() -> None:
    keyring = make_keyring().rotate(random.Random(3).randbytes, now=3000.5)
    restored = Keyring.from_bytes(keyring.to_bytes())
    assert restored.to_bytes() == keyring.to_bytes()
    assert restored.active_term == 2
    assert restored.includes(keyring)
    assert keyring.includes(restored)


def test_includes_notices_a_missing_term_and_a_different_key() -> None:
    keyring = make_keyring()
    rotated = keyring.rotate(random.Random(4).randbytes, now=1.0)
    assert rotated.includes(keyring)
    assert not keyring.includes(rotated)
    assert not make_keyring(seed=9).includes(keyring)


def test_neither_keyring_nor_term_repr_shows_a_key() -> None:
    keyring = make_keyring().rotate(random.Random(5).randbytes, now=1.0)
    text = repr(keyring) + "".join(repr(term) for term in keyring.terms)
    for term in keyring.terms:
        assert term.key.hex() not in text
        assert base64.b64encode(term.key).decode() not in text
        assert repr(term.key) not in text
    assert repr(keyring) == "Keyring(active_term=2, terms=[1, 2])"


def valid_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(make_keyring().to_bytes())
    return document


def a_term(**changes: object) -> dict[str, object]:
    return {"term": 1, "key": base64.b64encode(bytes(32)).decode(), "install_time": 1.0, **changes}


def with_term(**changes: object) -> dict[str, object]:
    return {"version": 1, "terms": [a_term(**changes)]}


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"version": 2, "terms": valid_document()["terms"]},
        {"version": 1},
        {"version": 1, "terms": []},
        {"version": 1, "terms": "nope"},
        with_term(term=0),
        with_term(term=True),
        with_term(term=2**32),
        with_term(key="not base64!"),
        with_term(key=base64.b64encode(bytes(31)).decode()),
        with_term(install_time="yesterday"),
        with_term(install_time=float("inf")),
        with_term(extra=1),
        {"version": 1, "terms": [a_term(), a_term()]},
    ],
)
def test_malformed_keyrings_are_refused_without_naming_a_key(document: object) -> None:
    with pytest.raises(InternalError) as caught:
        Keyring.from_bytes(json.dumps(document).encode())
    assert caught.value.message == "stored keyring is malformed"


def test_bytes_that_are_not_json_are_refused() -> None:
    with pytest.raises(InternalError):
        Keyring.from_bytes(b"\xff\xfe not json")


def test_terms_refuse_impossible_numbers_and_key_sizes() -> None:
    with pytest.raises(ValueError, match="term"):
        Term(0, bytes(32), 1.0)
    with pytest.raises(ValueError, match="32 bytes"):
        Term(1, bytes(16), 1.0)


def test_a_keyring_needs_a_term_and_distinct_numbers() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Keyring([])
    with pytest.raises(ValueError, match="duplicate"):
        Keyring([Term(1, bytes(32), 1.0), Term(1, bytes(32), 2.0)])


def test_a_broken_random_source_cannot_produce_a_short_key() -> None:
    with pytest.raises(InternalError):
        Keyring.create(lambda n: bytes(n - 1), now=1.0)
