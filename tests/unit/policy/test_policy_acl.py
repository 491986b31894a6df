"""The ACL engine: Vault's precedence, merging, trailing slashes, root, and path spelling tricks."""

from __future__ import annotations

import pytest

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.canonical import canonical_request_path
from strongroom.core.policy.model import ROOT_POLICY
from strongroom.core.policy.parser import parse_policy
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Operation


def acl_of(*texts: str) -> ACL:
    return ACL.from_policies(parse_policy(f"p{index}", text) for index, text in enumerate(texts))


def stanza(pattern: str, *capabilities: str) -> str:
    quoted = ", ".join(f'"{c}"' for c in capabilities)
    return f'path "{pattern}" {{ capabilities = [{quoted}] }}\n'


# (patterns present, request path, the pattern that must decide)
PRECEDENCE = [
    # exact beats every wildcard
    (["secret/a", "secret/a*", "secret/+", "secret/*"], "secret/a", "secret/a"),
    # longest glob prefix
    (["secret/*", "secret/a/*"], "secret/a/b", "secret/a/*"),
    (["secret/*", "secret/fo*"], "secret/foo/bar", "secret/fo*"),
    # Vault's documented example: same first wildcard, both globs, fewer '+' wins
    (["secret/*", "secret/+/+/foo/*"], "secret/a/b/foo/c", "secret/*"),
    # first wildcard later wins: foo/a* over foo/+
    (["foo/a*", "foo/+"], "foo/ab", "foo/a*"),
    (["foo/bar/+/baz", "foo/+/bar/baz"], "foo/bar/bar/baz", "foo/bar/+/baz"),
    # not a glob beats a glob at the same position: foo/+/bar over foo/+/ba*, foo/+ over foo/*
    (["foo/+/bar", "foo/+/ba*"], "foo/x/bar", "foo/+/bar"),
    (["foo/+", "foo/*"], "foo/x", "foo/+"),
    # fewer '+' segments: foo/bar/+/baz over foo/+/+/baz
    (["foo/bar/+/baz", "foo/+/+/baz"], "foo/bar/x/baz", "foo/bar/+/baz"),
    # longer wins: foo/+/bar/ba* over foo/+/bar/b*
    (["foo/+/bar/ba*", "foo/+/bar/b*"], "foo/x/bar/baz", "foo/+/bar/ba*"),
    # lexical tie-break (greater wins) when everything else is equal
    (["a/+/b/+", "a/+/+/c"], "a/x/b/c", "a/+/b/+"),
    # '+*' is one segment then anything
    (["secret/+*"], "secret/a/b/c", "secret/+*"),
    (["secret/+*", "secret/+/b"], "secret/a/b", "secret/+/b"),
    # '+' never matches across segments
    (["secret/+/teamb", "secret/*"], "secret/foo/bar/teamb", "secret/*"),
    (["secret/+/teamb", "secret/*"], "secret/foo/teamb", "secret/+/teamb"),
    # leading '+' segment (namespace-style policies)
    (["+/sys/policy", "*"], "ns1/sys/policy", "+/sys/policy"),
]


