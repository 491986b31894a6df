"""A hypothesis state machine over issue / renew / revoke / revoke-token / advance-clock / expiry ticks.

Invariants: a revoked or expired lease never renews; revoking a token leaves
none of its leases; renewal never passes the max TTL counted from issue; every
lease past its expiry is revoked by the next tick, and every lease is revoked
(at the target) exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from leases_harness import issue, make_setup

from strongroom.errors import InvalidRequest

TOKENS = ("", "token-a", "token-b")


class LeaseMachine(RuleBasedStateMachine):
    leases = Bundle("leases")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.s = make_setup(system_max=10_000, default_ttl=500)
        self.names: dict[str, str] = {}
        self.max_expire: dict[str, float] = {}
        self.dead: set[str] = set()
        self.owner: dict[str, str] = {}
        self.count = 0

    def teardown(self) -> None:
        self.loop.close()

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    @rule(target=leases, ttl=st.integers(0, 3000), max_ttl=st.integers(0, 20_000), renewable=st.booleans(),
          token=st.sampled_from(TOKENS))
    def issue(self, ttl: int, max_ttl: int, renewable: bool, token: str) -> str:
        self.count += 1
        name = f"u{self.count}"
        lease_id = self.run(issue(self.s, name, ttl=ttl, max_ttl=max_ttl, renewable=renewable, token_hash=token))
        self.owner[lease_id] = token
        entry = self.run(self.s.manager.lookup(lease_id))
        assert entry is not None
        assert entry.max_expire_time - entry.issue_time <= 10_000
        assert entry.expire_time <= entry.max_expire_time
        self.names[lease_id] = name
        self.max_expire[lease_id] = entry.max_expire_time
        return lease_id

    @rule(lease_id=leases, increment=st.integers(0, 30_000))
    def renew(self, lease_id: str, increment: int) -> None:
        now = self.s.clock()
        entry = self.run(self.s.manager.lookup(lease_id))
        expired = entry is None or entry.expire_time <= now
        try:
            renewed = self.run(self.s.manager.renew(lease_id, increment))
        except InvalidRequest:
            return
        assert lease_id not in self.dead, "a revoked lease renewed"
        assert not expired, "an expired lease renewed"
        assert renewed.expire_time <= self.max_expire[lease_id]

    @rule(lease_id=leases)
    def revoke(self, lease_id: str) -> None:
        self.run(self.s.manager.revoke(lease_id))
        self.dead.add(lease_id)

    @rule(token=st.sampled_from(TOKENS[1:]))
    def revoke_token(self, token: str) -> None:
        self.run(self.s.manager.revoke_token(token))
        for lease_id, owner in self.owner.items():
            if owner == token:
                self.dead.add(lease_id)
                assert self.run(self.s.manager.lookup(lease_id)) is None, "a revoked token's lease survived"

    @rule(seconds=st.integers(1, 4000))
    def advance(self, seconds: int) -> None:
        self.s.clock.advance(seconds)

    @rule()
    def tick(self) -> None:
        while self.run(self.s.manager.expire_due()) >= self.s.manager.config.batch:
            pass
        now = self.s.clock()
        for lease_id in self.names:
            entry = self.run(self.s.manager.lookup(lease_id))
            if entry is not None:
                assert entry.expire_time > now, "an expired lease survived a tick"
            else:
                self.dead.add(lease_id)

    @invariant()
    def revoked_at_most_once_and_only_when_dead(self) -> None:
        counts = Counter(self.s.target.revoked)
        assert all(n == 1 for n in counts.values()), counts
        revoked_names = set(counts)
        for lease_id, name in self.names.items():
            if name in revoked_names:
                assert lease_id in self.dead or self.run(self.s.manager.lookup(lease_id)) is None


LeaseMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLeaseStateMachine = LeaseMachine.TestCase
