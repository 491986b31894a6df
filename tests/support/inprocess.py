"""An in-process server for API tests: the real Core and ASGI edge, no sockets.

Requests go through httpx's ASGI transport on an event loop in a background
thread, so tests stay plain synchronous functions.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from strongroom.core.core import Core
from strongroom.core.seal import KeyEvent
from strongroom.crypto.barrier import Barrier
from strongroom.http.app import VaultApp
from strongroom.http.limits import RequestLimits
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import Clock
from strongroom.server.node import apply_key_event, build_core, local_seal_manager
from strongroom.server.settings import NodeSettings
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")


class InProcessServer:
    def __init__(
        self,
        *,
        physical: StorageBackend | None = None,
        dev: bool = True,
        limits: RequestLimits | None = None,
        clock: Clock = time.time,
    ) -> None:
        """``clock`` reaches the barrier, the seal manager and the Core (pass a ``ManualClock`` to move time)."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.physical = physical or InmemBackend()
        self.clock = clock
        self.barrier = Barrier(self.physical, clock=clock)
        self.seal = local_seal_manager(self.barrier, self._on_key, "inmem")
        settings = NodeSettings(dev=dev)
        self.core: Core = build_core(settings, self.physical, self.seal, self.barrier, clock=clock)
        self.app = VaultApp(self.core.handle, limits)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://strongroom.test"
        )
        self.root_token = ""
        self.unseal_keys: list[bytes] = []

    async def _on_key(self, event: KeyEvent) -> None:
        await apply_key_event(self.core, event)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def init_and_unseal(self, shares: int = 1, threshold: int = 1) -> str:
        result = self.run(self.seal.initialize_with_token(shares, threshold, None))
        self.unseal_keys = result.keys
        self.run(self.seal.unseal_with_keys(result.keys[:threshold]))
        self.root_token = result.root_token
        return result.root_token

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        use = self.root_token if token is None else token
        if use:
            headers["X-Vault-Token"] = use
        return self.run(self.client.request(method, "/v1/" + path.lstrip("/"), headers=headers, **kwargs))

    def close(self) -> None:
        # End event streams and write pending events while the loop still runs (no task left behind).
        self.run(self.core.events.aclose("server closed"))
        self.run(self.core.event_publisher.drain())
        self.run(self.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()
