"""The userpass auth method: users with argon2id password hashes, Vault's paths and answers.

Paths (relative to the mount):

* ``users/`` (LIST), ``users/:username`` (read, create/update, delete),
  ``users/:username/password``, ``users/:username/policies``;
* ``login/:username`` with ``{"password": ...}``, reachable without a token.

Every name goes through :func:`~.names.canonical_username` once, and
:meth:`UserpassBackend.login_principal` hands the core that same name, so the
lockout counter and the stored user are always addressed by one spelling.

A refused login is always 400 ``invalid username or password`` after exactly
one argon2id verification, whatever the reason: unknown user (verified against
a dummy hash), wrong password, a user the core has locked out (dummy hash too,
see ``Request.login_locked``), or a login from outside the user's
``token_bound_cidrs``. So neither the answer nor the hash work tells an
attacker whether a user exists or is locked (CVE-2025-6010/6011).
"""

from __future__ import annotations

import logging
import re

from strongroom.auth.userpass.hashing import MAX_PASSWORD_BYTES, PasswordHashing
from strongroom.auth.userpass.names import MAX_USERNAME_CHARS, canonical_username
from strongroom.auth.userpass.users import UserEntry, Users
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.token_params import TOKEN_FIELDS, TokenParams, token_fields

log = logging.getLogger("strongroom.auth.userpass")

R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST

INVALID_LOGIN = "invalid username or password"
_NAME = r"(?P<username>[^/]+)"
_LOGIN_PATH = re.compile(r"login/([^/]+)")

_PASSWORD = {"password": Field(FieldType.STRING, description="The user's password.")}
_USER_FIELDS = {
    **_PASSWORD,
    "password_hash": Field(FieldType.ANY, description="Not supported: send 'password'."),
    **token_fields("policies", "ttl", "max_ttl", "bound_cidrs"),
}
_POLICY_FIELDS = {"token_policies": TOKEN_FIELDS["token_policies"], "policies": TOKEN_FIELDS["token_policies"]}


def _checked_password(password: str) -> str:
    if password == "":
        raise InvalidRequest("'password' must not be empty")
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        raise InvalidRequest(f"'password' is longer than {MAX_PASSWORD_BYTES} bytes")
    return password


def _name(f: FieldData) -> str:
    name = canonical_username(f.get("username"))
    if name is None:
        raise InvalidRequest(
            f"invalid username: use 1 to {MAX_USERNAME_CHARS} characters from a-z, 0-9, '_', '-' and '.', "
            "starting and ending with a letter, digit or '_'"
        )
    return name


class UserpassBackend(FrameworkBackend):
    """One userpass mount. ``hashing`` is injectable (tests count the hash work)."""

    type_name = "userpass"
    kind = "auth"

    def __init__(self, ctx: BackendContext, *, hashing: PasswordHashing | None = None) -> None:
        super().__init__(ctx)
        self.hashing = hashing or PasswordHashing()

    async def setup(self) -> None:
        await self.hashing.prepare()

    def unauthenticated_paths(self) -> list[str]:
        return [r"login/[^/]+"]

    def login_principal(self, req: Request) -> str | None:
        match = _LOGIN_PATH.fullmatch(req.path)
        return canonical_username(match.group(1)) if match else None

    def paths(self) -> list[Path]:
        return [
            Path("users/?", {L: self._list}, help="List users."),
            Path(f"users/{_NAME}/password", {U: self._set_password}, _PASSWORD, help="Change a password."),
            Path(f"users/{_NAME}/policies", {U: self._set_policies}, _POLICY_FIELDS, help="Change a user's policies."),
            Path(f"users/{_NAME}", {R: self._read, U: self._write, C: self._write, D: self._delete}, _USER_FIELDS,
                 existence=self._exists, help="Create, read, update or delete a user."),
            Path(f"login/{_NAME}", {U: self._login}, _PASSWORD, help="Log in with a username and password."),
        ]

    def _users(self, req: Request) -> Users:
        return Users(req.storage or self.ctx.storage, self.ctx.system.random_bytes)

    # -- users ---------------------------------------------------------------------------

    async def _exists(self, req: Request, f: FieldData) -> bool:
        name = canonical_username(f.get("username"))
        return name is not None and await self._users(req).get(name) is not None

    async def _list(self, req: Request, f: FieldData) -> Response:
        return Response.list_of(await self._users(req).names())

    async def _read(self, req: Request, f: FieldData) -> Response:
        user = await self._users(req).get(_name(f))
        if user is None:
            raise NotFound()
        data = user.token.response_data()
        if user.token.policies:
            data["policies"] = list(user.token.policies)  # Vault's older name, still read by clients
        return Response(data=data)

    async def _write(self, req: Request, f: FieldData) -> None:
        name = _name(f)
        if f.has("password_hash"):
            raise InvalidRequest("'password_hash' is not supported: send 'password'")
        TokenParams().updated(f)  # refuse bad settings before paying for a hash
        password = _checked_password(f.get("password")) if f.has("password") else None
        new_hash = await self.hashing.hash(password) if password is not None else None

        async def change(current: UserEntry | None) -> UserEntry:
            if current is None and new_hash is None:
                raise InvalidRequest("missing password")
            base = current.token if current is not None else TokenParams()
            stored_hash = new_hash if new_hash is not None else current.password_hash if current else ""
            return UserEntry(name, stored_hash, base.updated(f))

        await self._users(req).change(name, change)

    async def _set_password(self, req: Request, f: FieldData) -> None:
        name = _name(f)
        if not f.has("password"):
            raise InvalidRequest("missing password")
        if await self._users(req).get(name) is None:
            raise InvalidRequest("username does not exist")
        new_hash = await self.hashing.hash(_checked_password(f.get("password")))

        async def change(current: UserEntry | None) -> UserEntry:
            if current is None:
                raise InvalidRequest("username does not exist")
            return UserEntry(name, new_hash, current.token)

        await self._users(req).change(name, change)

    async def _set_policies(self, req: Request, f: FieldData) -> None:
        name = _name(f)

        async def change(current: UserEntry | None) -> UserEntry:
            if current is None:
                raise InvalidRequest("username does not exist")
            return UserEntry(name, current.password_hash, current.token.updated(f))

        await self._users(req).change(name, change)

    async def _delete(self, req: Request, f: FieldData) -> None:
        await self._users(req).delete(_name(f))

    # -- login ---------------------------------------------------------------------------

    async def _login(self, req: Request, f: FieldData) -> Response:
        name = canonical_username(f.get("username"))
        presented = f.get("password")
        users = self._users(req)
        user = await users.get(name) if name is not None else None
        size = len(presented.encode("utf-8", "surrogatepass")) if isinstance(presented, str) else 0
        usable = 0 < size <= MAX_PASSWORD_BYTES
        password = presented if usable else ""
        # Exactly one argon2id verification on every path (see the module docstring).
        if user is not None and usable and not req.login_locked:
            verified = await self.hashing.verify(user.password_hash, password)
        else:
            verified = await self.hashing.verify_dummy(password)
        if user is None or not verified or req.login_locked or not user.token.allows_address(req.remote_addr):
            raise InvalidRequest(INVALID_LOGIN)
        if self.hashing.needs_rehash(user.password_hash):
            await users.replace_hash_if_unchanged(user, await self.hashing.hash(password))
        auth = user.token.auth(display_name=user.name, metadata={"username": user.name}, alias_name=user.name)
        return Response(auth=auth)
