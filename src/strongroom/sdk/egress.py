"""The one egress check every configurable outbound connection goes through.

An operator (or an attacker holding an admin token) can point the server at a
URL: an alert webhook, an audit socket. Left unchecked, that turns the server
into a proxy into its own host and network (SSRF): a cloud metadata endpoint
hands out credentials, a loopback port reaches services that trust localhost.

:func:`resolve_checked` resolves a host once, refuses the connection when any
address it resolves to is in a denied range, and returns the addresses so the
caller connects to exactly what was checked (a second resolution could answer
differently: DNS rebinding).

Always denied, whatever the policy: cloud metadata endpoints, unspecified
(``0.0.0.0``, ``::``), multicast and reserved addresses. Denied unless the
policy allows them: loopback and link-local (``169.254/16``, ``fe80::/10``).
Private ranges (``10/8``, ``192.168/16``, ...) are allowed by default because
webhooks and log collectors usually live on the internal network; a policy
can deny them too. There is no switch that lifts the always-denied ranges.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from strongroom.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Instance metadata services (AWS/GCP/Azure/OpenStack, AWS ECS task metadata, AWS IPv6, Alibaba).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "100.100.100.200")
)


class EgressDenied(InvalidRequest):
    """An outbound destination the egress policy refuses. The message names the host, never credentials."""


class UnresolvableHost(EgressDenied):
    """The host name did not resolve (possibly a passing DNS failure: callers may retry)."""


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which address ranges an outbound connection may reach (see the module docstring for the defaults)."""

    allow_loopback: bool = False
    allow_link_local: bool = False
    allow_private: bool = True

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused, or ``None`` when it may be reached."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if address.is_unspecified or address.is_multicast or address.is_reserved:
            return "an unspecified, multicast or reserved address"
        if address.is_loopback:
            return None if self.allow_loopback else "a loopback address"
        if address.is_link_local:
            return None if self.allow_link_local else "a link-local address"
        if address.is_private and not address.is_global:
            return None if self.allow_private else "a private address"
        return None


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked URL: where to connect (``addresses``, all permitted) and what to call the host."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def split_url(url: str, schemes: tuple[str, ...] = ("http", "https")) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url``; InvalidRequest for other schemes, user info, or no host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidRequest("invalid URL") from None
    if parts.scheme not in schemes:
        raise InvalidRequest(f"URL scheme must be one of {', '.join(schemes)}")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; use the sink's own secret instead.
        raise InvalidRequest("URL must not carry user info")
    if not parts.hostname:
        raise InvalidRequest("URL has no host")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default


async def resolve_checked(host: str, port: int, policy: EgressPolicy) -> tuple[str, ...]:
    """Resolve ``host`` and return its addresses if the policy permits every one of them.

    Raises :class:`EgressDenied` when any resolved address is refused (a name
    that resolves to a public and a metadata address is refused outright) and
    when the name does not resolve.
    """
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise UnresolvableHost(f"egress to {host!r} refused: the name does not resolve") from None
        found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not found:
        raise UnresolvableHost(f"egress to {host!r} refused: the name does not resolve")
    for address in found:
        reason = policy.refusal(address)
        if reason is not None:
            raise EgressDenied(f"egress to {host!r} refused: it resolves to {reason} ({address})")
    return tuple(dict.fromkeys(str(a) for a in found))


async def check_url(url: str, policy: EgressPolicy) -> Destination:
    """Parse ``url`` (http or https) and resolve its host through :func:`resolve_checked`."""
    scheme, host, port = split_url(url)
    addresses = await resolve_checked(host, port, policy)
    return Destination(scheme=scheme, host=host, port=port, addresses=addresses)
