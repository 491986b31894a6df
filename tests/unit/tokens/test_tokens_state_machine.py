"""A state machine over create / renew / use / revoke / revoke-orphan / clock moves.

A small independent model says which tokens must be alive; after every step
each token ever minted is looked up and must agree with it. Along the way:
a revoked or expired token never looks up again, no token outlives its
explicit max TTL, children of a revoked (or expired) token are dead, and every
granted TTL matches Vault's formula.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule
from tokens_harness import DEFAULT_TTL, MAX_TTL, harness

from strongroom.core.tokens.entry import TokenEntry, TokenSpec
from strongroom.errors import InvalidRequest


@dataclass
class Model:
    parent: str | None
    creation: float
    creation_ttl: int
    expire: float  # 0: never
    explicit: int
    period: int
    uses_left: int  # 0: unlimited
    renewable: bool
    dead: bool = False


def cap_from_creation(m: Model) -> float:
    limit = MAX_TTL if m.explicit == 0 else min(MAX_TTL, m.explicit)
    return m.creation + limit


class TokenLifecycle(RuleBasedStateMachine):
    tokens = Bundle("tokens")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.h = harness(random_bytes=random.Random(7).randbytes)
        self.model: dict[str, Model] = {}
        self.root = ""

    def teardown(self) -> None:
        self.runner.close()

    @property
    def now(self) -> float:
        return self.h.clock.now

    def lookup(self, token: str) -> TokenEntry | None:
        return self.runner.run(self.h.store.lookup(token))

    def model_alive(self, token: str) -> bool:
        m = self.model[token]
        if m.dead:
            return False
        if m.expire and self.now >= m.expire:
            return False
        if m.explicit and self.now >= m.creation + m.explicit:
            return False
        return m.parent is None or self.model_alive(m.parent)

    @initialize()
    def mint_root(self) -> None:
        # The root token stays out of the bundle: revoking it would end every run early.
        token, entry = self.runner.run(self.h.store.create_root())
        self.model[token] = Model(None, entry.creation_time, 0, 0.0, 0, 0, 0, renewable=False)
        self.root = token

    @rule(
        target=tokens,
        parent=st.one_of(st.just(""), tokens),
        ttl=st.sampled_from([0, 30, 600, 5000, 20000]),
        explicit=st.sampled_from([0, 100, 1000, 9000]),
        period=st.sampled_from([0, 0, 0, 300, 900]),
        orphan=st.booleans(),
        num_uses=st.sampled_from([0, 0, 0, 1, 3]),
    )
    def create(
        self, parent: str, ttl: int, explicit: int, period: int, orphan: bool, num_uses: int
    ) -> object:
        token = self.mint(parent or self.root, ttl, explicit, period, orphan, num_uses)
        return multiple() if token is None else token

    @rule(target=tokens, parent=st.one_of(st.just(""), tokens), short=st.sampled_from([30, 100]))
    def create_short_lived_parent_with_a_longer_lived_child(self, parent: str, short: int) -> object:
        # A child outliving its parent's TTL is where the ancestor check matters; make it common.
        middle = self.mint(parent or self.root, short, 0, 0, False, 0)
        if middle is None:
            return multiple()
        child = self.mint(middle, 5000, 0, 0, False, 0)
        assert child is not None
        return multiple(middle, child)

    def mint(
        self, parent: str, ttl: int, explicit: int, period: int, orphan: bool, num_uses: int
    ) -> str | None:
        creator = self.lookup(parent)
        if creator is None:
            return None
        spec = TokenSpec(
            policies=("default",), ttl=ttl, explicit_max_ttl=explicit, period=period, num_uses=num_uses
        )
        token, entry = self.runner.run(
            self.h.store.create(spec, creator=creator, system=self.h.system, orphan=orphan)
        )
        expected = min(period, explicit or period) if period else min(ttl or DEFAULT_TTL, MAX_TTL, explicit or MAX_TTL)
        assert entry.ttl == expected
        assert entry.expire_time == self.now + expected
        self.model[token] = Model(
            parent=None if orphan else parent,
            creation=entry.creation_time,
            creation_ttl=expected,
            expire=entry.expire_time,
            explicit=explicit,
            period=period,
            uses_left=num_uses,
            renewable=True,
        )
        return token

    @rule(seconds=st.sampled_from([1, 10, 29, 30, 31, 60, 99, 100, 299, 300, 600, 1000]))
    def advance(self, seconds: int) -> None:
        self.h.clock.advance(seconds)

    @rule(token=tokens, increment=st.sampled_from([0, 10, 600, 4000, 50000]))
    def renew(self, token: str, increment: int) -> None:
        entry = self.lookup(token)
        if entry is None:
            return
        m = self.model[token]
        if not m.renewable:
            with pytest.raises(InvalidRequest):
                self.runner.run(self.h.store.renew(entry, increment, system=self.h.system))
            return
        renewed = self.runner.run(self.h.store.renew(entry, increment, system=self.h.system))
        if m.period:
            expected = self.now + m.period
            if m.explicit:
                expected = min(expected, m.creation + m.explicit)
        else:
            expected = min(self.now + (increment or m.creation_ttl), cap_from_creation(m))
        assert renewed.expire_time == expected
        if m.explicit:
            assert renewed.expire_time <= m.creation + m.explicit
        m.expire = renewed.expire_time

    @rule(token=tokens)
    def use(self, token: str) -> None:
        entry = self.lookup(token)
        if entry is None:
            return
        m = self.model[token]
        last = self.runner.run(self.h.store.use(entry))
        assert last == (m.uses_left == 1)
        if m.uses_left:
            m.uses_left -= 1
        if last:
            pending = self.runner.run(self.h.store.lookup(token, include_pending=True))
            assert pending is not None
            self.runner.run(self.h.store.revoke_tree(pending))
            m.dead = True

    @rule(token=tokens)
    def revoke(self, token: str) -> None:
        entry = self.lookup(token)
        if entry is None:
            return
        self.runner.run(self.h.store.revoke_tree(entry))
        self.model[token].dead = True

    @rule(token=tokens)
    def revoke_orphan(self, token: str) -> None:
        entry = self.lookup(token)
        if entry is None:
            return
        self.runner.run(self.h.store.revoke_orphan(entry))
        self.model[token].dead = True
        for child in self.model.values():
            if child.parent == token and not child.dead:
                child.parent = None

    @invariant()
    def every_token_is_alive_exactly_when_the_model_says_so(self) -> None:
        # Death is permanent: record it before anything can re-parent a token.
        for token in self.model:
            if not self.model_alive(token):
                self.model[token].dead = True
        # Newest first: a child is looked up before its parent, so the store must
        # see a dead ancestor itself rather than rely on the parent's lookup revoking it.
        for token, m in reversed(self.model.items()):
            found = self.lookup(token)
            if m.dead:
                assert found is None
                continue
            assert found is not None
            assert found.expire_time == m.expire
            assert found.orphan == (m.parent is None)
            if m.explicit:
                assert self.now < m.creation + m.explicit
                assert found.expire_time <= m.creation + m.explicit


TokenLifecycle.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_token_lifecycle = TokenLifecycle.TestCase
