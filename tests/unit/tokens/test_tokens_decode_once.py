"""decode_entry: a stored token entry is parsed once per distinct stored form, and never served stale."""

from __future__ import annotations

from dataclasses import replace

import pytest

from strongroom.core.tokens import entry as entry_module
from strongroom.core.tokens.entry import TokenEntry, decode_entry
from strongroom.errors import InternalError


def _entry(**changes: object) -> TokenEntry:
    base = TokenEntry(
        id_hash="h1", accessor="a1", parent="", policies=("default",), path="auth/token/create", meta={"k": "v"},
        display_name="token", num_uses=0, creation_time=1.0, ttl=60, max_ttl=0, explicit_max_ttl=0, period=0,
        renewable=True, role="", type="service", entity_id="", bound_cidrs=(), expire_time=61.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_identical_stored_bytes_decode_to_the_same_entry_object() -> None:
    raw = _entry().to_bytes()
    first = decode_entry(raw)
    assert first == TokenEntry.from_bytes(raw)
    assert decode_entry(bytes(raw)) is first


def test_changed_stored_bytes_decode_afresh() -> None:
    live = decode_entry(_entry().to_bytes())
    revoking = decode_entry(_entry(revoking=True).to_bytes())
    spent = decode_entry(_entry(num_uses=-1).to_bytes())
    assert not live.revoking
    assert revoking.revoking
    assert spent.revocation_pending


def test_malformed_bytes_still_raise_and_are_not_remembered() -> None:
    for _ in range(2):
        with pytest.raises(InternalError):
            decode_entry(b'{"v": 1}')
    assert b'{"v": 1}' not in entry_module._decoded


def test_the_map_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry_module, "DECODED_MAX", 3)
    monkeypatch.setattr(entry_module, "_decoded", {})
    for n in range(10):
        decode_entry(_entry(id_hash=f"h{n}").to_bytes())
        assert len(entry_module._decoded) <= 3
