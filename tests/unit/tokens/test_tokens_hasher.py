"""Hasher: HMAC-SHA256 under the salt with a label per kind, the same answer on every call."""

from __future__ import annotations

import hashlib
import hmac

from strongroom.core.tokens.ids import Hasher

SALT = bytes(range(32))


def test_hashes_are_hmac_sha256_of_label_and_value_and_repeat_exactly() -> None:
    hasher = Hasher(SALT)
    expected = hmac.new(SALT, b"token-id\x00hvs.example", hashlib.sha256).hexdigest()
    assert [hasher.token("hvs.example") for _ in range(3)] == [expected] * 3
    assert hasher.accessor("acc") == hmac.new(SALT, b"token-accessor\x00acc", hashlib.sha256).hexdigest()
    assert hasher.token("hvs.example") != Hasher(bytes(32)).token("hvs.example")


def test_values_that_cannot_be_tokens_have_no_hash_and_the_salt_stays_hidden() -> None:
    hasher = Hasher(SALT)
    assert hasher.token("") is None
    assert hasher.token("\ud800") is None
    assert SALT.hex() not in repr(hasher)
