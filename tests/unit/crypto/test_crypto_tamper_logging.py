"""A failed decryption tells the operator where (the path), never what (the value)."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

from strongroom.crypto.barrier import Barrier
from strongroom.errors import DecryptionFailed
from strongroom.storage.inmem import InmemBackend


def test_tampered_entry_is_logged_by_path_without_its_value(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = Barrier(physical)
        root_key = os.urandom(32)
        await barrier.initialize(root_key)
        await barrier.unseal(root_key)
        await barrier.put("logical/app/db", b"tamper-canary-value")
        blob = bytearray(await physical.get("logical/app/db") or b"")
        blob[-1] ^= 1
        await physical.put("logical/app/db", bytes(blob))
        with pytest.raises(DecryptionFailed):
            await barrier.get("logical/app/db")

    with caplog.at_level(logging.DEBUG, logger="strongroom"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert any("logical/app/db" in m and "failed to decrypt" in m for m in messages)
    assert not any("tamper-canary-value" in m for m in messages)
