"""What ``strongroom server -dev`` prints: where it listens and how to use it."""

from __future__ import annotations

import base64
import sys

from strongroom import __version__
from strongroom.server.settings import NodeSettings


def print_dev_banner(settings: NodeSettings, unseal_key: bytes, root_token: str) -> None:
    listener = settings.listeners[0]
    address = f"{listener.scheme}://{listener.host}:{listener.port}"
    lines = [
        f"==> Strongroom {__version__} dev server started. Its data lives in memory (encrypted) and is",
        "    lost when it stops. Do not run a dev server in production.",
        "",
        f"    Api Address: {address}",
        "    Storage: inmem (encrypted, auto-unsealed), KV v2 mounted at secret/",
        f"    Unseal Key: {base64.b64encode(unseal_key).decode()}",
        f"    Root Token: {root_token}",
        "",
        "    Try it:",
        f"      export VAULT_ADDR='{address}' VAULT_TOKEN='{root_token}'",
        "      strongroom kv put secret/hello foo=world && strongroom kv get secret/hello",
        "",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
