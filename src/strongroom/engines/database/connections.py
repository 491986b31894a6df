"""One plugin (and so one connection pool) per configured connection, rebuilt when its config changes.

Every operation reads the connection's config from storage and asks
:meth:`Connections.plugin` for its plugin; a config that differs from the one
the cached plugin was made from (another process wrote it, the root password
was rotated) closes the old pool and makes a new one. So a change made through
any worker is in force on every worker at its next use, as the mount table is.
"""

from __future__ import annotations

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.system import Clock

from .config import PLUGIN_POSTGRES, PLUGINS, ConnectionConfig
from .mysql import MySQL
from .plugin import DatabasePlugin
from .postgres import Postgres


def make_plugin(config: ConnectionConfig, egress: EgressPolicy, clock: Clock) -> DatabasePlugin:
    if config.plugin_name == PLUGIN_POSTGRES:
        return Postgres(config, egress, clock)
    if config.plugin_name in PLUGINS:
        return MySQL(config, egress, clock)
    raise InvalidRequest(f"plugin_name must be one of {', '.join(PLUGINS)}")


class Connections:
    def __init__(self, egress: EgressPolicy, clock: Clock) -> None:
        self.egress = egress
        self.clock = clock
        self._plugins: dict[str, tuple[bytes, DatabasePlugin]] = {}

    def __repr__(self) -> str:
        return f"Connections({sorted(self._plugins)!r})"

    async def plugin(self, config: ConnectionConfig) -> DatabasePlugin:
        encoded = config.encode()
        cached = self._plugins.get(config.name)
        if cached is not None and cached[0] == encoded:
            return cached[1]
        plugin = make_plugin(config, self.egress, self.clock)
        # Replaced before the first await, so two callers racing on a changed config cannot both
        # install a pool and leave one unclosed.
        self._plugins[config.name] = (encoded, plugin)
        if cached is not None:
            await cached[1].close()
        return plugin

    async def drop(self, name: str) -> None:
        """Close the connection's pool (reset, delete); the next use opens a new one."""
        cached = self._plugins.pop(name, None)
        if cached is not None:
            await cached[1].close()

    async def close_all(self) -> None:
        for name in list(self._plugins):
            await self.drop(name)

    def cached(self, name: str) -> DatabasePlugin | None:
        """The plugin in use for connection ``name``, if one was made."""
        cached = self._plugins.get(name)
        return cached[1] if cached is not None else None
