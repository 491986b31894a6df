"""The logical-backend conformance suite every secrets engine and auth method runs (test-only).

Subclass :class:`LogicalBackendConformance` and provide :meth:`make_backend`
(a backend over the given context) plus ``sample_paths``: a few request paths
the backend serves, each with an operation it supports. The suite pins what
the core relies on:

* a path the backend does not serve is ``NotFound`` (404), never a crash;
* an operation a served path does not support is ``UnsupportedOperation`` (405);
* ``unauthenticated_paths`` and ``sudo_paths`` are valid regular expressions;
* ``setup`` and ``cleanup`` can run repeatedly (the core calls them on every
  unseal and seal);
* an error never echoes request data (a canary in the body of a bad request).
"""

from __future__ import annotations

import abc
import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import ClassVar

import pytest

from strongroom.errors import NotFound, StrongroomError, UnsupportedOperation
from strongroom.sdk.logical import BackendContext, LogicalBackend, Operation, Request
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock, SystemView

CANARY = "conformance-canary-7f3a9c"


class LogicalBackendConformance(abc.ABC):
    #: (operation, path, body) the backend serves successfully, in order, on a fresh mount.
    sample_paths: ClassVar[tuple[tuple[Operation, str, dict[str, object]], ...]] = ()
    #: An operation that ``unsupported_path`` does not support.
    unsupported: ClassVar[tuple[Operation, str] | None] = None

    @abc.abstractmethod
    def make_backend(self, ctx: BackendContext) -> LogicalBackend: ...

    @abc.abstractmethod
    def make_storage(self) -> StorageBackend:
        """A fresh, empty storage view for the mount (an in-memory backend is typical)."""

    def _context(self) -> BackendContext:
        clock = ManualClock()
        return BackendContext(
            storage=self.make_storage(),
            system=SystemView(clock=clock),
            mount_point="conformance/",
            mount_accessor="conformance_1234",
        )

    def _run(self, scenario: Callable[[LogicalBackend, BackendContext], Awaitable[None]]) -> None:
        async def main() -> None:
            ctx = self._context()
            backend = self.make_backend(ctx)
            await backend.setup()
            try:
                await scenario(backend, ctx)
            finally:
                await backend.cleanup()

        asyncio.run(main())

    @staticmethod
    def _request(ctx: BackendContext, op: Operation, path: str, data: dict[str, object] | None = None) -> Request:
        return Request(
            operation=op,
            path=path,
            data=dict(data or {}),
            storage=ctx.storage,
            mount_point=ctx.mount_point,
            mount_accessor=ctx.mount_accessor,
            sudo=True,
        )

    def test_unknown_path_is_not_found(self) -> None:
        async def scenario(backend: LogicalBackend, ctx: BackendContext) -> None:
            with pytest.raises(NotFound):
                await backend.handle(self._request(ctx, Operation.READ, "no/such/endpoint/for-conformance"))

        self._run(scenario)

    def test_unsupported_operation_is_405(self) -> None:
        if self.unsupported is None:
            pytest.fail("set `unsupported` to an (operation, path) the backend refuses with 405")
        op, path = self.unsupported

        async def scenario(backend: LogicalBackend, ctx: BackendContext) -> None:
            with pytest.raises(UnsupportedOperation):
                await backend.handle(self._request(ctx, op, path))

        self._run(scenario)

    def test_sample_paths_are_served(self) -> None:
        assert self.sample_paths, "declare sample_paths"

        async def scenario(backend: LogicalBackend, ctx: BackendContext) -> None:
            for op, path, body in self.sample_paths:
                await backend.handle(self._request(ctx, op, path, body))

        self._run(scenario)

    def test_special_paths_are_valid_patterns(self) -> None:
        backend = self.make_backend(self._context())
        for pattern in [*backend.unauthenticated_paths(), *backend.sudo_paths()]:
            re.compile(pattern)

    def test_setup_and_cleanup_can_repeat(self) -> None:
        async def scenario(backend: LogicalBackend, ctx: BackendContext) -> None:
            await backend.cleanup()
            await backend.setup()
            await backend.setup()

        self._run(scenario)

    def test_errors_never_echo_request_data(self) -> None:
        async def scenario(backend: LogicalBackend, ctx: BackendContext) -> None:
            bad_values: list[object] = [[CANARY], {"nested": CANARY}, 10**40, CANARY]
            messages: list[str] = []
            for op, path, _ in self.sample_paths:
                for value in bad_values:
                    body = dict.fromkeys(("data", "options", "ttl", "policies", "max_versions", CANARY), value)
                    write_op = Operation.UPDATE if op in (Operation.READ, Operation.LIST) else op
                    try:
                        await backend.handle(self._request(ctx, write_op, path, body))
                    except StrongroomError as exc:
                        messages.extend([exc.message, *exc.errors])
            leaked = [m for m in messages if CANARY in m]
            assert not leaked, "an error message echoed request data"

        self._run(scenario)