@pytest.mark.parametrize(("patterns", "path", "winner"), PRECEDENCE)
def test_the_most_specific_pattern_decides_in_vault_order(
    patterns: list[str], path: str, winner: str
) -> None:
    for ordering in (patterns, list(reversed(patterns))):
        acl = acl_of("".join(stanza(p, "read") for p in ordering))
        rule = acl.match(path)
        assert rule is not None
        assert rule.pattern == winner


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("secret/foo", "secret/foo", True),
        ("secret/foo", "secret/foo/", False),
        ("secret/foo", "secret/food", False),
        ("secret/foo*", "secret/foo", True),
        ("secret/foo*", "secret/food", True),
        ("secret/foo*", "secret/foo/bar", True),
        ("secret/foo*", "secret/fo", False),
        ("secret/*", "secret/", True),
        ("secret/*", "secret", False),
        ("secret/+/teamb", "secret/foo/teamb", True),
        ("secret/+/teamb", "secret/foo/bar/teamb", False),
        ("secret/+/teamb", "secret/teamb", False),
        ("secret/+", "secret/a", True),
        ("secret/+", "secret/", False),  # the empty piece after a trailing '/' is not a segment
        ("secret/+", "secret/a/", False),
        ("secret/+/", "secret/a/", True),
        ("secret/+/", "secret/a", False),
        ("secret/+/*", "secret/a/", True),
        ("secret/+/*", "secret/a/b/c", True),
        ("secret/+/*", "secret/a", False),
        ("secret/+*", "secret/a", True),
        ("secret/+*", "secret/", False),
        ("+", "secret", True),
        ("+", "secret/", False),
        ("*", "anything/at/all", True),
        ("*", "", True),
    ],
)
def test_pattern_kinds_match_as_documented(pattern: str, path: str, matches: bool) -> None:
    acl = acl_of(stanza(pattern, "read"))
    assert (acl.match(path) is not None) is matches


def test_deny_in_any_policy_for_the_same_pattern_wins() -> None:
    acl = acl_of(
        stanza("secret/x", "read", "update", "sudo"), stanza("secret/x", "deny"), stanza("secret/x", "list")
    )
    for operation in Operation:
        decision = acl.authorize(operation.value, "secret/x", {})
        assert not decision.allowed
        assert decision.capabilities == frozenset({"deny"})
        assert not decision.sudo
    assert acl.capabilities("secret/x") == ["deny"]


def test_capabilities_for_the_same_pattern_are_unioned_across_policies() -> None:
    acl = acl_of(stanza("secret/*", "read"), stanza("secret/*", "list"), stanza("/secret//*", "update"))
    assert acl.capabilities("secret/a") == ["list", "read", "update"]


def test_a_deny_on_a_less_specific_pattern_does_not_override_a_more_specific_grant() -> None:
    acl = acl_of(stanza("secret/*", "deny"), stanza("secret/public/*", "read"))
    assert acl.authorize("read", "secret/public/x", {}).allowed
    assert not acl.authorize("read", "secret/private/x", {}).allowed


def test_a_more_specific_deny_beats_a_broader_grant() -> None:
    acl = acl_of(stanza("secret/*", "read", "list"), stanza("secret/+/admin", "deny"))
    assert not acl.authorize("read", "secret/team/admin", {}).allowed
    assert acl.authorize("read", "secret/team/other", {}).allowed


def test_list_of_a_folder_is_granted_by_the_exact_path_with_or_without_trailing_slash() -> None:
    for pattern in ("secret/foo", "secret/foo/"):
        acl = acl_of(stanza(pattern, "list"))
        assert acl.authorize("list", "secret/foo/", {}).allowed
        assert acl.authorize("scan", "secret/foo/", {}).allowed


def test_read_of_a_trailing_slash_path_needs_that_exact_path() -> None:
    acl = acl_of(stanza("secret/foo", "read"))
    assert not acl.authorize("read", "secret/foo/", {}).allowed
    assert acl.authorize("read", "secret/foo", {}).allowed


def test_segment_wildcard_without_trailing_slash_grants_list_of_the_folder() -> None:
    acl = acl_of(stanza("+/sys/policies/acl", "list"))
    assert acl.authorize("list", "ns1/sys/policies/acl/", {}).allowed


def test_plus_does_not_stand_for_the_empty_piece_after_a_trailing_slash() -> None:
    acl = acl_of(stanza("secret/+", "list", "read"))
    assert not acl.authorize("list", "secret/", {}).allowed
    assert acl.authorize("list", "secret/a/", {}).allowed
    assert not acl.authorize("read", "secret/a/", {}).allowed
    assert acl.capabilities("secret/") == ["deny"]


