"""The one egress check for configurable outbound URLs: which addresses it refuses, and how it resolves."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressDenied, EgressPolicy, UnresolvableHost, check_url, resolve_checked, split_url

DEFAULT = EgressPolicy()
EVERYTHING_ALLOWED = EgressPolicy(allow_loopback=True, allow_link_local=True, allow_private=True)


@pytest.mark.parametrize(
    ("address", "refused_by_default"),
    [
        ("93.184.215.14", False),
        ("2606:4700::6810:85e5", False),
        ("10.1.2.3", False),
        ("192.168.1.10", False),
        ("fd12:3456::1", False),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("169.254.10.20", True),
        ("fe80::1", True),
        ("169.254.169.254", True),
        ("::ffff:169.254.169.254", True),
        ("fd00:ec2::254", True),
        ("100.100.100.200", True),
        ("0.0.0.0", True),
        ("::", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
    ],
)
def test_the_default_policy(address: str, refused_by_default: bool) -> None:
    assert (DEFAULT.refusal(ipaddress.ip_address(address)) is not None) is refused_by_default


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "0.0.0.0", "ff02::1"])
def test_metadata_and_unroutable_addresses_are_refused_whatever_the_policy(address: str) -> None:
    assert EVERYTHING_ALLOWED.refusal(ipaddress.ip_address(address)) is not None


def test_each_switch_opens_only_its_own_range() -> None:
    loopback, link_local = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("169.254.1.1")
    assert EgressPolicy(allow_loopback=True).refusal(loopback) is None
    assert EgressPolicy(allow_loopback=True).refusal(link_local) is not None
    assert EgressPolicy(allow_link_local=True).refusal(link_local) is None
    assert EgressPolicy(allow_private=False).refusal(ipaddress.ip_address("10.0.0.1")) == "a private address"


def test_a_name_is_refused_when_it_resolves_to_a_refused_address() -> None:
    with pytest.raises(EgressDenied, match="loopback"):
        asyncio.run(resolve_checked("localhost", 80, DEFAULT))
    assert "127.0.0.1" in asyncio.run(resolve_checked("localhost", 80, EgressPolicy(allow_loopback=True)))


def test_a_name_that_does_not_resolve_is_its_own_error() -> None:
    with pytest.raises(UnresolvableHost):
        asyncio.run(resolve_checked("no-such-host.invalid", 443, DEFAULT))


def test_check_url_answers_what_to_connect_to() -> None:
    destination = asyncio.run(check_url("https://93.184.215.14/hook", DEFAULT))
    assert (destination.scheme, destination.host, destination.port) == ("https", "93.184.215.14", 443)
    assert destination.addresses == ("93.184.215.14",)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("https://user:pw@example.com/x", "user info"),
        ("https:///nohost", "no host"),
        ("http://example.com:99999/", "invalid URL"),
    ],
)
def test_unusable_urls_are_refused_before_any_lookup(url: str, problem: str) -> None:
    with pytest.raises(InvalidRequest, match=problem):
        split_url(url)
