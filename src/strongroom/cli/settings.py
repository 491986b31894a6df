"""Where the CLI finds its server, token and TLS settings: flags, then environment.

Every setting reads the ``STRONGROOM_*`` variable first and Vault's ``VAULT_*``
second, so existing Vault scripts work unchanged and a Strongroom-specific
value wins when both are set. Flags beat both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from strongroom.cli.errors import LocalError

DEFAULT_ADDRESS = "https://127.0.0.1:8200"
FORMATS = ("table", "json", "yaml")
_TRUE = frozenset({"1", "true", "t", "yes"})


def env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``STRONGROOM_<name>`` or else ``VAULT_<name>``; empty values count as unset."""
    source = os.environ if environ is None else environ
    for prefix in ("STRONGROOM_", "VAULT_"):
        value = source.get(prefix + name)
        if value:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved connection settings. The token is excluded from ``repr``."""

    address: str
    token: str | None = field(default=None, repr=False)
    namespace: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    skip_verify: bool = False
    format: str = "table"


def resolve(
    *,
    address: str | None,
    namespace: str | None,
    ca_cert: str | None,
    client_cert: str | None,
    client_key: str | None,
    skip_verify: bool,
    output_format: str | None,
    token: str | None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Combine flags (``None`` = not given) with the environment.

    ``token`` is what the caller found (environment or token helper); it is
    passed in so that reading the token file stays the caller's decision.
    """
    chosen_address = (address or env("ADDR", environ) or DEFAULT_ADDRESS).rstrip("/")
    if not chosen_address.startswith(("http://", "https://")):
        raise LocalError(f'invalid address "{chosen_address}": expected http://host:port or https://host:port')
    chosen_format = (output_format or env("FORMAT", environ) or "table").lower()
    if chosen_format not in FORMATS:
        raise LocalError(f'invalid format "{chosen_format}": use table, json or yaml')
    skip = skip_verify or (env("SKIP_VERIFY", environ) or "").lower() in _TRUE
    return Settings(
        address=chosen_address,
        token=token,
        namespace=namespace or env("NAMESPACE", environ),
        ca_cert=ca_cert or env("CACERT", environ),
        client_cert=client_cert or env("CLIENT_CERT", environ),
        client_key=client_key or env("CLIENT_KEY", environ),
        skip_verify=skip,
        format=chosen_format,
    )


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"WARNING: {message}", file=sys.stderr)
