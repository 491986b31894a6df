"""Shamir secret sharing: field arithmetic, known answers, recovery and secrecy properties."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import shamir
from strongroom.crypto.shamir import combine, gf_inverse, gf_mul, split
from strongroom.errors import InternalError, InvalidRequest

# --- an independent, deliberately naive reference for GF(2^8) (test code may branch on data) ----


def ref_mul(a: int, b: int) -> int:
    product = 0
    for bit in range(8):
        if b >> bit & 1:
            product ^= a << bit
    for bit in range(14, 7, -1):  # reduce the carry-less product modulo 0x11B
        if product >> bit & 1:
            product ^= 0x11B << (bit - 8)
    return product


def ref_inverse(a: int) -> int:
    return next(b for b in range(1, 256) if ref_mul(a, b) == 1)


def ref_poly_mul(p: list[int], q: list[int]) -> list[int]:
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] ^= ref_mul(a, b)
    return out


def ref_interpolate(points: list[tuple[int, int]]) -> list[int]:
    """Coefficients (constant first) of the unique polynomial of degree < len(points) through them."""
    coefficients = [0] * len(points)
    for i, (x_i, y_i) in enumerate(points):
        basis = [1]
        denominator = 1
        for j, (x_j, _) in enumerate(points):
            if i != j:
                basis = ref_poly_mul(basis, [x_j, 1])  # (x - x_j) == (x + x_j) in characteristic 2
                denominator = ref_mul(denominator, x_i ^ x_j)
        scale = ref_mul(y_i, ref_inverse(denominator))
        for k, c in enumerate(basis):
            coefficients[k] ^= ref_mul(c, scale)
    return coefficients


def scripted(*chunks: bytes) -> Callable[[int], bytes]:
    """A random source that hands out the given chunks in order and checks each requested size."""
    queue = list(chunks)

    def random_bytes(n: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == n, (len(chunk), n)
        return chunk

    return random_bytes


# --- field arithmetic -------------------------------------------------------------------------


def test_gf_mul_agrees_with_the_reference_for_every_pair() -> None:
    for a in range(256):
        for b in range(256):
            assert gf_mul(a, b) == ref_mul(a, b)


def test_gf_mul_reproduces_the_fips_197_worked_examples() -> None:
    assert gf_mul(0x57, 0x83) == 0xC1
    assert gf_mul(0x57, 0x13) == 0xFE


def test_gf_inverse_of_every_nonzero_element_multiplies_back_to_one() -> None:
    for a in range(1, 256):
        assert gf_mul(a, gf_inverse(a)) == 1
    assert gf_inverse(0) == 0


def test_shamir_module_holds_no_lookup_tables() -> None:
    # Regression guard for CVE-2023-25000-style log/exp tables indexed by secret bytes.
    sequences = (list, tuple, bytes, bytearray, dict)
    tables = [
        name
        for name, value in vars(shamir).items()
        if not name.startswith("__") and isinstance(value, sequences) and len(value) >= 16
    ]
    assert tables == []


# --- known answers ------------------------------------------------------------------------------


def test_split_with_threshold_two_matches_the_hand_computed_shares() -> None:
    # f(x) = 0x2a + 0x03 x: f(1) = 0x2a ^ 0x03 = 0x29, f(2) = 0x2a ^ 0x06 = 0x2c.
    parts = split(b"\x2a", 2, 2, random_bytes=scripted(b"\x03", b"\x01\x02"))
    assert parts == [b"\x29\x01", b"\x2c\x02"]
    assert combine(parts) == b"\x2a"


def test_split_with_threshold_three_matches_the_hand_computed_shares() -> None:
    # f(x) = 0x2a + 0x53 x + 0xca x^2 over GF(2^8)/0x11B:
    # 0x53*2 = 0xa6, 0xca*4 = 0x05, 0x53*3 = 0xf5, 0xca*(3*3 = 5) = 0xcf, so
    # f(1) = 0x2a^0x53^0xca = 0xb3, f(2) = 0x2a^0xa6^0x05 = 0x89, f(3) = 0x2a^0xf5^0xcf = 0x10.
    parts = split(b"\x2a", 3, 3, random_bytes=scripted(b"\x53\xca", b"\x01\x02\x03"))
    assert parts == [b"\xb3\x01", b"\x89\x02", b"\x10\x03"]
    assert combine(parts) == b"\x2a"


def test_split_skips_zero_and_repeated_x_coordinates_and_keeps_their_draw_order() -> None:
    parts = split(b"\x2a", 3, 2, random_bytes=scripted(b"\x00", b"\x07\x00\x07", b"\x05\x05\x09"))
    assert [part[-1] for part in parts] == [7, 5, 9]


def test_zero_coefficients_are_used_as_drawn_so_every_share_equals_the_secret() -> None:
    parts = split(b"\xab\xcd", 3, 3, random_bytes=scripted(b"\x00" * 4, b"\x10\x20\x30"))
    assert [part[:-1] for part in parts] == [b"\xab\xcd"] * 3


def test_threshold_one_shares_are_the_secret_followed_by_x() -> None:
    parts = split(b"secret", 3, 1, random_bytes=scripted(b"\x09\x08\x07"))
    assert parts == [b"secret\x09", b"secret\x08", b"secret\x07"]
    assert all(combine([part]) == b"secret" for part in parts)


def test_a_single_share_with_threshold_one_is_allowed() -> None:
    (part,) = split(b"k", 1, 1)
    assert part[:-1] == b"k"
    assert part[-1] != 0


# --- recovery -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=40),
    shape=st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))),
    data=st.data(),
)
def test_any_threshold_sized_or_larger_subset_recovers_the_secret(
    secret: bytes, shape: tuple[int, int], data: st.DataObject
) -> None:
    shares, threshold = shape
    parts = split(secret, shares, threshold)
    assert len(parts) == shares
    assert all(len(part) == len(secret) + 1 for part in parts)
    assert len({part[-1] for part in parts}) == shares
    size = data.draw(st.integers(threshold, shares))
    subset = data.draw(st.permutations(parts))[:size]
    assert combine(subset) == secret


def test_every_three_of_five_subset_recovers_the_secret() -> None:
    secret = os.urandom(32)
    parts = split(secret, 5, 3)
    for size in (3, 4, 5):
        for subset in itertools.combinations(parts, size):
            assert combine(list(subset)) == secret


def test_the_maximum_of_255_shares_works() -> None:
    secret = os.urandom(4)
    parts = split(secret, 255, 200)
    assert sorted(part[-1] for part in parts) == list(range(1, 256))
    assert combine(random.Random(7).sample(parts, 200)) == secret


# --- secrecy below the threshold ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    secret=st.binary(min_size=16, max_size=32),
    shape=st.integers(2, 10).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))),
)
def test_fewer_than_threshold_shares_do_not_yield_the_secret(secret: bytes, shape: tuple[int, int]) -> None:
    shares, threshold = shape
    parts = split(secret, shares, threshold)
    # 16+ secret bytes: a coincidental match has probability at most 2**-128.
    assert combine(parts[: threshold - 1]) != secret


@settings(max_examples=40, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=4),
    shape=st.integers(2, 6).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))),
    seed=st.integers(0, 2**32),
)
def test_any_candidate_secret_is_consistent_with_threshold_minus_one_shares(
    secret: bytes, shape: tuple[int, int], seed: int
) -> None:
    shares, threshold = shape
    rng = random.Random(seed)
    parts = split(secret, shares, threshold, random_bytes=rng.randbytes)
    seen = parts[: threshold - 1]
    xs = bytes(part[-1] for part in seen)
    candidate = rng.randbytes(len(secret))
    # Interpolate, byte by byte, a polynomial with the candidate as constant term through the seen points.
    coefficients = bytearray()
    for index, constant in enumerate(candidate):
        points = [(0, constant)] + [(part[-1], part[index]) for part in seen]
        coefficients += bytes(ref_interpolate(points)[1:])
    # Those coefficients are as likely a draw as the real ones, and split() turns them into the same shares.
    spare_x = next(x for x in range(1, 256) if x not in xs)  # split() needs at least `threshold` shares
    forged = split(
        candidate, threshold, threshold, random_bytes=scripted(bytes(coefficients), xs + bytes([spare_x]))
    )
    assert forged[: threshold - 1] == seen


def test_one_share_of_a_two_of_n_split_fits_every_secret_with_exactly_one_coefficient() -> None:
    observed = split(b"\x5c", 2, 2, random_bytes=scripted(b"\x9e", b"\x11\x22"))[0]
    for candidate in range(256):
        fits = [
            coefficient
            for coefficient in range(256)
            if split(bytes([candidate]), 2, 2, random_bytes=scripted(bytes([coefficient]), b"\x11\x22"))[0]
            == observed
        ]
        assert len(fits) == 1


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shares", "threshold"),
    [(0, 0), (1, 0), (2, 3), (256, 2), (3, -1), (255, 256)],
)
def test_split_refuses_impossible_share_counts(shares: int, threshold: int) -> None:
    with pytest.raises(InvalidRequest):
        split(b"secret", shares, threshold)


def test_split_refuses_an_empty_secret() -> None:
    with pytest.raises(InvalidRequest):
        split(b"", 3, 2)


def test_split_with_a_random_source_that_only_returns_zeros_fails_loudly() -> None:
    with pytest.raises(InternalError):
        split(b"secret", 2, 1, random_bytes=bytes)  # bytes(n) is n zero bytes


def test_split_with_a_random_source_returning_short_output_fails_loudly() -> None:
    with pytest.raises(InternalError):
        split(b"secret", 3, 2, random_bytes=lambda n: bytes(n - 1))


def test_combine_refuses_an_empty_list() -> None:
    with pytest.raises(InvalidRequest):
        combine([])


def test_combine_refuses_duplicate_shares() -> None:
    parts = split(b"secret", 3, 2)
    with pytest.raises(InvalidRequest):
        combine([parts[0], parts[1], parts[0]])


def test_combine_refuses_shares_of_different_lengths() -> None:
    first = split(b"secret", 3, 2)[0]
    other = split(b"secret!", 3, 2)[1]
    with pytest.raises(InvalidRequest):
        combine([first, other])


def test_combine_refuses_shares_too_short_to_hold_a_value() -> None:
    with pytest.raises(InvalidRequest):
        combine([b"\x01", b"\x02"])


def test_combine_refuses_an_x_coordinate_of_zero() -> None:
    with pytest.raises(InvalidRequest):
        combine([b"\x10\x00", b"\x11\x01"])
