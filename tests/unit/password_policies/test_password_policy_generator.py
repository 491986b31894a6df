"""Generation: every password meets its policy, and the distribution is exactly uniform.

Randomness comes from a deterministic stream (SHA-256 of a counter), so the
statistical checks below see the same bytes every run and cannot flake, while the
stream is still far from anything the sampler could accidentally fit.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.core.password_policies.generator import PasswordSampler, uniform_below
from strongroom.core.password_policies.model import DEFAULT_POLICY, CharsetRule, PasswordPolicy
from strongroom.errors import InternalError


class CounterStream:
    """Deterministic bytes: SHA-256(seed || counter) blocks, concatenated."""

    def __init__(self, seed: bytes = b"strongroom") -> None:
        self._seed = seed
        self._counter = 0
        self._buffer = b""

    def __call__(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._buffer += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def chi_square(observed: Counter[str], categories: list[str], total: int) -> float:
    expected = total / len(categories)
    return sum((observed[c] - expected) ** 2 / expected for c in categories)


charsets = st.text(alphabet="abcdefgXYZ0123-_!", min_size=1, max_size=8)


@st.composite
def policies(draw: st.DrawFn) -> PasswordPolicy:
    rules = draw(st.lists(st.tuples(charsets, st.integers(0, 3)), min_size=1, max_size=4))
    required = sum(m for _, m in rules)
    length = draw(st.integers(max(4, required), 24))
    return PasswordPolicy(
        length=length,
        rules=tuple(CharsetRule("".join(dict.fromkeys(c)), m) for c, m in rules),
    )


@settings(max_examples=150, deadline=None)
@given(policies(), st.binary(min_size=1, max_size=8))
def test_every_generated_password_satisfies_its_policy(policy: PasswordPolicy, seed: bytes) -> None:
    sampler = PasswordSampler(policy)
    stream = CounterStream(seed)
    for _ in range(5):
        assert policy.admits(sampler.generate(stream))


def test_default_policy_passwords_always_hold_every_class() -> None:
    sampler = PasswordSampler(DEFAULT_POLICY)
    stream = CounterStream()
    for _ in range(300):
        password = sampler.generate(stream)
        assert DEFAULT_POLICY.admits(password)


def test_passwords_are_uniform_over_exactly_the_admitted_strings() -> None:
    # 3^4 = 81 strings over "abc"; those holding at least one "c" are the 65 admitted
    # ones. Uniform sampling gives each about 200 hits. With 64 degrees of freedom the
    # chi-square statistic has mean 64 and standard deviation about 11; 150 is far
    # beyond any fair outcome yet far below what a biased sampler produces.
    policy = PasswordPolicy(length=4, rules=(CharsetRule("ab", 0), CharsetRule("c", 1)))
    sampler = PasswordSampler(policy)
    admitted = ["".join(p) for p in itertools.product("abc", repeat=4) if "c" in p]
    assert sampler.size == len(admitted) == 65
    draws = 65 * 200
    stream = CounterStream()
    observed = Counter(sampler.generate(stream) for _ in range(draws))
    assert set(observed) == set(admitted)
    assert chi_square(observed, admitted, draws) < 150


def test_characters_of_an_unconstrained_policy_are_equally_likely() -> None:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    sampler = PasswordSampler(PasswordPolicy(length=20, rules=(CharsetRule(alphabet, 0),)))
    stream = CounterStream(b"chars")
    observed: Counter[str] = Counter()
    for _ in range(2000):
        observed.update(sampler.generate(stream))
    # 35 degrees of freedom: mean 35, standard deviation about 8.4.
    assert chi_square(observed, list(alphabet), 40_000) < 100


def test_overlapping_charsets_count_each_string_once() -> None:
    # "ab" min 1 and "bc" min 1 over length 4: strings over "abc" with an a-or-b and a b-or-c.
    policy = PasswordPolicy(length=4, rules=(CharsetRule("ab", 1), CharsetRule("bc", 1)))
    expected = [p for p in itertools.product("abc", repeat=4) if set(p) & {"a", "b"} and set(p) & {"b", "c"}]
    assert PasswordSampler(policy).size == len(expected)


def test_uniform_below_rejects_instead_of_reducing_modulo() -> None:
    # bound 5 needs 3 bits; 0b111 (7) and 0b101 (5) must be rejected, not folded onto 2 and 0.
    values = iter([bytes([0b11100000]), bytes([0b10100000]), bytes([0b01100000])])
    assert uniform_below(5, lambda n: next(values)) == 3


def test_uniform_below_gives_up_on_a_source_that_never_varies() -> None:
    with pytest.raises(InternalError, match="random source"):
        uniform_below(5, lambda n: b"\xff" * n)


def test_uniform_below_of_one_needs_no_randomness() -> None:
    def refuse(n: int) -> bytes:
        raise AssertionError("no bytes should be drawn")

    assert uniform_below(1, refuse) == 0
