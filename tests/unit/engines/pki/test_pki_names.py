"""Which names a role admits: every allow_* flag both ways, through ``issue/:role`` (400 and nothing stored)."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pki_support import UPDATE, load_cert

from strongroom.engines.pki.names import NamePolicy, check_name, glob_match, is_hostname
from strongroom.errors import InvalidRequest

# (role fields, requested name, allowed?)
CASES = [
    # allowed_domains with allow_subdomains
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "www.example.com", True),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "a.b.example.com", True),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "*.example.com", True),
    ({"allowed_domains": ["example.com"], "allow_subdomains": False}, "www.example.com", False),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "example.com", False),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "www.notexample.com", False),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "example.com.evil.org", False),
    # allow_bare_domains
    ({"allowed_domains": ["example.com"], "allow_bare_domains": True}, "example.com", True),
    ({"allowed_domains": ["example.com"], "allow_bare_domains": True}, "EXAMPLE.com", True),
    ({"allowed_domains": ["example.com"], "allow_bare_domains": False}, "example.com", False),
    ({"allowed_domains": ["example.com"], "allow_bare_domains": True}, "www.example.com", False),
    # allow_glob_domains
    ({"allowed_domains": ["ftp*.example.com"], "allow_glob_domains": True}, "ftp01.example.com", True),
    ({"allowed_domains": ["*.example.com"], "allow_glob_domains": True}, "a.b.example.com", True),
    ({"allowed_domains": ["ftp*.example.com"], "allow_glob_domains": True}, "www.example.com", False),
    ({"allowed_domains": ["ftp*.example.com"], "allow_glob_domains": False}, "ftp01.example.com", False),
    # allow_any_name, still under enforce_hostnames
    ({"allow_any_name": True}, "anything.example.org", True),
    ({"allow_any_name": False}, "anything.example.org", False),
    ({"allow_any_name": True}, "not a hostname", False),
    ({"allow_any_name": True, "enforce_hostnames": False}, "not a hostname", True),
    # allow_localhost
    ({"allow_localhost": True}, "localhost", True),
    ({"allow_localhost": False}, "localhost", False),
    # allow_wildcard_certificates
    ({"allowed_domains": ["example.com"], "allow_subdomains": True, "allow_wildcard_certificates": False},
     "*.example.com", False),
    ({"allow_any_name": True}, "www.*.example.com", False),
    ({"allow_any_name": True}, "**.example.com", False),
    # enforce_hostnames
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "-bad.example.com", False),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True}, "under_score.example.com", False),
    ({"allowed_domains": ["example.com"], "allow_subdomains": True, "enforce_hostnames": False},
     "under_score.example.com", True),
]


def _role(pki, fields: dict) -> None:
    """Role ``r`` with exactly ``fields`` over Vault's defaults (localhost off, so it cannot mask a case)."""
    pki.ok(UPDATE, "roles/r", {"key_type": "ec", "allow_localhost": False, **fields})


