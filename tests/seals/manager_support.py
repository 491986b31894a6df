"""In-process seal managers over in-memory storage and a SoftHSM2 token, for the seal-manager tests.

Every seal opened through :func:`hsm` is closed by the ``close_hsm_sessions``
fixture (import it into the test module to use it as autouse).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from strongroom.core.seal import KeyEvent, LocalSealManager
from strongroom.crypto.barrier import Barrier
from strongroom.sdk.storage import StorageBackend
from strongroom.seals.pkcs11 import Pkcs11Options, Pkcs11Seal
from strongroom.storage.inmem import InmemBackend
from tests.seals.softhsm import LIB, PIN, Token
from tests.support.seal_node import mint_root

T = TypeVar("T")
_OPEN: list[Pkcs11Seal] = []


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def close_hsm_sessions() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def hsm(token: Token, pin: str = PIN, key_label: str = "strongroom-seal") -> Pkcs11Seal:
    seal = Pkcs11Seal(Pkcs11Options(lib=LIB, key_label=key_label, pin=pin, token_label=token.label), os.urandom)
    _OPEN.append(seal)
    return seal


def node(
    physical: StorageBackend,
    auto: Pkcs11Seal | None,
    events: list[str] | None = None,
    old: Pkcs11Seal | None = None,
) -> LocalSealManager:
    """A node as after a (re)start over ``physical``: sealed, nothing in memory."""
    seen = events if events is not None else []

    async def on_key(event: KeyEvent) -> None:
        seen.append(event.kind)

    return LocalSealManager(Barrier(physical), mint_root_token=mint_root, on_key=on_key, random_bytes=os.urandom,
                            clock=time.time, storage_type="inmem", auto_seal=auto, old_seal=old)


def initialised(token: Token) -> tuple[InmemBackend, dict[str, Any]]:
    """A store initialised under the HSM with 3 recovery shares, threshold 2."""
    physical = InmemBackend()
    answer = run(node(physical, hsm(token)).initialize(0, 0, 3, 2))
    return physical, answer
