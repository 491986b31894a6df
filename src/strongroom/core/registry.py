"""Backend factories by name. Filled at the composition root (``strongroom.server.registry``),
built-ins exactly as third-party plug-ins would be."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import BackendContext, LogicalBackend

BackendFactory = Callable[[BackendContext], LogicalBackend]


@dataclass
class Registry:
    secrets: dict[str, BackendFactory] = field(default_factory=dict)
    auth: dict[str, BackendFactory] = field(default_factory=dict)
    #: Mount types that are another type with fixed options (Vault's ``kv-v2``).
    aliases: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def resolve(self, kind: str, type_name: str, options: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Canonical type and options for a mount request; unknown types are a clear 400."""
        if type_name in self.aliases:
            real, fixed = self.aliases[type_name]
            return real, {**options, **fixed}
        table = self.secrets if kind == "secret" else self.auth
        if type_name not in table:
            noun = "secrets engine" if kind == "secret" else "auth method"
            raise InvalidRequest(f"plugin not found in the catalog: {type_name} (unknown {noun} type)")
        return type_name, options

    def create(self, kind: str, type_name: str, ctx: BackendContext) -> LogicalBackend:
        table = self.secrets if kind == "secret" else self.auth
        return table[type_name](ctx)
