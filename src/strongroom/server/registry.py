"""The composition root's registry: every built-in backend registered by name, as a plug-in would be."""

from __future__ import annotations

import os

from strongroom.auth.approle import AppRoleBackend
from strongroom.auth.cert import CertAuthBackend
from strongroom.auth.jwt import jwt_factory
from strongroom.auth.kubernetes import kubernetes_factory
from strongroom.auth.userpass import UserpassBackend
from strongroom.core.registry import Registry
from strongroom.engines.database import database_factory
from strongroom.engines.kv import kv_factory
from strongroom.engines.pki import PKIBackend
from strongroom.engines.transit import TransitBackend
from strongroom.errors import ConfigError
from strongroom.sdk.storage import StorageBackend
from strongroom.storage.inmem import InmemBackend
from strongroom.storage.sqlite import SQLiteBackend


def builtin_registry() -> Registry:
    registry = Registry()
    # Operator-only switch (environment, never the API): lets KV rotation webhooks reach loopback addresses.
    registry.secrets["kv"] = kv_factory(
        allow_loopback=os.environ.get("STRONGROOM_KV_ROTATION_ALLOW_LOOPBACK", "") == "true")
    registry.secrets["pki"] = PKIBackend
    registry.secrets["transit"] = TransitBackend
    # Operator-only switch (environment, never the API): lets connection_url reach a loopback database.
    registry.secrets["database"] = database_factory(
        allow_loopback=os.environ.get("STRONGROOM_DATABASE_ALLOW_LOOPBACK", "") == "true")
    registry.auth["userpass"] = UserpassBackend
    registry.auth["approle"] = AppRoleBackend
    registry.auth["cert"] = CertAuthBackend
    # An operator-only switch (environment, never the API): lets kubernetes_host be a loopback address.
    registry.auth["kubernetes"] = kubernetes_factory(
        allow_loopback=os.environ.get("STRONGROOM_KUBERNETES_AUTH_ALLOW_LOOPBACK", "") == "true")
    # Operator-only switch (environment, never the API): lets JWKS/discovery URLs be loopback addresses.
    jwt_loopback = os.environ.get("STRONGROOM_JWT_AUTH_ALLOW_LOOPBACK", "") == "true"
    registry.auth["jwt"] = jwt_factory(allow_loopback=jwt_loopback)
    registry.auth["oidc"] = jwt_factory(allow_loopback=jwt_loopback)
    registry.aliases["kv-v2"] = ("kv", {"version": "2"})
    registry.aliases["generic"] = ("kv", {"version": "1"})
    return registry


def make_storage(storage_type: str, options: dict[str, str]) -> StorageBackend:
    """A physical backend from the config's ``storage`` block."""
    if storage_type == "inmem":
        return InmemBackend()
    if storage_type == "sqlite":
        path = options.get("path")
        if not path:
            raise ConfigError('storage "sqlite": "path" is required')
        return SQLiteBackend(path)
    raise ConfigError(f'storage "{storage_type}" is not supported (supported: sqlite, inmem)')
