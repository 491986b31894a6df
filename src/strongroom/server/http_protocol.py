"""uvicorn's httptools protocol, taught Vault's extension methods LIST and SCAN.

Vault clients (hvac, Terraform) send ``LIST /v1/...``, and OpenBao added
``SCAN``. llhttp, the C parser behind httptools, only knows the registered HTTP
methods and answers anything else with 400. Rather than fall back to a
pure-Python parser for every request, this protocol rewrites the method token
of a request that *starts* a chunk to ``GET`` before parsing and restores the
real method in the ASGI scope.

It also fills ASGI's TLS extension (``scope["extensions"]["tls"]``) on TLS
connections: ``client_cert_chain`` holds the client certificate the handshake
verified (PEM, leaf only: Python 3.11's ``ssl`` exposes no chain), read once per
connection. The ``cert`` auth method authenticates with it.

And it sends a response's status line and headers in the same ``write`` as the
start of its body (:class:`JoinedResponseWrites`): uvicorn writes them
separately, which costs every response a second system call and TCP segment.

Limit (documented): a LIST/SCAN request pipelined behind another request in the
same TCP segment is still refused with 400. Clients that matter here do not
pipeline; each request starts a new read after the previous response.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_EXTENSION_METHODS = {b"LIST ": "LIST", b"SCAN ": "SCAN"}
_TOKEN_LENGTH = 5


class VaultHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._at_message_start = True
        self._held = b""
        self._extension_method: str | None = None
        self._tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self._tls = tls_extension(ssl_object)

    def data_received(self, data: bytes) -> None:
        if self._at_message_start:
            data = self._held + data
            self._held = b""
            head = data[:_TOKEN_LENGTH]
            if len(data) < _TOKEN_LENGTH and any(token.startswith(head) for token in _EXTENSION_METHODS):
                self._held = data  # wait for the rest of the method token
                return
            method = _EXTENSION_METHODS.get(head)
            if method is not None:
                self._extension_method = method
                data = b"GET " + data[_TOKEN_LENGTH:]
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._at_message_start = False
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self._tls is not None:
            extensions: dict[str, Any] = dict(self.scope.get("extensions") or {})
            extensions["tls"] = self._tls
            self.scope["extensions"] = extensions
        previous = self.cycle
        super().on_headers_complete()
        if self._extension_method is not None:
            # The request task is created above but has not run yet: it sees this method.
            self.scope["method"] = self._extension_method
            self._extension_method = None
        cycle = self.cycle
        if cycle is not None and cycle is not previous:  # no new cycle: an upgrade request
            # uvicorn's cycle writes only through its ``transport`` attribute, and its task
            # has not run yet, so every write of this response goes through the wrapper.
            cycle.transport = JoinedResponseWrites(cycle.transport, self.loop)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._at_message_start = True
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        # Written to the transport directly: what the current response still holds goes first.
        cycle = self.cycle
        if cycle is not None and isinstance(cycle.transport, JoinedResponseWrites):
            cycle.transport.flush()
        super().send_400_response(msg)


class JoinedResponseWrites:
    """The transport as one response's cycle sees it: the first write (the status line and
    headers) is held until the next one (the body) and both go out as one ``write``.

    Nothing is held past the current event-loop turn (a ``call_soon`` flush covers a
    response whose body comes later, or never, as for HEAD), nor past ``close``. Only
    the first write is held, so the body, however large, is never delayed or copied
    more than once.
    """

    __slots__ = ("_first", "_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif self._first:
            self._first = False
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """ASGI's TLS extension for one connection; the client certificate only when the handshake
    verified it (the context's verify mode is CERT_OPTIONAL or CERT_REQUIRED)."""
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": None,
        "cipher_suite": None,
    }
