"""Longest-prefix routing from a request path to a mounted backend."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.core.mounts import MountEntry
from strongroom.sdk.logical import LogicalBackend
from strongroom.sdk.system import SystemView


@dataclass
class Route:
    entry: MountEntry
    backend: LogicalBackend
    system: SystemView


class Router:
    """Maps path prefixes to mounted backends. Rebuilt whole when the mount table changes."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._prefixes: list[str] = []

    def add(self, route: Route) -> None:
        self._routes[route.entry.route_prefix] = route
        self._prefixes = sorted(self._routes, key=len, reverse=True)

    def remove(self, prefix: str) -> Route | None:
        route = self._routes.pop(prefix, None)
        self._prefixes = sorted(self._routes, key=len, reverse=True)
        return route

    def match(self, path: str) -> tuple[Route, str] | None:
        """The route for ``path`` and the remainder relative to the mount.

        A path equal to the mount point without its trailing slash (``secret``)
        matches the mount too, as in Vault.
        """
        for prefix in self._prefixes:
            if path.startswith(prefix) or path + "/" == prefix:
                return self._routes[prefix], path[len(prefix):]
        return None

    def get(self, prefix: str) -> Route | None:
        return self._routes.get(prefix)

    def routes(self) -> list[Route]:
        return [self._routes[p] for p in sorted(self._routes)]

    def by_accessor(self, accessor: str) -> Route | None:
        for route in self._routes.values():
            if route.entry.accessor == accessor:
                return route
        return None
