"""The ``pki`` secrets engine: a Vault-compatible certificate authority per mount. See docs/pki.md."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext

from .paths_ca import CAPaths
from .paths_config import ConfigPaths
from .paths_fetch import FetchPaths
from .paths_import import ImportPaths
from .paths_issue import IssuePaths
from .paths_revoke import RevokePaths
from .paths_roles import RolePaths
from .paths_tidy import TidyPaths
from .state import PKIState


class PKIBackend(FrameworkBackend):
    """One CA per mount: roots, intermediates, roles, issuance, revocation and CRLs (Vault's paths)."""

    type_name = "pki"
    kind = "secret"

    def __init__(self, ctx: BackendContext) -> None:
        super().__init__(ctx)
        self.state = PKIState(ctx)

    def paths(self) -> Sequence[Path]:
        groups = (
            FetchPaths(self.state), CAPaths(self.state), ImportPaths(self.state), ConfigPaths(self.state),
            RolePaths(self.state), IssuePaths(self.state), RevokePaths(self.state), TidyPaths(self.state),
        )
        return [path for group in groups for path in group.paths()]

    def unauthenticated_paths(self) -> Sequence[str]:
        # What Vault publishes without a token: the CA, its chain, the CRL and certificates by serial.
        return ("ca", "ca/pem", "ca_chain", "crl", "crl/pem", "cert/.+")

    def sudo_paths(self) -> Sequence[str]:
        return ("root",)

    async def cleanup(self) -> None:
        """Drop every parsed CA key this process holds (the mount is sealing or going away)."""
        self.state.issuers.clear()
