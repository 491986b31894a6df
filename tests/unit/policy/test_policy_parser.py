"""Parsing policy text (HCL and JSON) into validated rules, and refusing everything else clearly."""

from __future__ import annotations

import json

import pytest

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.model import PathRule
from strongroom.core.policy.parser import parse_policy
from strongroom.errors import InvalidRequest

FULL_HCL = """
# comment
path "secret/data/app/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"]
}

// another comment style
path "/secret//data/./exact" {
  capabilities = ["read"]
  allowed_parameters = {
    "Name" = ["a", 1, true, 2.5]
    "*"    = []
  }
  denied_parameters = {
    "admin" = []
  }
  required_parameters = ["Name", "name", "other"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 3600
}

/* a block
   comment */
path "sys/+/x" { capabilities = ["deny", "read"] }
"""


def test_full_hcl_policy_parses_into_canonical_rules() -> None:
    policy = parse_policy(" Dev-Team ", FULL_HCL)
    assert policy.name == "dev-team"
    assert policy.raw == FULL_HCL
    assert not policy.is_root
    first, second, third = policy.rules
    assert first == PathRule(
        pattern="secret/data/app/*",
        capabilities=frozenset({"create", "read", "update", "patch", "delete", "list", "sudo"}),
    )
    assert second.pattern == "secret/data/exact"
    assert dict(second.allowed_parameters) == {"name": ("a", 1, True, 2.5), "*": ()}
    assert dict(second.denied_parameters) == {"admin": ()}
    assert second.required_parameters == ("name", "other")
    assert (second.min_wrapping_ttl, second.max_wrapping_ttl) == (60, 3600)
    # deny overrides every other capability in the same stanza
    assert third.capabilities == frozenset({"deny"})


def test_json_policy_parses_like_the_equivalent_hcl() -> None:
    text = json.dumps(
        {
            "path": {
                "secret/*": {"capabilities": ["read", "list"]},
                "secret/x": {"policy": "write", "allowed_parameters": {"k": ["v"]}},
            }
        }
    )
    hcl = """
    path "secret/*" { capabilities = ["read", "list"] }
    path "secret/x" {
      policy = "write"
      allowed_parameters = { "k" = ["v"] }
    }
    """
    assert parse_policy("p", text).rules == parse_policy("p", hcl).rules


def test_json_path_may_be_a_list_of_objects() -> None:
    text = json.dumps({"path": [{"a": {"capabilities": ["read"]}}, {"b": {"capabilities": ["list"]}}]})
    assert [rule.pattern for rule in parse_policy("p", text).rules] == ["a", "b"]


def test_block_syntax_for_parameters_is_accepted() -> None:
    text = 'path "a" {\n capabilities = ["update"]\n allowed_parameters {\n "x" = ["y"]\n }\n}'
    assert dict(parse_policy("p", text).rules[0].allowed_parameters) == {"x": ("y",)}


@pytest.mark.parametrize(
    ("shorthand", "capabilities"),
    [
        ("deny", {"deny"}),
        ("read", {"read", "list"}),
        ("write", {"read", "list", "create", "update", "delete"}),
        ("sudo", {"read", "list", "create", "update", "delete", "sudo"}),
    ],
)
def test_legacy_policy_shorthand_expands_like_vault(shorthand: str, capabilities: set[str]) -> None:
    policy = parse_policy("p", f'path "a" {{ policy = "{shorthand}" }}')
    assert policy.rules[0].capabilities == frozenset(capabilities)


def test_legacy_shorthand_and_capabilities_are_unioned() -> None:
    policy = parse_policy("p", 'path "a" {\n policy = "read"\n capabilities = ["create", "sudo"]\n}')
    assert policy.rules[0].capabilities == frozenset({"read", "list", "create", "sudo"})


def test_repeated_stanzas_for_one_path_are_all_kept_so_a_deny_is_never_lost() -> None:
    # pyhcl's own parser would keep only the last of these stanzas.
    text = 'path "a" { capabilities = ["deny"] }\npath "a" { capabilities = ["read"] }'
    policy = parse_policy("p", text)
    assert [rule.capabilities for rule in policy.rules] == [frozenset({"deny"}), frozenset({"read"})]
    assert not ACL.from_policies([policy]).authorize("read", "a", {}).allowed


def test_booleans_and_mixed_values_are_accepted_in_parameter_lists() -> None:
    text = 'path "a" {\n capabilities = ["update"]\n allowed_parameters = { "x" = [true, "s", 1] }\n}'
    assert dict(parse_policy("p", text).rules[0].allowed_parameters) == {"x": (True, "s", 1)}


