"""``random`` and ``hash``: stateless tools that use no key."""

from __future__ import annotations

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response

from . import digests
from .encoding import b64, field_bytes
from .engine import Engine

MAX_RANDOM_BYTES = 128 * 1024
#: ``platform`` is the server's CSPRNG; ``all`` mixes every source the server has, which is that one.
RANDOM_SOURCES = ("platform", "all")


def _encode(data: bytes, fmt: str) -> str:
    fmt = (fmt or "base64").lower()
    if fmt == "hex":
        return data.hex()
    if fmt == "base64":
        return b64(data)
    raise InvalidRequest("unsupported format: use hex or base64")


class ToolHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def random(self, req: Request, fd: FieldData) -> Response:
        source = str(fd.get("source") or "platform").lower()
        if source not in RANDOM_SOURCES:
            raise InvalidRequest("unsupported random source: use platform or all (this server has no seal entropy)")
        raw_count = fd.get("urlbytes") or fd.get("bytes")
        try:
            count = int(raw_count)
        except (TypeError, ValueError):
            raise InvalidRequest("error parsing the byte count: expected an integer") from None
        if not 1 <= count <= MAX_RANDOM_BYTES:
            raise InvalidRequest(f"bytes must be between 1 and {MAX_RANDOM_BYTES}")
        fmt: str = fd.get("format")
        _encode(b"", fmt)  # refuse a bad format before drawing randomness
        return Response(data={"random_bytes": _encode(self.engine.random(count), fmt)})

    async def hash(self, req: Request, fd: FieldData) -> Response:
        alg = digests.algorithm(str(fd.get("urlalgorithm") or fd.get("algorithm") or ""))
        if fd.raw.get("input") is None:
            raise InvalidRequest("missing input to hash")
        data = field_bytes(fd.get("input"), "input")
        return Response(data={"sum": _encode(digests.digest(alg, data), fd.get("format") or "hex")})
