"""Small helpers for plug-ins that call out over HTTP (JWKS, TokenReview, ...), after the egress check."""

from __future__ import annotations

import ssl

import httpx


class BodyTooLarge(Exception):
    """The peer sent more than the caller's limit; nothing beyond it was read."""


def is_tls_failure(exc: BaseException) -> bool:
    """Whether a connect error was caused by the TLS handshake (an untrusted or misnamed certificate)."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain httpx -> httpcore -> ssl is short; bound it anyway
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def read_bounded(reply: httpx.Response, limit: int) -> bytes:
    """A streamed reply's body, read no further than ``limit`` bytes (BodyTooLarge past it)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in reply.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
