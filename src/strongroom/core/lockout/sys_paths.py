"""``sys/locked-users``: list the principals locked out of logins, and unlock one (Vault's API).

* ``GET sys/locked-users[?mount_accessor=...]`` answers Vault's shape: locked
  principals grouped by namespace and auth mount, busiest first, and a total.
  It is served in the root namespace and covers the auth mounts of every
  namespace (a counter is only forgotten when no namespace has its mount).
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
        home = {e.accessor: scope.entry for scope in core.namespaces.scopes() for e in scope.mounts.entries("auth")}
        mounts = {e.accessor: e for scope in core.namespaces.scopes() for e in scope.mounts.entries("auth")}
        only = f.get("mount_accessor") or None
        locked = await core.lockout.locked(mounts, only)
        total = sum(len(m.principals) for m in locked)
        groups: dict[str, dict[str, Any]] = {}
        for m in locked:
            namespace = home[m.accessor]
            group = groups.setdefault(namespace.id, {"namespace_id": namespace.id, "namespace_path": namespace.path,
                                                     "counts": 0, "mount_accessors": []})
            group["counts"] += len(m.principals)
            group["mount_accessors"].append(
                {"mount_accessor": m.accessor, "counts": len(m.principals), "alias_identifiers": list(m.principals)}
            )
        namespaces = sorted(groups.values(), key=lambda g: (-g["counts"], g["namespace_path"]))
        return Response(data={"by_namespace": namespaces, "total": total})

    async def unlock(req: Request, f: FieldData) -> None:
        await core.lockout.unlock(f.get("mount_accessor"), f.get("alias_identifier"))

    return [
        Path("locked-users", {Operation.READ: list_locked}, {"mount_accessor": Field(T.STRING, "")},
             help="List the principals currently locked out of logins."),
        Path("locked-users/(?P<mount_accessor>[^/]+)/unlock/(?P<alias_identifier>.+)",
             {Operation.UPDATE: unlock}, help="Clear a principal's failed logins on one auth mount."),
    ]
