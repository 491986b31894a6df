"""The ``pki`` secrets engine: a Vault-compatible certificate authority per mount. See docs/pki.md."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation, Request, SecretLease

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

    async def revoke_secret(self, lease: SecretLease) -> None:
        """A ``generate_lease`` certificate's lease ends: revoke the certificate, unless it has expired.

        The lease runs exactly as long as the certificate, so at (or after) its expiry there
        is nothing to put on the CRL (an expired certificate is refused by ``revoke``);
        revoking it earlier revokes by serial like ``pki/revoke``, idempotently.
        """
        if self.ctx.system.clock() >= lease.expire_time:
            return
        serial = str(lease.internal.get("serial_number", ""))
        await self.handle(Request(Operation.UPDATE, "revoke", {"serial_number": serial}, storage=self.ctx.storage,
                                  mount_point=self.ctx.mount_point, mount_type=self.type_name))

    async def cleanup(self) -> None:
        """Drop every parsed CA key this process holds (the mount is sealing or going away)."""
        self.state.issuers.clear()
