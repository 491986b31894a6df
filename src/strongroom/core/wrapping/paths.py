"""``sys/wrapping/wrap|unwrap|lookup|rewrap`` (Vault's API), merged into the ``sys/`` backend.

* ``wrap`` answers the request body as data; the core wraps it (the request must carry a wrap TTL).
* ``unwrap`` hands out a wrapped answer once. The wrapping token comes in the body (``token``) with
  any caller token the ACL lets through (the default policy does), or as the client token itself:
  the core serves that request without the ACL, because a wrapping token's only power is this one.
* ``lookup`` shows creation_ttl, creation_time and creation_path without consuming; like in Vault it
  needs no token beyond the wrapping token (body or client token).
* ``rewrap`` moves the answer to a new wrapping token with the same TTL and creation path.

Every refusal of a token is Vault's 400 "wrapping token is not valid or does not exist".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.wrapping.store import WrappingStore

#: Paths (relative to ``sys/``) a wrapping token may call as the client token.
SELF_SERVED_PATHS = ("wrapping/unwrap", "wrapping/lookup")
#: Reachable without a token, as in Vault: the wrapping token in the body is the credential.
UNAUTHENTICATED_PATHS = ("wrapping/lookup",)

_TOKEN = {"token": Field(T.STRING, "", "The wrapping token (when it is not the client token).")}


def _rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _wrapping_token(req: Request, f: FieldData) -> str:
    token = str(f.get("token") or "").strip()
    return token or req.client_token


def wrapping_paths(store: WrappingStore) -> list[Path]:
    """The paths over one namespace's wrapping store (wrapping tokens live in the namespace that minted them)."""

    async def wrap(req: Request, _: FieldData) -> Response:
        if req.wrap_ttl <= 0:
            raise InvalidRequest("endpoint requires response wrapping to be used")
        return Response(data=dict(req.data))

    async def unwrap(req: Request, f: FieldData) -> Response:
        return await store.unwrap(_wrapping_token(req, f))

    async def lookup(req: Request, f: FieldData) -> Response:
        record = await store.lookup(_wrapping_token(req, f))
        return Response(data={
            "creation_ttl": record.creation_ttl,
            "creation_time": _rfc3339(record.creation_time),
            "creation_path": record.creation_path,
        })

    async def rewrap(req: Request, f: FieldData) -> Response:
        token = str(f.get("token") or "").strip()
        if not token:
            raise InvalidRequest("'token' is required")
        record = await store.take(token)
        # The core wraps this answer again, under the original TTL and creation path.
        req.wrap_ttl = record.creation_ttl
        req.wrap_creation_path = record.creation_path
        return record.load()

    u = Operation.UPDATE
    return [
        Path("wrapping/wrap", {u: wrap}, raw_data=True, help="Wrap the request body in a single-use token."),
        Path("wrapping/unwrap", {u: unwrap}, _TOKEN, help="Return a wrapped answer, once."),
        # POST only: a GET would carry the token in the URL, where proxies and access logs keep it.
        Path("wrapping/lookup", {u: lookup}, _TOKEN, help="Describe a wrapping token without consuming it."),
        Path("wrapping/rewrap", {u: rewrap}, _TOKEN, help="Move a wrapped answer to a new wrapping token."),
    ]