def test_comments_only_policy_grants_nothing() -> None:
    policy = parse_policy("p", "# nothing here\n")
    assert policy.rules == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the policy text is empty"),
        ("  \n\t ", "the policy text is empty"),
        ('path "a" {\n  capabilities = ["reed"]\n}', "line 2: unknown capability 'reed'"),
        ('path "a" {\n  capabilities = ["publish"]\n}', "line 2: unknown capability 'publish'"),
        ('path "a" {\n  capabilities = ["read"]\n  mfa_methods = ["x"]\n}',
         "line 3: unknown key 'mfa_methods'"),
        ('path "a" { capabilities = ["read"] }\nname = "x"', "line 2: unknown top-level key 'name'"),
        ('path "a/*/b" { capabilities = ["read"] }', "line 1: invalid policy path: '*' is only allowed"),
        ('\npath "a/../b" { capabilities = ["read"] }', "line 2: invalid policy path: '..'"),
        ('path "a" {\n}', "line 1: path 'a' must set 'capabilities'"),
        ('path "a" { capabilities = "read" }', "'capabilities' must be a list of strings"),
        ('path "a" { capabilities = ["read", 1] }', "'capabilities' must be a list of strings"),
        ('path "a" { policy = "admin" }', "'policy' must be one of"),
        ('path "a" {\n capabilities = ["read"]\n capabilities = ["list"]\n}',
         "line 3: key 'capabilities' is repeated"),
        ('path "a" {\n capabilities = ["read"]\n allowed_parameters = ["x"]\n}',
         "must be an object of lists"),
        ('path "a" {\n capabilities = ["read"]\n allowed_parameters = { "x" = "y" }\n}', "must be a list"),
        ('path "a" {\n capabilities = ["read"]\n denied_parameters = { "x" = [["y"]] }\n}',
         "must be strings, numbers or booleans"),
        ('path "a" {\n capabilities = ["read"]\n denied_parameters = { "x" = [], "X" = [] }\n}',
         "listed twice"),
        ('path "a" {\n capabilities = ["read"]\n max_wrapping_ttl = "soon"\n}', "line 3: invalid value"),
        ('path "a" {\n capabilities = ["read"]\n max_wrapping_ttl = true\n}', "must be a duration"),
        ('path "a" {\n capabilities = ["read"]\n min_wrapping_ttl = "2h"\n max_wrapping_ttl = "1h"\n}',
         "max_wrapping_ttl cannot be less than min_wrapping_ttl"),
        ('path = "x"', "line 1: 'path' must be followed by a quoted pattern and a block"),
        ('path "a" = "x"', "line 1: unexpected '=', expected '{'"),
        ('path = { "a" = "x" }', "line 1: path 'a' must be a block"),
        ('path "a" "b" { capabilities = ["read"] }', "line 1: unknown key 'b' in path 'a'"),
        ('path "a" { capabilities = ["read"', "line 1: unexpected end of policy"),
        ('path "a" {\n\n capabilities = [read]\n}', "line 3: unexpected identifier"),
        ('path "a" {\n capabilities = ["read" "list"]\n}', "line 2: unexpected string, expected ',' or ']'"),
        ('path "a" {\n capabilities = ["read"]\n}\n}', "line 4: unexpected '}'"),
        ('path "a" {\n capabilities = ["read\n}', "EOF before closing string quote"),
        ("path 'a' {}", "Illegal character"),
        ('{"path": {"a": {"capabilities": ["read"]}}', "invalid JSON"),
        ('{"path": {"a": {"capabilities": ["read"], "x": null}}}', "unknown key 'x'"),
        ('{"path": {"a": {"capabilities": ["read"], "allowed_parameters": {"k": [null]}}}}',
         "must be strings, numbers or booleans"),
        ('{"path": {"a": {"capabilities": ["read"]}}, "path": {"a": {"capabilities": ["sudo"]}}}', ""),
    ],
)
def test_invalid_policies_are_refused_with_a_clear_message(text: str, message: str) -> None:
    if not message:  # duplicate JSON keys are kept, like repeated HCL stanzas
        assert len(parse_policy("p", text).rules) == 2
        return
    with pytest.raises(InvalidRequest) as caught:
        parse_policy("p", text)
    assert message in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize("name", ["root", "ROOT", " root", "\uff52\uff4f\uff4f\uff54", "root\u200b"])
def test_a_policy_cannot_be_parsed_under_the_root_name(name: str) -> None:
    with pytest.raises(InvalidRequest, match="root"):
        parse_policy(name, 'path "*" { capabilities = ["sudo"] }')


def test_parsed_rules_cannot_be_changed_afterwards() -> None:
    text = 'path "a" {\n capabilities = ["update"]\n allowed_parameters = { "x" = [] }\n}'
    rule = parse_policy("p", text).rules[0]
    with pytest.raises(TypeError):
        rule.allowed_parameters["y"] = ()  # type: ignore[index]