@pytest.mark.parametrize(("fields", "name", "allowed"), CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_common_name_rules(pki, fields, name, allowed) -> None:
    pki.root()
    _role(pki, fields)
    body = {"common_name": name}
    before = pki.contents()
    if allowed:
        cert = load_cert(pki.ok(UPDATE, "issue/r", body)["certificate"])
        assert cert.subject.rfc4514_string() == "CN=" + name
    else:
        pki.fail(UPDATE, "issue/r", body, InvalidRequest)
        assert pki.contents() == before


@pytest.mark.parametrize(("fields", "name", "allowed"), CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_alt_names_follow_the_same_rules(pki, fields, name, allowed) -> None:
    pki.root()
    _role(pki, {"require_cn": False, **fields})
    before = pki.contents()
    if allowed:
        pki.ok(UPDATE, "issue/r", {"alt_names": name})
    else:
        pki.fail(UPDATE, "issue/r", {"alt_names": name}, InvalidRequest)
        assert pki.contents() == before


def test_one_forbidden_alt_name_refuses_the_whole_request(rooted) -> None:
    before = rooted.contents()
    error = rooted.fail(UPDATE, "issue/web", {"common_name": "www.example.com",
                                              "alt_names": "api.example.com,evil.org"}, InvalidRequest)
    assert error.message == "a requested name is not allowed by this role"
    assert "evil" not in error.message
    assert rooted.contents() == before


def test_email_names_match_their_domain_as_a_bare_domain(pki) -> None:
    pki.root()
    pki.role("mail", allowed_domains=["example.com"], allow_bare_domains=True, email_protection_flag=True)
    pki.ok(UPDATE, "issue/mail", {"common_name": "ops@example.com"})
    pki.fail(UPDATE, "issue/mail", {"common_name": "ops@evil.org"}, InvalidRequest)


@pytest.mark.parametrize(("allow", "ok"), [(True, True), (False, False)])
def test_ip_sans_need_allow_ip_sans(pki, allow, ok) -> None:
    pki.root()
    pki.role("r", allow_ip_sans=allow)
    body = {"common_name": "www.example.com", "ip_sans": "10.0.0.1"}
    if ok:
        pki.ok(UPDATE, "issue/r", body)
    else:
        before = pki.contents()
        error = pki.fail(UPDATE, "issue/r", body, InvalidRequest)
        assert "IP Subject Alternative Names are not allowed" in error.message
        assert pki.contents() == before


@pytest.mark.parametrize(("allow", "ok"), [(True, True), (False, False)])
def test_an_ip_common_name_is_an_ip_san_under_allow_ip_sans(pki, openssl, allow, ok) -> None:
    pki.root()
    pki.role("r", allow_ip_sans=allow)
    if ok:
        text = openssl.x509_text(pki.ok(UPDATE, "issue/r", {"common_name": "192.0.2.10"})["certificate"])
        assert "IP Address:192.0.2.10" in text
        assert "DNS:192.0.2.10" not in text
    else:
        pki.fail(UPDATE, "issue/r", {"common_name": "192.0.2.10"}, InvalidRequest)


def test_a_malformed_ip_san_is_400(rooted) -> None:
    error = rooted.fail(UPDATE, "issue/web", {"common_name": "www.example.com", "ip_sans": "10.0.0.256"},
                        InvalidRequest)
    assert error.message == "invalid IP address in ip_sans"


@pytest.mark.parametrize(
    ("allowed", "uri", "ok"),
    [
        ([], "spiffe://example.com/web", False),
        (["spiffe://example.com/*"], "spiffe://example.com/web", True),
        (["spiffe://example.com/*"], "spiffe://other.com/web", False),
        (["spiffe://example.com/web"], "spiffe://example.com/web", True),
        (["spiffe://example.com/*"], "not-a-uri", False),
    ],
)
def test_uri_sans_must_match_allowed_uri_sans(pki, allowed, uri, ok) -> None:
    pki.root()
    pki.role("r", allowed_uri_sans=allowed)
    body = {"common_name": "www.example.com", "uri_sans": uri}
    if ok:
        pki.ok(UPDATE, "issue/r", body)
    else:
        pki.fail(UPDATE, "issue/r", body, InvalidRequest)


def test_require_cn_both_ways(pki) -> None:
    pki.root()
    pki.role("strict")
    error = pki.fail(UPDATE, "issue/strict", {"alt_names": "www.example.com"}, InvalidRequest)
    assert "common_name field is required" in error.message
    pki.role("loose", require_cn=False)
    cert = load_cert(pki.ok(UPDATE, "issue/loose", {"alt_names": "www.example.com"})["certificate"])
    assert cert.subject.rfc4514_string() == ""


def test_exclude_cn_from_sans_keeps_the_cn_out_of_the_sans(rooted, openssl) -> None:
    text = openssl.x509_text(rooted.issue(common_name="www.example.com", exclude_cn_from_sans=True,
                                          alt_names="api.example.com")["certificate"])
    assert "DNS:api.example.com" in text
    assert "DNS:www.example.com" not in text


# --- the matchers themselves ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab.*", max_size=8), name=st.text(alphabet="ab.", max_size=8))
def test_glob_match_agrees_with_fnmatch_where_star_is_the_only_metacharacter(pattern: str, name: str) -> None:
    assert glob_match(pattern, name) == fnmatch.fnmatchcase(name, pattern)


@pytest.mark.parametrize(
    ("name", "valid"),
    [("example.com", True), ("a-b.example.com", True), ("xn--bcher-kva.example", True), ("example.com.", True),
     ("-a.example.com", False), ("a-.example.com", False), ("a..b", False), ("a" * 64 + ".com", False),
     (("a" * 60 + ".") * 5 + "com", False), ("", False), ("exa mple.com", False)],
)
def test_is_hostname(name: str, valid: bool) -> None:
    assert is_hostname(name) is valid


def test_messages_never_repeat_the_rejected_name() -> None:
    policy = NamePolicy(allowed_domains=("example.com",), allow_subdomains=True)
    for name in ("canary-7f3a9c.evil.org", "canary-7f3a9c@evil.org", "canary_7f3a9c.example.com", "*.*.canary7f3a9c"):
        with pytest.raises(InvalidRequest) as caught:
            check_name(name, policy)
        assert "7f3a9c" not in caught.value.message
