"""Exactly uniform passwords from a policy, built constructively (no generate-and-retry).

Why constructive: generate-and-check is uniform too, but for a tight policy
(``length = 4`` with four ``min-chars = 1`` rules over a 63-character alphabet)
most attempts fail, so it needs an attempt bound and can then fail at random. Here
the cost of one password is fixed and a satisfiable policy never fails.

How: characters are grouped into *atoms*, the sets of characters that belong to
exactly the same constrained rules (rules with ``min-chars > 0``); characters in one
atom are interchangeable for every rule. A *state* records, per constrained rule,
how many of its characters were placed so far, capped at its minimum. ``counts[r][s]``
is the number of ways to fill ``r`` more positions from state ``s`` and end with
every minimum met. Each position draws one integer uniform below ``counts[r][s]``
(rejection sampling on the injected ``random_bytes``: no modulo bias) and walks the
atoms' weights ``len(atom) * counts[r-1][next]`` to pick the atom and, with the
same draw, the character inside it. Every admitted password has probability
``1 / counts[length][0]``: the distribution is exactly uniform over the policy's
passwords, whatever the overlap between charsets.

The tables cost ``length * states * atoms`` big-integer operations and
``(length + 1) * states`` integers of memory, built once per policy. Policies whose
tables would exceed :data:`MAX_WORK` or :data:`MAX_TABLE_BYTES` are refused at write time.
"""

from __future__ import annotations

import math

from strongroom.core.password_policies.model import PasswordPolicy
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.system import RandomBytes

#: Upper bound on ``length * states * atoms``: the build cost (about 0.3 s at the bound).
MAX_WORK = 500_000
#: Upper bound on the table's memory: ``(length + 1) * states`` integers of up to
#: ``length * log2(alphabet)`` bits each (long passwords with several minimums grow fast).
MAX_TABLE_BYTES = 8 * 1024 * 1024
#: A fair random source rejects a draw with probability below 1/2; this many in a row means it is broken.
_MAX_DRAWS = 128


def uniform_below(bound: int, random_bytes: RandomBytes) -> int:
    """An integer uniform in ``[0, bound)``: draw ``bound.bit_length()`` random bits, reject values >= bound."""
    if bound <= 0:
        raise ValueError("bound must be positive")
    bits = (bound - 1).bit_length()
    if bits == 0:
        return 0
    size = (bits + 7) // 8
    for _ in range(_MAX_DRAWS):
        value = int.from_bytes(random_bytes(size), "big") >> (size * 8 - bits)
        if value < bound:
            return value
    raise InternalError("the random source is not producing random bytes")


class PasswordSampler:
    """Draws passwords for one policy. Build it once per policy; :meth:`generate` is cheap.

    Raises :class:`InvalidRequest` when the policy cannot be satisfied (no string meets
    every rule) or its tables would be too large.
    """

    def __init__(self, policy: PasswordPolicy) -> None:
        self.policy = policy
        constrained = [rule for rule in policy.rules if rule.min_chars > 0]
        self._mins = [rule.min_chars for rule in constrained]
        atoms: dict[tuple[bool, ...], list[str]] = {}
        for ch in policy.alphabet:
            atoms.setdefault(tuple(ch in rule.charset for rule in constrained), []).append(ch)
        self._atoms = [("".join(chars), signature) for signature, chars in atoms.items()]
        states = math.prod(m + 1 for m in self._mins)
        cell_bytes = math.ceil(policy.length * math.log2(len(policy.alphabet) + 1) / 8) + 28
        if (
            policy.length * states * len(self._atoms) > MAX_WORK
            or (policy.length + 1) * states * cell_bytes > MAX_TABLE_BYTES
        ):
            raise InvalidRequest("invalid password policy: the rules are too complex to generate from")
        strides = [math.prod(m + 1 for m in self._mins[:i]) for i in range(len(self._mins))]
        self._next = [[self._step(s, signature, strides) for _, signature in self._atoms] for s in range(states)]
        final = states - 1  # every counter at its cap: the mixed-radix maximum
        counts = [[1 if s == final else 0 for s in range(states)]]
        for _ in range(policy.length):
            previous = counts[-1]
            counts.append([
                sum(len(chars) * previous[nxt] for (chars, _), nxt in zip(self._atoms, self._next[s], strict=True))
                for s in range(states)
            ])
        self._counts = counts
        if counts[policy.length][0] == 0:
            raise InvalidRequest("invalid password policy: no password can satisfy every rule")

    def _step(self, state: int, signature: tuple[bool, ...], strides: list[int]) -> int:
        for i, member in enumerate(signature):
            if member and (state // strides[i]) % (self._mins[i] + 1) < self._mins[i]:
                state += strides[i]
        return state

    @property
    def size(self) -> int:
        """How many distinct passwords the policy admits (its entropy is ``log2(size)`` bits)."""
        return self._counts[self.policy.length][0]

    def generate(self, random_bytes: RandomBytes) -> str:
        """One password, uniform over every password the policy admits."""
        state = 0
        out: list[str] = []
        for remaining in range(self.policy.length, 0, -1):
            draw = uniform_below(self._counts[remaining][state], random_bytes)
            after = self._counts[remaining - 1]
            for (chars, _), nxt in zip(self._atoms, self._next[state], strict=True):
                weight = len(chars) * after[nxt]
                if draw < weight:
                    out.append(chars[draw // after[nxt]])
                    state = nxt
                    break
                draw -= weight
            else:  # the weights sum to counts[remaining][state] by construction
                raise InternalError("password tables are inconsistent")
        return "".join(out)
