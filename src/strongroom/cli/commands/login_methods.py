"""How ``strongroom login -method=NAME key=value...`` logs in with an auth method other than a token.

Each method turns the ``key=value`` arguments into one login request, as
Vault's CLI does for the methods it knows:

* ``userpass``: ``username=NAME`` (required) and ``password=...``; without a
  password argument it is prompted for without echo (or read from stdin when
  that is not a terminal; ``password=-`` reads it from stdin too).
* ``approle``: ``role_id=...`` (required) and ``secret_id=...`` (``-``: stdin).
* ``cert``: optional ``name=ENTRY``; the credential is the TLS client certificate
  (``-client-cert``/``-client-key`` or ``VAULT_CLIENT_CERT``/``VAULT_CLIENT_KEY``).

``-path`` names the mount (default: the method's name). Errors name
arguments, never their values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from strongroom.cli.errors import LocalError
from strongroom.cli.session import ask_secret

#: (request path, request body) of one login.
LoginRequest = tuple[str, dict[str, Any]]


def _text(values: dict[str, Any], key: str) -> str | None:
    value = values.pop(key, None)
    if value is not None and not isinstance(value, str):
        raise LocalError(f"{key}= must be given once, as text")
    return value


def _no_leftovers(values: Mapping[str, Any], method: str) -> None:
    if values:
        raise LocalError(f"unknown argument(s) for -method={method}: {', '.join(sorted(values))}")


def userpass_request(mount: str, values: dict[str, Any]) -> LoginRequest:
    username = _text(values, "username")
    if not username:
        raise LocalError("username=NAME is required for -method=userpass")
    password = ask_secret("Password (will be hidden)", _text(values, "password"))
    _no_leftovers(values, "userpass")
    if not password:
        raise LocalError("no password given")
    return f"auth/{mount}/login/{quote(username, safe='')}", {"password": password}


def approle_request(mount: str, values: dict[str, Any]) -> LoginRequest:
    role_id = _text(values, "role_id")
    if not role_id:
        raise LocalError("role_id=... is required for -method=approle")
    body: dict[str, Any] = {"role_id": role_id}
    secret_id = _text(values, "secret_id")
    if secret_id is not None:
        body["secret_id"] = secret_id
    _no_leftovers(values, "approle")
    return f"auth/{mount}/login", body


def cert_request(mount: str, values: dict[str, Any]) -> LoginRequest:
    name = _text(values, "name")
    _no_leftovers(values, "cert")
    return f"auth/{mount}/login", {"name": name} if name else {}


METHODS: Mapping[str, Callable[[str, dict[str, Any]], LoginRequest]] = {
    "userpass": userpass_request,
    "approle": approle_request,
    "cert": cert_request,
}
