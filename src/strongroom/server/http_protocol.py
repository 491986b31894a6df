"""uvicorn's httptools protocol, taught Vault's extension methods LIST and SCAN.

Vault clients (hvac, Terraform) send ``LIST /v1/...``, and OpenBao added
``SCAN``. llhttp, the C parser behind httptools, only knows the registered HTTP
methods and answers anything else with 400. Rather than fall back to a
pure-Python parser for every request, this protocol rewrites the method token
of a request that *starts* a chunk to ``GET`` before parsing and restores the
real method in the ASGI scope.

Limit (documented): a LIST/SCAN request pipelined behind another request in the
same TCP segment is still refused with 400. Clients that matter here do not
pipeline; each request starts a new read after the previous response.
"""

from __future__ import annotations

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
        super().on_headers_complete()
        if self._extension_method is not None:
            # The request task is created above but has not run yet: it sees this method.
            self.scope["method"] = self._extension_method
            self._extension_method = None

    def on_message_complete(self) -> None:
        self._at_message_start = True
        super().on_message_complete()
