"""Shamir secret sharing over GF(2^8): the one primitive Strongroom writes itself.

Each byte of the secret is the constant term of its own random polynomial of
degree ``threshold - 1``; a share holds that polynomial evaluated at one
x-coordinate for every byte. The field is GF(2^8) with the AES reduction
polynomial x^8 + x^4 + x^3 + x + 1 (0x11B).

Share format (the same shape as Vault's): ``len(secret) + 1`` bytes, the
y-values in secret byte order followed by the x-coordinate byte. x-coordinates
are distinct, random and in 1..255, so at most 255 shares exist.

Side channels: the arithmetic never indexes a table with secret data (CVE-2023-25000
was exactly that) and never branches on it. Multiplication is shift-and-xor with
masks; inversion is exponentiation by the fixed exponent 254. CPython gives no
hard constant-time guarantee, but there is no data-dependent memory access or
control flow for a cache or branch predictor to leak.

Security rests on the coefficients being uniform over all of 0..255 (zero
included; a scheme that never draws zero leaks information about the secret).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.system import RandomBytes

MAX_SHARES = 255

# Rounds of x-coordinate draws before we declare the random source broken. With a
# real source, missing one of 255 values after 64 * 255 draws has probability < 2**-80.
_MAX_X_ROUNDS = 64


def gf_mul(a: int, b: int) -> int:
    """Product of two field elements (ints in 0..255), without secret-dependent branches or lookups."""
    product = 0
    for _ in range(8):
        # -(bit) is all ones when the bit is set and zero otherwise: a mask instead of an `if`.
        product ^= -(b & 1) & a
        carry = -((a >> 7) & 1)
        a = ((a << 1) & 0xFF) ^ (carry & 0x1B)
        b >>= 1
    return product


def gf_inverse(a: int) -> int:
    """Multiplicative inverse as a**254 (a**255 == 1 in this field); maps 0 to 0.

    The square-and-multiply sequence depends only on the public exponent.
    """
    result = 1
    square = a
    for _ in range(7):  # 254 = 0b11111110: multiply in a**2, a**4, ..., a**128
        square = gf_mul(square, square)
        result = gf_mul(result, square)
    return result


def split(secret: bytes, shares: int, threshold: int, random_bytes: RandomBytes = os.urandom) -> list[bytes]:
    """Split ``secret`` into ``shares`` parts, any ``threshold`` of which recover it.

    Requires a non-empty secret and ``1 <= threshold <= shares <= 255``
    (InvalidRequest otherwise). With ``threshold == 1`` every share is the
    secret followed by its x-coordinate.

    Randomness is drawn in a documented order so known-answer tests can script
    it: first one call for ``len(secret) * (threshold - 1)`` coefficient bytes
    (none when the threshold is 1; secret byte ``i`` uses bytes from
    ``i*(threshold-1)`` on, degree 1 first),
    then calls of ``shares`` bytes each for x-coordinates, skipping zeros and
    repeats, until ``shares`` distinct values are found. Shares are returned in
    the order their x-coordinates were drawn.
    """
    if not secret:
        raise InvalidRequest("cannot split an empty secret")
    if not 1 <= threshold <= shares <= MAX_SHARES:
        raise InvalidRequest("secret shares and threshold must satisfy 1 <= threshold <= shares <= 255")
    degree = threshold - 1
    coefficients = _draw(random_bytes, len(secret) * degree)
    xs = _distinct_x_coordinates(shares, random_bytes)
    parts: list[bytes] = []
    for x in xs:
        part = bytearray()
        for index, constant in enumerate(secret):
            own = coefficients[index * degree : (index + 1) * degree]
            part.append(_evaluate(constant, own, x))
        part.append(x)
        parts.append(bytes(part))
    return parts


def combine(parts: Sequence[bytes]) -> bytes:
    """Recover the secret from shares made by :func:`split` (Lagrange interpolation at x = 0).

    Refuses (InvalidRequest) an empty list, parts shorter than 2 bytes, parts of
    different lengths, an x-coordinate of zero and repeated x-coordinates.
    Shamir has no integrity: fewer than ``threshold`` parts, or a corrupted
    part, silently give a wrong value. Callers verify the result (the unseal
    key only counts once it opens the wrapped root key).
    """
    if not parts:
        raise InvalidRequest("no shares to combine")
    length = len(parts[0])
    if length < 2:
        raise InvalidRequest("a share must hold at least 2 bytes")
    xs: list[int] = []
    for part in parts:
        if len(part) != length:
            raise InvalidRequest("all shares must have the same length")
        xs.append(part[-1])
    # x-coordinates are public (the last byte of every share), so plain checks are fine here.
    if 0 in xs:
        raise InvalidRequest("share has an invalid x-coordinate")
    if len(set(xs)) != len(xs):
        raise InvalidRequest("duplicate share")
    weights = _lagrange_weights_at_zero(xs)
    secret = bytearray()
    for index in range(length - 1):
        value = 0
        for part, weight in zip(parts, weights, strict=True):
            value ^= gf_mul(part[index], weight)
        secret.append(value)
    return bytes(secret)


def _evaluate(constant: int, coefficients: bytes, x: int) -> int:
    """Horner evaluation of ``constant + c1*x + c2*x^2 + ...`` at ``x``."""
    result = 0
    for coefficient in reversed(coefficients):
        result = gf_mul(result ^ coefficient, x)
    return result ^ constant


def _lagrange_weights_at_zero(xs: list[int]) -> list[int]:
    """The factor for each share's y-value in f(0); in GF(2^8), 0 - x_j is x_j and x_i - x_j is x_i ^ x_j."""
    weights: list[int] = []
    for i, x_i in enumerate(xs):
        numerator = 1
        denominator = 1
        for j, x_j in enumerate(xs):
            if i != j:
                numerator = gf_mul(numerator, x_j)
                denominator = gf_mul(denominator, x_i ^ x_j)
        weights.append(gf_mul(numerator, gf_inverse(denominator)))
    return weights


def _distinct_x_coordinates(count: int, random_bytes: RandomBytes) -> list[int]:
    xs: list[int] = []
    seen: set[int] = set()
    for _ in range(_MAX_X_ROUNDS):
        for candidate in _draw(random_bytes, count):
            if candidate and candidate not in seen:
                seen.add(candidate)
                xs.append(candidate)
                if len(xs) == count:
                    return xs
    raise InternalError("random source failed to produce distinct share coordinates")


def _draw(random_bytes: RandomBytes, count: int) -> bytes:
    if count == 0:
        return b""
    data = random_bytes(count)
    if not isinstance(data, bytes) or len(data) != count:
        raise InternalError("random source returned the wrong number of bytes")
    return data
