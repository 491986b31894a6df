"""``sys/locked-users``: list the principals locked out of logins, and unlock one (Vault's API).

* ``GET sys/locked-users[?mount_accessor=...]`` answers Vault's shape: locked
  principals grouped by namespace and auth mount, busiest first, and a total.
  There is one namespace, the root.
* ``POST sys/locked-users/:mount_accessor/unlock/:alias_identifier`` clears a
  principal's failures (204, also when it was not locked). Any spelling of the
  name that the lockout folds together unlocks it.

Both go through the ACL like every ``sys/`` path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core


def locked_users_paths(core: Core) -> list[Path]:
    async def list_locked(req: Request, f: FieldData) -> Response:
        mounts = {e.accessor: e for e in core.mounts.entries("auth")}
        only = f.get("mount_accessor") or None
        locked = await core.lockout.locked(mounts, only)
        total = sum(len(m.principals) for m in locked)
        by_mount: list[dict[str, Any]] = [
            {"mount_accessor": m.accessor, "counts": len(m.principals), "alias_identifiers": list(m.principals)}
            for m in locked
        ]
        namespaces = (
            [{"namespace_id": "root", "namespace_path": "", "counts": total, "mount_accessors": by_mount}]
            if by_mount else []
        )
        return Response(data={"by_namespace": namespaces, "total": total})

    async def unlock(req: Request, f: FieldData) -> None:
        await core.lockout.unlock(f.get("mount_accessor"), f.get("alias_identifier"))

    return [
        Path("locked-users", {Operation.READ: list_locked}, {"mount_accessor": Field(T.STRING, "")},
             help="List the principals currently locked out of logins."),
        Path("locked-users/(?P<mount_accessor>[^/]+)/unlock/(?P<alias_identifier>.+)",
             {Operation.UPDATE: unlock}, help="Clear a principal's failed logins on one auth mount."),
    ]
