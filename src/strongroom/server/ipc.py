"""The private channel between the supervisor and its workers.

Frames are a 4-byte big-endian length followed by an orjson object, over a
Unix socketpair inherited at spawn (never a file, never the network). Both
sides can send requests (``{"id", "op", "args"}``) and answer them
(``{"id", "ok", "result"|"error"}``); the supervisor's requests to a worker are
pushes such as "the barrier is unsealed, here is the root key".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from strongroom.errors import InternalError, StrongroomError

log = logging.getLogger("strongroom.ipc")

_LENGTH = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024

RequestHandler = Callable[[str, dict[str, Any]], Awaitable[Any]]


class ChannelClosed(InternalError):
    def __init__(self) -> None:
        super().__init__("the supervisor channel is closed")


class Channel:
    """One end of a socketpair, able to call the other end and to serve its calls."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: RequestHandler) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._write_lock = asyncio.Lock()
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, sock: socket.socket, handler: RequestHandler) -> Channel:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        return cls(reader, writer, handler)

    async def call(self, op: str, args: dict[str, Any] | None = None, limit_seconds: float = 60.0) -> Any:
        if self._closed:
            raise ChannelClosed()
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._send({"id": msg_id, "op": op, "args": args or {}})
            return await asyncio.wait_for(future, limit_seconds)
        finally:
            self._pending.pop(msg_id, None)

    async def notify(self, op: str, args: dict[str, Any] | None = None) -> None:
        """Send a call nobody answers (fire-and-forget): the other end runs it and replies nothing."""
        if self._closed:
            raise ChannelClosed()
        await self._send({"op": op, "args": args or {}})

    async def _send(self, message: dict[str, Any]) -> None:
        payload = orjson.dumps(message)
        async with self._write_lock:
            self._writer.write(_LENGTH.pack(len(payload)) + payload)
            await self._writer.drain()

    async def serve(self) -> None:
        """Read frames until the other end goes away; answers calls and resolves replies."""
        try:
            while True:
                header = await self._reader.readexactly(_LENGTH.size)
                (length,) = _LENGTH.unpack(header)
                if length > MAX_FRAME:
                    raise InternalError("oversized IPC frame")
                message = orjson.loads(await self._reader.readexactly(length))
                if "op" in message:
                    task = asyncio.create_task(self._answer(message))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                else:
                    self._resolve(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ChannelClosed())

    def _resolve(self, message: dict[str, Any]) -> None:
        future = self._pending.get(message.get("id", -1))
        if future is None or future.done():
            return
        if message.get("ok"):
            future.set_result(message.get("result"))
        else:
            error = message.get("error") or {}
            exc = StrongroomError(error.get("message", "internal error"), errors=error.get("errors"))
            exc.status = int(error.get("status", 500))
            future.set_exception(exc)

    async def _answer(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"id": message.get("id")}
        try:
            reply["result"] = await self._handler(message["op"], message.get("args") or {})
            reply["ok"] = True
        except StrongroomError as exc:
            reply["ok"] = False
            reply["error"] = {"status": exc.status, "message": exc.message, "errors": exc.errors}
        except Exception:
            log.exception("IPC handler for %r failed", message.get("op"))
            reply["ok"] = False
            reply["error"] = {"status": 500, "message": "internal error", "errors": ["internal error"]}
        if reply["id"] is None:
            return  # a notification: nobody waits for the answer
        with contextlib.suppress(ConnectionError):
            await self._send(reply)

    def close(self) -> None:
        self._closed = True
        self._writer.close()
