"""allowed / denied / required parameters: Vault's rules, with deny winning whenever in doubt."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.parser import parse_policy


def acl_with(constraints: str, *extra: str) -> ACL:
    text = f'path "x" {{\n capabilities = ["create", "read", "update", "patch"]\n{constraints}\n}}\n'
    others = [parse_policy(f"e{index}", other) for index, other in enumerate(extra)]
    return ACL.from_policies([parse_policy("p", text), *others])


def allowed(acl: ACL, data: dict[str, Any], operation: str = "update") -> bool:
    return acl.authorize(operation, "x", data).allowed


ALLOWED = """allowed_parameters = {
  "color" = ["red", "gr*", "*ue", "*ell*"]
  "n" = [1, true]
  "any" = []
}"""


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, True),
        ({"color": "red"}, True),
        ({"COLOR": "red"}, True),  # names compare case-insensitively
        ({"color": "green"}, True),  # prefix glob
        ({"color": "blue"}, True),  # suffix glob
        ({"color": "yellow"}, True),  # infix glob
        ({"color": "Red"}, False),  # values compare case-sensitively for allowed
        ({"color": "black"}, False),
        ({"color": "red,green"}, True),  # every comma part allowed
        ({"color": "red, black"}, False),
        ({"color": ["red", "blue"]}, True),
        ({"color": ["red", "black"]}, False),
        ({"color": []}, False),  # an empty list is not a value from the list
        ({"color": ""}, False),
        ({"color": None}, False),
        ({"color": {"k": "red"}}, False),
        ({"n": 1}, True),
        ({"n": "1"}, True),  # compared as text, like Vault's string-typed JSON numbers
        ({"n": 1.0}, True),
        ({"n": True}, True),
        ({"n": "true"}, True),
        ({"n": 2}, False),
        ({"any": "whatever"}, True),  # an empty list means any value
        ({"any": {"nested": [1]}}, True),
        ({"other": "x"}, False),  # not listed
        ({"color": "red", "other": "x"}, False),
    ],
)
def test_allowed_parameters(data: dict[str, Any], expected: bool) -> None:
    assert allowed(acl_with(ALLOWED), data) is expected


DENIED = 'denied_parameters = {\n "policies" = ["root", "admin*"]\n "ttl" = []\n}'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, True),
        ({"policies": "dev"}, True),
        ({"policies": "root"}, False),
        ({"POLICIES": "root"}, False),
        ({"policies": "ROOT"}, False),  # stricter than Vault: denied values ignore case
        ({"policies": "\uff52\uff4f\uff4f\uff54"}, False),  # and compatibility forms
        ({"policies": "administrators"}, False),  # glob
        ({"policies": "dev,root"}, False),  # any comma part
        ({"policies": "dev, root "}, False),
        ({"policies": ["dev", "root"]}, False),  # any element
        ({"policies": ["dev", " root"]}, False),
        ({"policies": ["dev", "ops"]}, True),
        ({"policies": None}, False),  # no text form: treated as denied
        ({"policies": {"a": "dev"}}, False),
        ({"policies": [["root"]]}, False),
        ({"ttl": "1h"}, False),  # an empty denied list denies every value
        ({"other": "root"}, True),  # only the named parameter is constrained
    ],
)
def test_denied_parameters(data: dict[str, Any], expected: bool) -> None:
    assert allowed(acl_with(DENIED), data) is expected


def test_denied_wins_over_allowed() -> None:
    acl = acl_with('allowed_parameters = { "x" = [] }\n denied_parameters = { "x" = ["bad"] }')
    assert allowed(acl, {"x": "good"})
    assert not allowed(acl, {"x": "bad"})


def test_star_in_denied_refuses_any_request_with_data() -> None:
    acl = acl_with('denied_parameters = { "*" = [] }')
    assert allowed(acl, {})
    assert not allowed(acl, {"anything": "x"})


def test_star_in_allowed_admits_unlisted_parameters() -> None:
    acl = acl_with('allowed_parameters = {\n "*" = []\n "mode" = ["ro"]\n}')
    assert allowed(acl, {"anything": "x", "mode": "ro"})
    assert not allowed(acl, {"anything": "x", "mode": "rw"})


def test_star_values_in_allowed_constrain_unlisted_parameters() -> None:
    acl = acl_with('allowed_parameters = { "*" = ["safe*"] }')
    assert allowed(acl, {"a": "safe-1", "b": "safe"})
    assert not allowed(acl, {"a": "unsafe"})


def test_star_in_allowed_does_not_override_a_denied_parameter() -> None:
    acl = acl_with('allowed_parameters = { "*" = [] }\n denied_parameters = { "secret" = [] }')
    assert allowed(acl, {"a": 1})
    assert not allowed(acl, {"a": 1, "secret": "x"})


def test_required_parameters_must_be_present() -> None:
    acl = acl_with('required_parameters = ["reason", "ticket"]')
    assert not allowed(acl, {})
    assert not allowed(acl, {"reason": "x"})
    assert allowed(acl, {"Reason": "x", "ticket": 1})


@pytest.mark.parametrize("operation", ["create", "update", "patch"])
def test_parameter_checks_apply_to_writes(operation: str) -> None:
    acl = acl_with('denied_parameters = { "x" = [] }\n required_parameters = ["y"]')
    assert not allowed(acl, {"x": 1, "y": 1}, operation)
    assert not allowed(acl, {}, operation)
    assert allowed(acl, {"y": 1}, operation)


def test_parameter_checks_do_not_apply_to_reads() -> None:
    acl = acl_with('denied_parameters = { "x" = [] }\n required_parameters = ["y"]')
    assert allowed(acl, {"x": 1}, "read")


def test_merged_allowed_lists_are_concatenated_and_an_empty_list_wins() -> None:
    acl = acl_with(
        'allowed_parameters = {\n "a" = ["1"]\n "b" = ["1"]\n}',
        'path "x" {\n capabilities = ["update"]\n'
        ' allowed_parameters = {\n "a" = ["2"]\n "b" = []\n "c" = ["3"]\n}\n}',
    )
    assert allowed(acl, {"a": "1", "b": "anything", "c": "3"})
    assert allowed(acl, {"a": "2"})
    assert not allowed(acl, {"a": "3"})
    assert not allowed(acl, {"c": "4"})


def test_merging_with_an_unconstrained_stanza_keeps_the_constraints_like_vault() -> None:
    acl = acl_with('allowed_parameters = { "a" = ["1"] }', 'path "x" { capabilities = ["update"] }')
    assert not allowed(acl, {"a": "2"})


def test_merged_denied_lists_are_concatenated_and_an_empty_list_wins() -> None:
    acl = acl_with(
        'denied_parameters = { "a" = ["1"] }',
        'path "x" {\n capabilities = ["update"]\n denied_parameters = { "a" = ["2"], "b" = [] }\n}',
    )
    assert not allowed(acl, {"a": "1"})
    assert not allowed(acl, {"a": "2"})
    assert allowed(acl, {"a": "3"})
    assert not allowed(acl, {"b": "anything"})


def test_merged_required_parameters_are_unioned() -> None:
    acl = acl_with(
        'required_parameters = ["a"]',
        'path "x" {\n capabilities = ["update"]\n required_parameters = ["b"]\n}',
    )
    assert not allowed(acl, {"a": 1})
    assert allowed(acl, {"a": 1, "b": 2})
