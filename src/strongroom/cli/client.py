"""A small synchronous client for the server's HTTP API (``/v1/...``), over httpx.

It speaks Vault's wire format: the token in ``X-Vault-Token``, the namespace
in ``X-Vault-Namespace``, the LIST verb, JSON bodies, ``errors`` arrays. Every
failure becomes a :class:`RemoteError` with a one-line message: connection
refused, TLS problems, timeouts and error statuses alike. It never raises an
httpx exception to its caller and never puts the token in a message.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from strongroom.cli.errors import ApiError, LocalError, RemoteError
from strongroom.cli.settings import Settings

_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A successful answer: the status and the decoded JSON body (None for 204)."""

    status: int
    body: dict[str, Any] | None

    @property
    def data(self) -> Any:
        return (self.body or {}).get("data")


class ApiClient:
    """One connection pool to one server; use as a context manager."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        verify: ssl.SSLContext | bool = True
        if settings.skip_verify:
            verify = False
        elif settings.ca_cert:
            try:
                verify = ssl.create_default_context(cafile=settings.ca_cert)
            except (OSError, ssl.SSLError) as exc:
                raise LocalError(f"cannot load CA certificate {settings.ca_cert}: {exc}") from None
        cert: tuple[str, str] | None = None
        if settings.client_cert or settings.client_key:
            if not (settings.client_cert and settings.client_key):
                raise LocalError("a client certificate needs both -client-cert and -client-key")
            cert = (settings.client_cert, settings.client_key)
        headers = {"User-Agent": "strongroom-cli"}
        if settings.namespace:
            headers["X-Vault-Namespace"] = settings.namespace
        try:
            self._http = httpx.Client(
                base_url=settings.address, verify=verify, cert=cert, timeout=_TIMEOUT, headers=headers
            )
        except (OSError, ssl.SSLError) as exc:
            raise LocalError(f"cannot load client certificate: {exc}") from None

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        content_type: str | None = None,
        authenticated: bool = True,
    ) -> ApiResponse:
        """Send one request to ``/v1/<path>``; raise RemoteError on any failure.

        ``token`` overrides the configured token for this call (login checks a
        token before storing it). ``authenticated=False`` sends no token.
        """
        headers: dict[str, str] = {}
        chosen = token if token is not None else self.settings.token
        if authenticated and chosen:
            headers["X-Vault-Token"] = chosen
        content = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = content_type or "application/json"
        url = "/v1/" + path.lstrip("/")
        try:
            answer = self._http.request(method, url, content=content, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise RemoteError(self._transport_message(exc)) from None
        return _decode(answer, method, path)

    def stream_lines(self, path: str, params: dict[str, Any], *, timeout: float | None = None) -> Iterator[str]:
        """The lines of a server-sent-events answer from ``/v1/<path>``, as they arrive (no read timeout).

        Stops after ``timeout`` seconds of wall time when given (checked as lines arrive and at
        each keep-alive the server sends). RemoteError on a refusal or a broken connection.
        """
        headers = {"Accept": "text/event-stream"}
        if self.settings.token:
            headers["X-Vault-Token"] = self.settings.token
        deadline = None if timeout is None else time.monotonic() + timeout
        url = "/v1/" + path.lstrip("/")
        try:
            with self._http.stream(
                "GET", url, params=params, headers=headers, timeout=httpx.Timeout(60.0, connect=10.0, read=timeout)
            ) as answer:
                if answer.status_code != 200:
                    answer.read()
                    _decode(answer, "GET", path)  # raises with the server's error
                for line in answer.iter_lines():
                    yield line
                    if deadline is not None and time.monotonic() >= deadline:
                        return
        except httpx.ReadTimeout:
            return  # the timeout passed with no event at all
        except httpx.HTTPError as exc:
            raise RemoteError(self._transport_message(exc)) from None

    def _transport_message(self, exc: httpx.HTTPError) -> str:
        address = self.settings.address
        text = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out talking to {address}"
        if isinstance(exc, httpx.ConnectError):
            if "SSL" in text or "certificate" in text.lower():
                hint = ""
                if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
                    hint = " (is the server serving plain HTTP? use an http:// address)"
                return f"TLS error talking to {address}: {_first_line(text)}{hint}"
            return f"cannot connect to {address}: {_first_line(text)}"
        return f"error talking to {address}: {_first_line(text)}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _decode(answer: httpx.Response, method: str, path: str) -> ApiResponse:
    body: dict[str, Any] | None = None
    if answer.content:
        try:
            parsed = answer.json()
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            body = parsed
        elif answer.status_code < 400:
            raise RemoteError(f"the server answered {method} {path} with a body that is not a JSON object")
    if answer.status_code >= 400:
        errors = body.get("errors") if body else None
        messages = [str(item) for item in errors] if isinstance(errors, list) else []
        raise ApiError(answer.status_code, messages, method, path)
    return ApiResponse(answer.status_code, body)