def test_exact_folder_rule_beats_a_deny_glob_below_it_for_list() -> None:
    acl = acl_of(stanza("secret/foo", "list"), stanza("secret/foo/*", "deny"))
    assert acl.authorize("list", "secret/foo/", {}).allowed
    assert not acl.authorize("read", "secret/foo/x", {}).allowed


def test_list_picks_the_most_specific_match_of_either_spelling() -> None:
    # Vault would let secret/* answer for "secret/foo" first; we let the more specific deny decide.
    acl = acl_of(stanza("secret/*", "list"), stanza("secret/foo/*", "deny"))
    assert not acl.authorize("list", "secret/foo/", {}).allowed
    assert acl.authorize("list", "secret/bar/", {}).allowed


def test_scan_requires_the_list_capability() -> None:
    assert not acl_of(stanza("secret/*", "read")).authorize("scan", "secret/", {}).allowed
    assert acl_of(stanza("secret/*", "list")).authorize("scan", "secret/", {}).allowed


@pytest.mark.parametrize("operation", list(Operation))
def test_each_operation_needs_its_own_capability(operation: Operation) -> None:
    needed = "list" if operation in (Operation.LIST, Operation.SCAN) else operation.value
    path = "secret/x/" if needed == "list" else "secret/x"
    for capability in ("create", "read", "update", "patch", "delete", "list", "sudo"):
        decision = acl_of(stanza("secret/*", capability)).authorize(operation, path, {})
        assert decision.allowed is (capability == needed)


def test_unknown_operations_are_refused() -> None:
    acl = acl_of(stanza("*", "create", "read", "update", "patch", "delete", "list", "sudo"))
    decision = acl.authorize("help", "secret/x", {})
    assert not decision.allowed
    assert decision.reason == "unknown operation"


def test_nothing_matching_means_denied() -> None:
    acl = acl_of(stanza("secret/*", "read"))
    decision = acl.authorize("read", "other/x", {})
    assert not decision.allowed
    assert decision.capabilities == frozenset()
    assert decision.pattern is None
    assert acl.capabilities("other/x") == ["deny"]
    assert ACL.from_policies([]).capabilities("secret/x") == ["deny"]


def test_an_empty_capability_list_matches_but_grants_nothing() -> None:
    acl = acl_of(stanza("secret/*", "read"), stanza("secret/x", ))
    assert not acl.authorize("read", "secret/x", {}).allowed
    assert acl.capabilities("secret/x") == ["deny"]


def test_sudo_is_reported_from_the_deciding_rule() -> None:
    acl = acl_of(stanza("sys/audit/*", "update", "sudo"), stanza("sys/*", "update"))
    assert acl.authorize("update", "sys/audit/file", {}).sudo
    assert not acl.authorize("update", "sys/mounts/x", {}).sudo
    assert acl.capabilities("sys/audit/file") == ["sudo", "update"]


def test_root_policy_grants_everything_including_sudo() -> None:
    acl = ACL.from_policies([ROOT_POLICY])
    assert acl.is_root
    for operation in Operation:
        decision = acl.authorize(operation, "sys/anything/", {"x": 1})
        assert decision.allowed
        assert decision.sudo
    assert acl.capabilities("sys/audit") == ["root"]


def test_root_among_other_policies_is_still_root() -> None:
    acl = ACL.from_policies([parse_policy("p", stanza("*", "deny")), ROOT_POLICY])
    assert acl.authorize("read", "secret/x", {}).allowed
    assert acl.capabilities("secret/x") == ["root"]


def test_a_policy_named_like_root_is_never_root() -> None:
    with pytest.raises(InvalidRequest):
        parse_policy("Root", stanza("*", "sudo"))
    assert not acl_of(stanza("*", "read")).is_root


def test_capabilities_are_sorted_and_canonicalise_their_path() -> None:
    acl = acl_of(stanza("secret/x", "update", "read", "create"))
    assert acl.capabilities("/secret//./x") == ["create", "read", "update"]
    with pytest.raises(InvalidRequest):
        acl.capabilities("secret/../secret/x")


