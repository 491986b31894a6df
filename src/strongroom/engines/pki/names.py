"""Which names a role lets a caller put in a certificate (Vault's rules, written afresh).

A name is a DNS name or an email address (the common name and every entry of
``alt_names``). The rules, in the order Vault applies them:

* ``enforce_hostnames``: the name (the host part of an email, without a leading
  wildcard label) must be a valid RFC 1123 host name.
* A wildcard (``*.example.com``, ``foo*.example.com``, ...) needs
  ``allow_wildcard_certificates`` and must sit only in the left-most label.
* ``allow_any_name`` admits every name that passed the two checks above.
* ``allow_localhost`` admits ``localhost`` and ``localdomain``.
* Each entry of ``allowed_domains`` admits: the entry itself with
  ``allow_bare_domains``; names ending in ``.<entry>`` (wildcards included)
  with ``allow_subdomains``; names matching the entry as a shell-style glob
  (``*`` spans dots) with ``allow_glob_domains``.

Matching ignores case. Messages never repeat a rejected name: it is the
caller's input.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from strongroom.errors import InvalidRequest

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_WILDCARD_LABEL = re.compile(r"^[a-z0-9-]*\*[a-z0-9-]*$")
LOCAL_NAMES = ("localhost", "localdomain")


@dataclass(frozen=True, slots=True)
class NamePolicy:
    """The name rules of one role (or of a CA request, which allows any name)."""

    allowed_domains: tuple[str, ...] = ()
    allow_bare_domains: bool = False
    allow_subdomains: bool = False
    allow_glob_domains: bool = False
    allow_any_name: bool = False
    allow_localhost: bool = True
    allow_wildcard_certificates: bool = True
    enforce_hostnames: bool = True


ANY_NAME = NamePolicy(allow_any_name=True)


def is_hostname(name: str) -> bool:
    """RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens; 253 octets at most."""
    text = name.lower().removesuffix(".")
    if not text or len(text) > 253:
        return False
    return all(_LABEL.match(label) for label in text.split("."))


def split_wildcard(name: str) -> tuple[str, str]:
    """``(left-most label, rest)`` when the left-most label holds a ``*``, else ``("", name)``.

    A ``*`` anywhere but the left-most label, or twice in it, is a 400.
    """
    head, dot, rest = name.partition(".")
    if "*" in rest:
        raise InvalidRequest("a wildcard is allowed only in the left-most label of a name")
    if "*" not in head:
        return "", name
    if not dot or not _WILDCARD_LABEL.match(head) or head.count("*") != 1:
        raise InvalidRequest("invalid wildcard name: one '*' in the left-most label, as in *.example.com")
    return head, rest


def glob_match(pattern: str, name: str) -> bool:
    """Shell-style match where ``*`` matches any run of characters, dots included (no other metacharacters)."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == name
    if not name.startswith(parts[0]) or not name.endswith(parts[-1]):
        return False
    if len(parts[0]) + len(parts[-1]) > len(name):
        return False
    position = len(parts[0])
    end = len(name) - len(parts[-1])
    for middle in parts[1:-1]:
        found = name.find(middle, position, end)
        if found < 0:
            return False
        position = found + len(middle)
    return True


def check_name(name: str, policy: NamePolicy) -> None:
    """Raise a 400 unless ``policy`` admits ``name`` (a DNS name or an email address)."""
    lowered = name.strip().lower()
    if not lowered:
        raise InvalidRequest("empty names are not allowed")
    host = lowered.rpartition("@")[2] if "@" in lowered else lowered
    if "@" in lowered and (not host or not lowered.partition("@")[0]):
        raise InvalidRequest("invalid email address in the requested names")
    wildcard, base = split_wildcard(host)
    if wildcard and not policy.allow_wildcard_certificates:
        raise InvalidRequest("wildcard certificates are not allowed by this role")
    if policy.enforce_hostnames and not is_hostname(base):
        raise InvalidRequest("a requested name is not a valid host name (enforce_hostnames is set)")
    if policy.allow_any_name:
        return
    if policy.allow_localhost and host in LOCAL_NAMES:
        return
    if any(_domain_admits(domain.strip().lower(), lowered, host, policy) for domain in policy.allowed_domains):
        return
    raise InvalidRequest("a requested name is not allowed by this role")


def _domain_admits(domain: str, name: str, host: str, policy: NamePolicy) -> bool:
    if not domain:
        return False
    if policy.allow_bare_domains and domain in (name, host):
        return True
    if policy.allow_subdomains and host.endswith("." + domain):
        # Wildcards count as subdomains (Vault: "this includes wildcard subdomains").
        return True
    return policy.allow_glob_domains and "*" in domain and glob_match(domain, host)


def check_names(names: Iterable[str], policy: NamePolicy) -> None:
    for name in names:
        check_name(name, policy)


def parse_ips(values: Iterable[str]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """IP SANs from text; a value that is not an IP address is a 400 that does not repeat it."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for value in values:
        try:
            found.append(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise InvalidRequest("invalid IP address in ip_sans") from None
    return found


def check_uris_syntax(uris: Iterable[str]) -> None:
    """Each URI must parse with a scheme and something after it."""
    for uri in uris:
        parts = urlsplit(uri)
        if not parts.scheme or not (parts.netloc or parts.path):
            raise InvalidRequest("invalid URI in uri_sans: a URI needs a scheme, as in spiffe://example.org/x")


def check_uris(uris: Iterable[str], allowed: Iterable[str]) -> None:
    """Each URI must be well formed and match one of the role's ``allowed_uri_sans`` globs."""
    patterns = [pattern for pattern in allowed if pattern]
    check_uris_syntax(uris)
    for uri in uris:
        if not patterns:
            raise InvalidRequest("URI Subject Alternative Names are not allowed in this role")
        if not any(glob_match(pattern, uri) for pattern in patterns):
            raise InvalidRequest("a requested URI SAN is not allowed by this role")


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
