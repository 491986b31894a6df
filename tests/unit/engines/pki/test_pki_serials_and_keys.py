"""Serial numbers (Vault's spellings, RFC 5280's size) and key helpers."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.engines.pki import keys
from strongroom.engines.pki.keys import KeySpec, generate_async, key_spec
from strongroom.engines.pki.serials import format_serial, new_serial, parse_serial, storage_name
from strongroom.errors import InvalidRequest


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2**159 - 1))
def test_every_spelling_of_a_serial_parses_back(serial: int) -> None:
    shown = format_serial(serial)
    assert parse_serial(shown) == serial
    assert parse_serial(shown.upper()) == serial
    assert parse_serial(storage_name(serial)) == serial
    assert parse_serial(shown.replace(":", "")) == serial


def test_serials_look_like_vaults() -> None:
    assert format_serial(0x39DD2E) == "39:dd:2e"
    assert format_serial(0x0A01) == "0a:01"
    assert storage_name(0x39DD2E) == "39-dd-2e"
    assert parse_serial("3:dd:2e") == 0x03DD2E


@pytest.mark.parametrize("text", ["", "zz", "01::02", "001:02", ":".join(["ff"] * 21), "f" * 41, None, 17])
def test_malformed_serials_are_none(text: object) -> None:
    assert parse_serial(text) is None


def test_new_serials_are_positive_and_fit_twenty_octets() -> None:
    draws = iter([b"\xff" * 20, b"\x00" * 20, b"\x00" * 19 + b"\x01"])
    assert new_serial(lambda n: next(draws)) == 2**159 - 1  # the top bit is cleared
    draws = iter([b"\x00" * 20, b"\x00" * 19 + b"\x05"])
    assert new_serial(lambda n: next(draws)) == 5  # zero is redrawn


def test_rsa_keys_are_made_off_the_event_loop_and_ec_keys_inline(monkeypatch) -> None:
    offloaded: list[str] = []

    async def recording_to_thread(function, *args):
        offloaded.append(args[0].key_type)
        return function(*args)

    monkeypatch.setattr(keys.asyncio, "to_thread", recording_to_thread)
    asyncio.run(generate_async(KeySpec("ec", 256)))
    asyncio.run(generate_async(KeySpec("ed25519", 0)))
    asyncio.run(generate_async(KeySpec("rsa", 2048)))
    assert offloaded == ["rsa"]


@pytest.mark.parametrize(
    ("key_type", "bits", "resolved"),
    [("rsa", 0, 2048), ("rsa", 4096, 4096), ("ec", 0, 256), ("ec", 521, 521), ("ed25519", 4096, 0)],
)
def test_key_spec_resolves_defaults(key_type: str, bits: int, resolved: int) -> None:
    assert key_spec(key_type, bits) == KeySpec(key_type, resolved)


def test_key_spec_any_only_where_allowed() -> None:
    assert key_spec("any", 0, allow_any=True) == KeySpec("any", 0)
    with pytest.raises(InvalidRequest):
        key_spec("any", 0)
