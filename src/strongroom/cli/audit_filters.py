"""The filters of ``strongroom audit search``: parsed once from the flags, then applied to each entry.

Filters of different kinds must all hold; the values given to one repeated flag
are alternatives. A filter on a field an entry does not have excludes the entry:
a request entry has no status yet (its response has), a checkpoint has no path.

Parsing raises ``ValueError`` with a message fit for the command line. Values
that may be secret (a searched value, an accessor) live in :class:`Needle`,
which compares in constant time and never shows them in ``repr``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strongroom.cli.audit_entry import raw_strings, strings
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import parse_duration
from strongroom.sdk.logical import Operation

ENTRY_TYPES = ("request", "response", "checkpoint")
OPERATIONS = tuple(op.value for op in Operation)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Needle:
    """Strings to look for, compared with :func:`hmac.compare_digest`; ``repr`` hides them."""

    __slots__ = ("_forms",)

    def __init__(self, forms: Iterable[str] = ()) -> None:
        self._forms = tuple(dict.fromkeys(_utf8(form) for form in forms))

    def __repr__(self) -> str:
        return f"Needle(<{len(self._forms)} hidden>)"

    def __bool__(self) -> bool:
        return bool(self._forms)

    def found_in(self, text: str) -> bool:
        """True when ``text`` equals one of the forms (every form is compared, found or not)."""
        given = _utf8(text)
        found = False
        for form in self._forms:
            found |= hmac.compare_digest(form, given)
        return found


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Criteria:
    """Everything an entry must satisfy to be shown (empty fields do not filter)."""

    types: frozenset[str] = frozenset({"request", "response"})
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    path_prefixes: tuple[str, ...] = ()
    operations: frozenset[str] = frozenset()
    request_ids: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    statuses: tuple[tuple[int, int], ...] = ()
    error: str | None = None
    #: Accessor forms (as given, and as each device would HMAC it).
    accessor: Needle = field(default_factory=Needle)
    #: A searched value's HMACs, found in any string of an entry.
    value_hmacs: Needle = field(default_factory=Needle)
    #: The searched value itself, found only where it was logged raw.
    value_plain: Needle = field(default_factory=Needle)

    def with_needles(self, *, accessor: Needle | None = None, value_hmacs: Needle | None = None,
                     value_plain: Needle | None = None) -> Criteria:
        return dataclasses.replace(self, accessor=accessor or self.accessor,
                                   value_hmacs=value_hmacs or self.value_hmacs,
                                   value_plain=value_plain or self.value_plain)

    @property
    def searches_value(self) -> bool:
        return bool(self.value_hmacs or self.value_plain)

    def matches(self, entry: Mapping[str, Any]) -> bool:
        """True when ``entry`` (one parsed audit line) satisfies every filter."""
        if entry.get("type") not in self.types:
            return False
        if (self.since or self.until) and not self._in_window(entry_time(entry)):
            return False
        request = _map(entry.get("request"))
        status = _map(entry.get("response")).get("status_code")
        if self.path_prefixes and not _text(request.get("path")).startswith(self.path_prefixes):
            return False
        if self.operations and request.get("operation") not in self.operations:
            return False
        if self.request_ids and request.get("id") not in self.request_ids:
            return False
        if self.networks and not _address_in(request.get("remote_address"), self.networks):
            return False
        if self.statuses and not _status_in(status, self.statuses):
            return False
        if self.error is not None and not _error_matches(entry.get("error"), self.error):
            return False
        if self.accessor and not any(self.accessor.found_in(a) for a in accessors(entry)):
            return False
        return not self.searches_value or self._carries_value(entry)

    def _in_window(self, when: dt.datetime | None) -> bool:
        if when is None:
            return False
        return (self.since is None or when >= self.since) and (self.until is None or when < self.until)

    def _carries_value(self, entry: Mapping[str, Any]) -> bool:
        if self.value_hmacs and any(self.value_hmacs.found_in(text) for text, _ in strings(entry)):
            return True
        return bool(self.value_plain) and any(self.value_plain.found_in(text) for text in raw_strings(entry))


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def entry_time(entry: Mapping[str, Any]) -> dt.datetime | None:
    """The entry's ``time`` as an aware datetime, or None when it is missing or not RFC 3339."""
    text = entry.get("time")
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def accessors(entry: Mapping[str, Any]) -> list[str]:
    """The token accessors an entry names: the caller's (``auth``, ``request``) and a granted token's."""
    found = [
        _map(entry.get("auth")).get("accessor"),
        _map(entry.get("request")).get("client_token_accessor"),
        _map(_map(entry.get("response")).get("auth")).get("accessor"),
    ]
    return [a for a in found if isinstance(a, str) and a]