@pytest.mark.parametrize(
    ("wrap_ttl", "allowed"),
    [(None, False), (30, False), (60, True), (300, True), (600, True), (601, False)],
)
def test_wrapping_ttl_bounds_are_enforced(wrap_ttl: int | None, allowed: bool) -> None:
    acl = acl_of(
        'path "x" {\n capabilities = ["read"]\n min_wrapping_ttl = "1m"\n max_wrapping_ttl = "10m"\n}'
    )
    assert acl.authorize("read", "x", {}, wrap_ttl=wrap_ttl).allowed is allowed


def test_merged_wrapping_bounds_that_leave_no_valid_ttl_refuse() -> None:
    acl = acl_of(
        'path "x" {\n capabilities = ["read"]\n min_wrapping_ttl = 600\n}',
        'path "x" {\n capabilities = ["read"]\n max_wrapping_ttl = 60\n}',
    )
    for ttl in (None, 30, 60, 600):
        assert not acl.authorize("read", "x", {}, wrap_ttl=ttl).allowed


# --- path spelling tricks: nothing gets more than the canonical path gets -----------------------

TRICK_POLICY = (
    stanza("secret/*", "read", "list") + stanza("secret/admin", "deny") + stanza("secret/admin/*", "deny")
)


@pytest.mark.parametrize(
    "raw",
    [
        "secret//admin",
        "secret/./admin",
        "/secret/admin",
        "secret/admin/.",
        "secret///admin//",
        "secret/admin/./x",
        "secret//admin/x",
    ],
)
def test_spelling_variants_of_a_denied_path_are_still_denied(raw: str) -> None:
    acl = acl_of(TRICK_POLICY)
    path = canonical_request_path(raw)
    assert path.startswith("secret/admin")
    assert not acl.authorize("read", path, {}).allowed
    # The raw spelling itself is never judged: a non-canonical path is refused outright.
    if raw != path:
        decision = acl.authorize("read", raw, {})
        assert not decision.allowed
        assert decision.reason == "request path is not canonical"


# "%2e%2e" in a URL reaches the core already decoded, as "..".
@pytest.mark.parametrize("raw", ["secret/x/../admin", "secret/../admin", "secret/.."])
def test_dot_dot_spellings_never_reach_the_acl(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        canonical_request_path(raw)
    assert not acl_of(TRICK_POLICY).authorize("read", raw, {}).allowed


def test_doubly_encoded_dot_dot_is_a_literal_name_under_its_own_folder() -> None:
    # "%252e%252e" decodes once to the text "%2e%2e": a plain segment, not a parent reference.
    acl = acl_of(TRICK_POLICY)
    path = canonical_request_path("secret/%2e%2e/admin")
    assert path == "secret/%2e%2e/admin"
    decision = acl.authorize("read", path, {})
    assert decision.allowed
    assert decision.pattern == "secret/*"


def test_a_look_alike_spelling_is_a_different_path_not_the_protected_one() -> None:
    acl = acl_of(stanza("secret/admin", "read"))
    assert not acl.authorize("read", canonical_request_path("secret/\uff41dmin"), {}).allowed
    with pytest.raises(InvalidRequest):
        canonical_request_path("secret/ad\u200bmin")


def test_decision_reasons_never_contain_data_values() -> None:
    canary = "canary-6f1d2e-secret-value"
    acl = acl_of(
        'path "x" {\n capabilities = ["update"]\n allowed_parameters = { "a" = ["ok"] }\n'
        ' denied_parameters = { "b" = ["bad*"] }\n}'
    )
    for data in ({"a": canary}, {"b": "bad" + canary}, {canary: "ok"}, {"a": [canary]}):
        decision = acl.authorize("update", "x", data)
        assert not decision.allowed
        assert canary not in decision.reason
        assert canary not in repr(decision)
