"""Password policy text: what parses, and a table of bad input that is refused with a clear message."""

from __future__ import annotations

import json
import os

import pytest

from strongroom.core.password_policies.generator import PasswordSampler
from strongroom.core.password_policies.model import (
    DEFAULT_POLICY,
    CharsetRule,
    PasswordPolicy,
    parse_password_policy,
)
from strongroom.errors import InvalidRequest

ALNUM = 'length = 12\nrule "charset" {\n  charset = "abc123"\n  min-chars = 2\n}\n'


def test_hcl_policy_parses_length_and_charset_rules() -> None:
    policy = parse_password_policy(ALNUM)
    assert policy == PasswordPolicy(length=12, rules=(CharsetRule("abc123", 2),))


def test_json_policy_parses_like_hcl_with_rule_as_list_or_object() -> None:
    as_list = {"length": 12, "rule": [{"charset": {"charset": "abc123", "min-chars": 2}}]}
    as_object = {"length": 12, "rule": {"charset": {"charset": "abc123", "min-chars": 2}}}
    assert parse_password_policy(json.dumps(as_list)) == parse_password_policy(ALNUM)
    assert parse_password_policy(json.dumps(as_object)) == parse_password_policy(ALNUM)


def test_charset_duplicates_are_dropped_and_min_chars_defaults_to_zero() -> None:
    policy = parse_password_policy('length = 8\nrule "charset" { charset = "aabbca" }')
    assert policy.rules == (CharsetRule("abc", 0),)
    assert policy.alphabet == "abc"


def test_default_policy_is_vaults_twenty_characters_with_one_of_each_class() -> None:
    assert DEFAULT_POLICY.length == 20
    assert [rule.min_chars for rule in DEFAULT_POLICY.rules] == [1, 1, 1, 1]
    assert set(DEFAULT_POLICY.alphabet) == set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def _rule(charset: str = "abcdef", min_chars: object = 1) -> str:
    return f'rule "charset" {{\n  charset = {json.dumps(charset)}\n  min-chars = {json.dumps(min_chars)}\n}}\n'


BAD_POLICIES = [
    ("", "empty"),
    ("   \n", "empty"),
    (_rule(), "'length' is required"),
    ("length = 10\n", "at least one charset rule"),
    ("length = 3\n" + _rule(), "between 4 and 1024"),
    ("length = 1025\n" + _rule(), "between 4 and 1024"),
    ("length = -5\n" + _rule(), "between 4 and 1024"),
    ('length = "20"\n' + _rule(), "'length' must be a whole number"),
    ("length = true\n" + _rule(), "'length' must be a whole number"),
    ("length = 10\nlength = 12\n" + _rule(), "'length' appears more than once"),
    ("length = 10\n" + _rule(""), "'charset' must not be empty"),
    (json.dumps({"length": 10, "rule": {"charset": {"charset": "ab\tc"}}}), "printable characters only"),
    ("length = 10\n" + _rule(min_chars=-1), "'min-chars' must not be negative"),
    ("length = 10\n" + _rule(min_chars="2"), "'min-chars' must be a whole number"),
    ("length = 4\n" + _rule("abc", 3) + _rule("xyz", 2), "require at least 5 characters but 'length' is 4"),
    ('length = 10\nrule "regex" { pattern = "x" }\n', "unknown rule type 'regex'"),
    ('length = 10\nrule "charset" { charset = "ab"\n charset = "cd" }\n', "'charset' appears more than once"),
    ('length = 10\nrule "charset" { charset = "ab"\n min-chars = 1\n min-chars = 2 }\n', "appears more than once"),
    ('length = 10\nrule "charset" { charset = "ab"\n max-chars = 1 }\n', "unknown key 'max-chars'"),
    ('length = 10\nrule "charset" { min-chars = 1 }\n', "needs 'charset'"),
    ('length = 10\nrule "charset" { charset = 5 }\n', "'charset' must be a string"),
    ("length = 10\nrule = 5\n", "'rule' must be a block"),
    ("length = 10\nsymbols = true\n" + _rule(), "unknown key 'symbols'"),
    ('{"length": 10, "rule": [{"charset": {"charset": "ab"}}], "length": 11}', "appears more than once"),
    ("length = 10\nrule \"charset\" {", "failed to parse"),
    ('{"length": 10,', "failed to parse"),
]


@pytest.mark.parametrize(("text", "message"), BAD_POLICIES)
def test_bad_policy_text_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_password_policy(text)
    assert message in str(caught.value)


def test_the_sampler_refuses_a_policy_no_password_can_meet() -> None:
    # The parser already refuses minimums that add up past the length (and below that
    # bound a policy is always satisfiable); the sampler's exact count is the backstop
    # for policies built in code.
    policy = PasswordPolicy(length=4, rules=(CharsetRule("ab", 5),))
    with pytest.raises(InvalidRequest, match="no password can satisfy"):
        PasswordSampler(policy)


def test_a_policy_whose_tables_would_be_huge_is_refused() -> None:
    rules = tuple(CharsetRule(chr(ord("a") + i), 60) for i in range(4))
    with pytest.raises(InvalidRequest, match="too complex"):
        PasswordSampler(PasswordPolicy(length=1000, rules=(*rules, CharsetRule("xyz", 0))))


def test_a_long_policy_with_several_minimums_is_refused_for_its_table_memory() -> None:
    with pytest.raises(InvalidRequest, match="too complex"):
        PasswordSampler(PasswordPolicy(length=1024, rules=DEFAULT_POLICY.rules))
    unconstrained = PasswordSampler(PasswordPolicy(length=1024, rules=(CharsetRule("abc", 0),)))
    assert len(unconstrained.generate(os.urandom)) == 1024
