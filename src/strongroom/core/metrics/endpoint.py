"""``sys/metrics``: the node's metrics as Prometheus text (``?format=prometheus``) or Vault's JSON.

By default the path is an ordinary ``sys/`` path: it needs a token whose
policies grant ``read`` on ``sys/metrics``, and a sealed node answers 503 like
any routed path. With ``telemetry { unauthenticated_metrics_access = true }``
the core answers it before routing, without a token and whatever the seal
state (as Vault's listener does), so a sealed node can still report that it is
sealed. The output carries no secret either way: see
:mod:`strongroom.core.telemetry` for what labels may hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from strongroom.core.metrics.barrier_usage import BarrierUsage
from strongroom.core.metrics.buffer import BUFFER
from strongroom.core.metrics.exposition import PROMETHEUS_CONTENT_TYPE, event_families, prometheus_text, vault_json
from strongroom.core.metrics.node_state import Counter, NodeState, no_leases, read_node_state, state_families
from strongroom.errors import InvalidRequest, UnsupportedOperation
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, RawResponse, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core

METRICS_PATH = "sys/metrics"


#: How long an unauthenticated scrape may reuse the node state read for an earlier one (seconds).
PUBLIC_STATE_TTL = 1.0


class MetricsExporter:
    """Renders one scrape for ``core``. ``count_leases`` stands in until a lease manager exists.

    Reading the node state lists every token in storage. Anyone may scrape the
    unauthenticated form, so there the state is read at most once per
    :data:`PUBLIC_STATE_TTL` (``monotonic`` seconds) and seal state: a flood of
    anonymous scrapes costs one storage listing per second, not one each.
    """

    def __init__(
        self,
        core: Core,
        usage: BarrierUsage,
        *,
        unauthenticated: bool,
        count_leases: Counter = no_leases,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.usage = usage
        self.unauthenticated = unauthenticated
        self._count_leases = count_leases
        self._monotonic = monotonic
        self._public_state: tuple[float, NodeState] | None = None

    async def render(self, data: Mapping[str, Any], *, public: bool = False) -> Response:
        """The scrape answer; ``data`` holds the query (``format``). 400 for an unknown format."""
        fmt = data.get("format", "")
        if not isinstance(fmt, str) or fmt not in ("", "json", "prometheus"):
            raise InvalidRequest(f"metric response format {_shown(fmt)} unknown")
        state = await (self._cached_state() if public else self._read_state())
        BUFFER.flush()  # this process's latest requests; other workers flush on their own timer
        families = [*event_families(), *state_families(state)]
        if fmt == "prometheus":
            return Response(raw=RawResponse(200, PROMETHEUS_CONTENT_TYPE, prometheus_text(families)))
        body = orjson.dumps(vault_json(families, self.core.clock()))
        return Response(raw=RawResponse(200, "application/json", body))

    async def serve_public(self, operation: Operation, data: Mapping[str, Any]) -> Response:
        """The unauthenticated form, answered by the core before routing (READ only: 405 otherwise)."""
        if operation is not Operation.READ:
            raise UnsupportedOperation()
        return await self.render(data, public=True)

    async def _read_state(self) -> NodeState:
        return await read_node_state(
            sealed=self.core.sealed,
            usage=self.usage,
            count_tokens=self.core.tokens.stored_count,
            count_leases=self._count_leases,
        )

    async def _cached_state(self) -> NodeState:
        now = self._monotonic()
        cached = self._public_state
        if cached is not None and now - cached[0] < PUBLIC_STATE_TTL and cached[1].unsealed != self.core.sealed:
            return cached[1]
        state = await self._read_state()
        self._public_state = (now, state)
        return state


def metrics_paths(core: Core) -> list[Path]:
    """The ``sys/metrics`` path of the ``sys/`` backend (the token-protected form)."""

    async def read(req: Request, fields: FieldData) -> Response:
        if core.metrics is None:
            raise UnsupportedOperation("metrics are not enabled on this server")
        return await core.metrics.render({"format": fields.get("format")})

    return [
        Path(
            "metrics",
            {Operation.READ: read},
            {"format": Field(T.STRING, "")},
            help="The node's metrics: Prometheus text with format=prometheus, Vault's JSON otherwise.",
        )
    ]


def _shown(value: object) -> str:
    """A caller's value echoed in an error: short, and only if it is a plain word."""
    text = str(value)
    return repr(text) if len(text) <= 32 and text.isalnum() else "(given)"
