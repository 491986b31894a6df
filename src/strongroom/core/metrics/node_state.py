"""Gauges that describe the node rather than count events, read fresh at every scrape.

Seal status, tokens and leases outstanding and the keyring's encryption count
are facts in shared storage (or the seal state every worker follows), so the
worker that serves a scrape reads them itself and the answer is node-wide
without any aggregation across processes. While sealed, only the seal status
and the rotation limit are reported: nothing behind the barrier can be read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric

from strongroom.core.metrics.barrier_usage import BarrierUsage

UNSEALED = "strongroom_core_unsealed"
TOKEN_COUNT = "strongroom_token_count"
LEASE_COUNT = "strongroom_expire_num_leases"
KEYRING_TERM = "strongroom_barrier_keyring_term"
ESTIMATED_ENCRYPTIONS = "strongroom_barrier_estimated_encryptions"
MAX_ENCRYPTIONS = "strongroom_barrier_max_encryptions"

#: Counts stored entries of some kind (tokens, leases) without decrypting them.
Counter = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class NodeState:
    unsealed: bool
    max_encryptions: int
    tokens: int | None = None
    leases: int | None = None
    term: int | None = None
    encryptions: int | None = None


async def no_leases() -> int:
    """The lease count before a lease manager exists: no engine issues leases yet, so there are none."""
    return 0


async def read_node_state(
    *, sealed: bool, usage: BarrierUsage, count_tokens: Counter, count_leases: Counter = no_leases
) -> NodeState:
    """The current state; flushes this process's pending encryptions first so the count is current.

    A failed flush does not fail the scrape: the count is then the last stored one plus this process's
    pending seals. Errors reading the token or lease counts propagate (the scrape answers 500).
    """
    if sealed:
        return NodeState(unsealed=False, max_encryptions=usage.max_operations)
    record = await usage.flush_quietly()
    estimate = usage.estimate()
    term, encryptions = estimate if estimate is not None else (None, None)
    if record is not None and term is not None and record.term > term:
        term, encryptions = record.term, record.encryptions
    return NodeState(
        unsealed=True,
        max_encryptions=usage.max_operations,
        tokens=await count_tokens(),
        leases=await count_leases(),
        term=term,
        encryptions=encryptions,
    )


def state_families(state: NodeState) -> list[Metric]:
    """The state as metric families (absent values are left out, not reported as zero)."""
    values: list[tuple[str, str, int | None]] = [
        (UNSEALED, "1 when this node is unsealed, 0 when sealed.", int(state.unsealed)),
        (TOKEN_COUNT, "Service tokens in storage (expired ones count until they are tidied).", state.tokens),
        (LEASE_COUNT, "Leases outstanding.", state.leases),
        (KEYRING_TERM, "The active keyring term.", state.term),
        (ESTIMATED_ENCRYPTIONS, "Entries sealed under the active keyring term, node-wide (estimate).",
         state.encryptions),
        (MAX_ENCRYPTIONS, "Encryptions under one term after which the keyring rotates automatically.",
         state.max_encryptions),
    ]
    return [GaugeMetricFamily(name, doc, value=value) for name, doc, value in values if value is not None]
