"""Certificate serial numbers: drawing them, and Vault's two spellings of them.

Vault draws a random positive serial below 2^159 (so its DER form fits the
20 octets RFC 5280 allows) and shows it as lowercase colon-separated hex of its
minimal big-endian bytes (``39:dd:2e:...``). Storage keys use the same text
with hyphens, because ':' reads badly in a path. Callers may send either form,
in either case.
"""

from __future__ import annotations

from collections.abc import Callable

#: RFC 5280 section 4.1.2.2: a serial is at most 20 octets.
MAX_SERIAL_OCTETS = 20


def new_serial(random_bytes: Callable[[int], bytes]) -> int:
    """A uniformly random serial in [1, 2^159) from the injected randomness."""
    while True:
        raw = bytearray(random_bytes(MAX_SERIAL_OCTETS))
        raw[0] &= 0x7F  # below 2^159: positive, and 20 octets in DER even with a sign byte
        value = int.from_bytes(raw, "big")
        if value:
            return value


def format_serial(serial: int) -> str:
    """Vault's display form: ``0a:1b:...`` (lowercase hex pairs of the minimal big-endian bytes)."""
    octets = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    return ":".join(f"{octet:02x}" for octet in octets)


def storage_name(serial: int) -> str:
    """The storage key segment for a serial: the display form with hyphens."""
    return format_serial(serial).replace(":", "-")


def parse_serial(text: object) -> int | None:
    """The serial a caller named with colons or hyphens (any case), or None when it is not one.

    Each group is one or two hex digits; at most 20 octets. A bare hex string
    without separators is accepted too. Never raises: callers choose the error.
    """
    if not isinstance(text, str):
        return None
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    groups = cleaned.replace("-", ":").split(":")
    if len(groups) == 1:
        digits = groups[0]
        if len(digits) > 2 * MAX_SERIAL_OCTETS:
            return None
    else:
        if len(groups) > MAX_SERIAL_OCTETS or any(not 1 <= len(group) <= 2 for group in groups):
            return None
        digits = "".join(group.rjust(2, "0") for group in groups)
    if not all(char in "0123456789abcdef" for char in digits):
        return None
    return int(digits, 16)