def _address_in(value: Any, networks: Sequence[Network]) -> bool:
    if not isinstance(value, str):
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _status_in(value: Any, ranges: Sequence[tuple[int, int]]) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return any(low <= value <= high for low, high in ranges)


def _error_matches(value: Any, needle: str) -> bool:
    return isinstance(value, str) and bool(value) and needle.casefold() in value.casefold()


# -- parsing the flags ------------------------------------------------------------------------------


def build_criteria(*, now: dt.datetime, since: str | None = None, until: str | None = None,
                   paths: Sequence[str] = (), operations: Sequence[str] = (), types: Sequence[str] = (),
                   request_ids: Sequence[str] = (), remote_addresses: Sequence[str] = (),
                   statuses: Sequence[str] = (), error: str | None = None, checkpoints: bool = False) -> Criteria:
    """Criteria from the command line's flags (the needles are added later); ValueError names a bad flag.

    ``now`` (aware) anchors relative times: ``-since 15m`` is 15 minutes before it.
    """
    chosen = frozenset(_split(types, "type", ENTRY_TYPES)) or frozenset({"request", "response"})
    if checkpoints:
        chosen |= {"checkpoint"}
    start = parse_time(since, now, "since") if since else None
    end = parse_time(until, now, "until") if until else None
    if start and end and start >= end:
        raise ValueError("-since must be before -until")
    return Criteria(
        types=chosen,
        since=start,
        until=end,
        path_prefixes=tuple(p.strip().lstrip("/") for p in paths if p.strip().lstrip("/")),
        operations=frozenset(_split(operations, "operation", OPERATIONS)),
        request_ids=frozenset(r.strip() for r in request_ids if r.strip()),
        networks=tuple(parse_network(a) for a in remote_addresses),
        statuses=tuple(parse_status(s) for s in _split(statuses, "status", None)),
        error=error,
    )


def _split(values: Sequence[str], flag: str, allowed: Sequence[str] | None) -> list[str]:
    """Repeated flags and comma-separated lists, lower-cased, checked against ``allowed``."""
    out = [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
    for item in out:
        if allowed is not None and item not in allowed:
            raise ValueError(f"-{flag} must be one of {', '.join(allowed)} (got {item!r})")
    return out


def parse_time(text: str, now: dt.datetime, flag: str) -> dt.datetime:
    """An RFC 3339 time with its zone (``2026-03-01T10:00:00Z``), or a duration before ``now`` (``15m``)."""
    text = text.strip()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        if when.tzinfo is None:
            raise ValueError(f"-{flag} {text!r} has no time zone: add Z for UTC or an offset such as +02:00")
        return when
    try:
        seconds = parse_duration(text, flag) if text else -1
    except InvalidRequest:
        seconds = -1
    if seconds < 0:
        raise ValueError(f"-{flag} must be an RFC 3339 time (2026-03-01T10:00:00Z) or a duration before now "
                         f"(15m, 2h, 7d), not {text!r}")
    return now - dt.timedelta(seconds=seconds)


def parse_network(text: str) -> Network:
    """An address (``10.0.0.7``) or a CIDR block (``10.0.0.0/8``); host bits in a block are ignored.

    IPv4-mapped IPv6 (``::ffff:10.0.0.7``) means the IPv4 address, as it does for entries.
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"-remote-address must be an IP address or a CIDR block, not {text.strip()!r}") from None
    mapped = network.network_address.ipv4_mapped if isinstance(network, ipaddress.IPv6Network) else None
    if mapped is not None and network.prefixlen >= 96:
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def parse_status(text: str) -> tuple[int, int]:
    """``403`` -> (403, 403); ``4xx`` -> (400, 499)."""
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        base = int(text[0]) * 100
        return base, base + 99
    if len(text) == 3 and text.isdigit() and 100 <= int(text) <= 599:
        return int(text), int(text)
    raise ValueError(f"-status must be an HTTP status (403) or a class (4xx), not {text!r}")
