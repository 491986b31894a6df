"""The lockout through the real request path: an in-process server, userpass with cheap hashing, a test method."""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.inprocess import InProcessServer
from userpass_harness import FAST, CountingArgon2, counting_hashing

from strongroom.auth.userpass import UserpassBackend
from strongroom.auth.userpass.hashing import PasswordHashing
from strongroom.errors import PermissionDenied
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import Auth, Operation, Request, Response

PASSWORD = "right-password"
INVALID = {"errors": ["invalid username or password"]}


class PinBackend(FrameworkBackend):
    """A minimal auth method of the kind a third party could write: ``login`` with ``{name, pin}``.

    It names its principal (``name``, as given) and refuses with a 403. It honours ``login_locked``.
    """

    type_name = "pin"
    kind = "auth"
    honours_lock = True

    def unauthenticated_paths(self) -> list[str]:
        return ["login"]

    def login_principal(self, req: Request) -> str | None:
        name = req.data.get("name")
        return name if isinstance(name, str) and name else None

    def paths(self) -> list[Path]:
        fields = {"name": Field(FieldType.STRING), "pin": Field(FieldType.STRING)}
        return [Path("login", {Operation.UPDATE: self._login}, fields)]

    async def _login(self, req: Request, f: FieldData) -> Response:
        if f.get("pin") != "1234" or (req.login_locked and self.honours_lock):
            raise PermissionDenied()
        return Response(auth=Auth(policies=["default"], display_name=f.get("name")))


class CarelessBackend(PinBackend):
    """The same method with a bug: it ignores ``login_locked``."""

    type_name = "careless"
    honours_lock = False


def install_test_methods(server: InProcessServer, hashing: PasswordHashing | None = None) -> None:
    """Userpass with cheap (or the given) hashing, and the two test methods, in the server's registry."""
    use = hashing or PasswordHashing(FAST)
    server.core.registry.auth["userpass"] = lambda ctx: UserpassBackend(ctx, hashing=use)
    server.core.registry.auth["pin"] = PinBackend
    server.core.registry.auth["careless"] = CarelessBackend


def counting_userpass(server: InProcessServer) -> CountingArgon2:
    hashing, hasher = counting_hashing()
    install_test_methods(server, hashing)
    return hasher


def enable(server: InProcessServer, path: str, method: str = "userpass", **config: Any) -> str:
    """Enable an auth method at ``path``; returns its mount accessor."""
    response = server.request("POST", f"sys/auth/{path}", json={"type": method, **config})
    assert response.status_code == 204, response.text
    return str(server.request("GET", "sys/auth").json()["data"][f"{path}/"]["accessor"])


def add_user(server: InProcessServer, name: str, path: str = "userpass", password: str = PASSWORD) -> None:
    response = server.request("POST", f"auth/{path}/users/{name}", json={"password": password})
    assert response.status_code == 204, response.text


def login(server: InProcessServer, name: str, password: str = PASSWORD, path: str = "userpass") -> httpx.Response:
    return server.request("POST", f"auth/{path}/login/{name}", json={"password": password}, token="")


def fail(server: InProcessServer, name: str, times: int, path: str = "userpass") -> None:
    for _ in range(times):
        response = login(server, name, "wrong", path)
        assert response.status_code == 400
        assert response.json() == INVALID


def locked_users(server: InProcessServer, accessor: str | None = None) -> dict[str, Any]:
    params = {"mount_accessor": accessor} if accessor else None
    response = server.request("GET", "sys/locked-users", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def token_count(server: InProcessServer) -> int:
    return int(server.run(server.core.tokens.stored_count()))


def failures(server: InProcessServer, accessor: str, principal: str) -> int:
    """The failure count stored for ``principal`` on the mount ``accessor`` (0 without a counter)."""
    store = server.core.lockout.store

    async def read() -> int:
        path = store.path(accessor, (await store.keys()).name(accessor, principal))
        counter = await store.read(path)
        return counter.failures if counter is not None else 0

    return server.run(read())
