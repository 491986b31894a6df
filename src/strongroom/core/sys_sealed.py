"""System endpoints that answer whatever the seal state: init, unseal, seal-status, health, leader.

They are unauthenticated (as in Vault) and never touch the barrier, so they
keep working while the server is sealed or not yet initialised.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import orjson

from strongroom.core import sys_ceremonies
from strongroom.errors import InvalidRequest, UnsupportedOperation
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.fields import coerce
from strongroom.sdk.logical import Operation, RawResponse, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core, IncomingRequest

_WRITE = (Operation.UPDATE, Operation.CREATE)
#: The operations each fixed endpoint serves. As in Vault, any other method on
#: them answers 405 whatever the seal state (not 404 from the router, nor 503).
_FIXED_OPERATIONS = {
    "sys/seal-status": (Operation.READ,),
    "sys/health": (Operation.READ,),
    "sys/leader": (Operation.READ,),
    "sys/init": (Operation.READ, *_WRITE),
    "sys/unseal": _WRITE,
}


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """A top-level JSON body (Vault's sys endpoints do not wrap in ``data``)."""
    return Response(raw=RawResponse(status, "application/json", orjson.dumps(body)))


class SealedSystemEndpoints:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def try_handle(self, op: Operation, path: str, incoming: IncomingRequest) -> Response | None:
        allowed = _FIXED_OPERATIONS.get(path)
        if allowed is not None and op not in allowed:
            raise UnsupportedOperation()
        seal = self.core.seal_manager
        data = incoming.data
        if path in sys_ceremonies.OPERATIONS:
            if op not in sys_ceremonies.OPERATIONS[path]:
                raise UnsupportedOperation()
            answer = await sys_ceremonies.handle(seal, op, path, data)
            return Response() if answer is None else json_response(answer)
        if path == "sys/seal-status" and op is Operation.READ:
            return json_response(await seal.status())
        if path == "sys/init":
            if op is Operation.READ:
                return json_response({"initialized": (await seal.status())["initialized"]})
            if op in _WRITE:
                return json_response(await self._init(data))
        if path == "sys/unseal" and op in _WRITE:
            reset = coerce(T.BOOL, data.get("reset", False), "reset")
            key = data.get("key")
            if key is not None and not isinstance(key, str):
                raise InvalidRequest("'key' must be a string")
            migrate = coerce(T.BOOL, data.get("migrate", False), "migrate")
            status = await seal.unseal(key, reset, migrate)
            await self._sync_after_unseal()
            return json_response(status)
        if path == "sys/health" and op is Operation.READ:
            return await self._health(data)
        if path == "sys/leader" and op is Operation.READ:
            # Without HA, Vault answers this whatever the seal state and reports that no
            # node holds leadership (is_self false).
            return json_response(
                {
                    "ha_enabled": False,
                    "is_self": False,
                    "active_time": "0001-01-01T00:00:00Z",
                    "leader_address": "",
                    "leader_cluster_address": "",
                    "performance_standby": False,
                    "performance_standby_last_remote_wal": 0,
                }
            )
        return None

    async def _sync_after_unseal(self) -> None:
        """In single-process mode the seal manager opened our barrier directly; finish the core's part."""
        if not self.core.barrier.sealed and self.core.sealed:
            await self.core.post_unseal()

    async def _init(self, data: dict[str, Any]) -> dict[str, Any]:
        for unsupported in ("pgp_keys", "root_token_pgp_key", "recovery_pgp_keys"):
            if data.get(unsupported):
                raise InvalidRequest(f"{unsupported} is not supported yet")
        if data.get("stored_shares") and not data.get("recovery_shares"):
            raise InvalidRequest("stored_shares applies only to auto-unseal, which is not configured")
        # The seal manager knows whether an auto seal is configured: it refuses
        # recovery_* under shamir, and ignores secret_* under an auto seal (as Vault does).
        recovery_shares = coerce(T.INT, data.get("recovery_shares") or 0, "recovery_shares")
        recovery_threshold = coerce(T.INT, data.get("recovery_threshold") or 0, "recovery_threshold")
        # hvac sends null for secret_* it was not given (its auto-unseal init): null means absent.
        given_shares, given_threshold = data.get("secret_shares"), data.get("secret_threshold")
        if not recovery_shares and (given_shares is None or given_threshold is None):
            raise InvalidRequest("secret_shares and secret_threshold are required")
        shares = 1 if given_shares is None else coerce(T.INT, given_shares, "secret_shares")
        threshold = 1 if given_threshold is None else coerce(T.INT, given_threshold, "secret_threshold")
        return await self.core.seal_manager.initialize(shares, threshold, recovery_shares, recovery_threshold)

    async def _health(self, query: dict[str, Any]) -> Response:
        status = await self.core.seal_manager.status()

        def code(name: str, default: int) -> int:
            if name in query:
                value: int = coerce(T.INT, query[name], name)
                if not 100 <= value <= 599:
                    raise InvalidRequest(f"{name} must be an HTTP status code")
                return value
            return default

        if not status["initialized"]:
            http_status = code("uninitcode", 501)
        elif status["sealed"]:
            http_status = code("sealedcode", 503)
        else:
            http_status = code("activecode", 200)
        now = dt.datetime.fromtimestamp(self.core.clock(), tz=dt.UTC)
        body = {
            "initialized": status["initialized"],
            "sealed": status["sealed"],
            "standby": False,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(now.timestamp()),
            "version": status["version"],
            "cluster_name": status["cluster_name"],
            "cluster_id": status["cluster_id"],
        }
        return json_response(body, http_status)
