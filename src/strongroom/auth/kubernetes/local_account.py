"""The server's own pod credentials, used when the server runs inside the cluster it authenticates.

Kubernetes mounts a service-account token and the cluster CA into every pod.
Vault uses them as the TokenReview credentials and CA when the config gives
none (unless ``disable_local_ca_jwt``). Both are read at each login because
the kubelet rotates the token file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_MAX_FILE = 64 * 1024


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_FILE).decode("utf-8", "replace").strip()
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class LocalAccount:
    """Where the pod's credentials are mounted; an absent file reads as empty."""

    directory: Path = DEFAULT_DIR

    def token(self) -> str:
        return _read(self.directory / "token")

    def ca_cert(self) -> str:
        return _read(self.directory / "ca.crt")
