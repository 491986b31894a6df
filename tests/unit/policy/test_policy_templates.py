"""Templated policy paths: parsing, filling from an identity, and values that must never widen a path."""

from __future__ import annotations

import asyncio

import pytest

from strongroom.core.acl_cache import AclCache
from strongroom.core.policy.acl import ACL
from strongroom.core.policy.parser import parse_policy
from strongroom.core.policy.store import PolicyStore
from strongroom.core.policy.templates import AliasFacts, GroupFacts, TemplateIdentity, resolve_template, safe_value
from strongroom.errors import InvalidRequest
from strongroom.storage.inmem import InmemBackend

ACC = "auth_kubernetes_1a2b"
NS = f"{{{{identity.entity.aliases.{ACC}.metadata.service_account_namespace}}}}"


def identity(namespace: str = "team-a", **extra: str) -> TemplateIdentity:
    return TemplateIdentity(
        entity_id="e-1",
        entity_name="alice",
        metadata=tuple(sorted({"team": "blue", **extra}.items())),
        aliases=(AliasFacts(ACC, "al-1", "uid-7", (("service_account_namespace", namespace),), (("c", "d"),)),),
        groups=(GroupFacts("g-1", "ops", (("tier", "gold"),)),),
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("secret/data/{{identity.entity.id}}/*", "secret/data/e-1/*"),
        ("secret/data/{{ identity.entity.name }}", "secret/data/alice"),
        ("secret/data/{{identity.entity.metadata.team}}/+/x", "secret/data/blue/+/x"),
        (f"secret/data/{NS}/*", "secret/data/team-a/*"),
        (f"secret/data/{{{{identity.entity.aliases.{ACC}.name}}}}", "secret/data/uid-7"),
        (f"secret/data/{{{{identity.entity.aliases.{ACC}.id}}}}", "secret/data/al-1"),
        (f"secret/data/{{{{identity.entity.aliases.{ACC}.custom_metadata.c}}}}", "secret/data/d"),
        ("secret/data/{{identity.groups.ids.g-1.name}}/*", "secret/data/ops/*"),
        ("secret/data/{{identity.groups.names.ops.id}}/*", "secret/data/g-1/*"),
        ("secret/data/{{identity.groups.names.ops.metadata.tier}}", "secret/data/gold"),
        ("secret/data/team-{{identity.entity.name}}-{{identity.entity.id}}*", "secret/data/team-alice-e-1*"),
        ("secret//data/{{identity.entity.name}}/", "secret/data/alice/"),
    ],
)
def test_templates_are_filled_from_the_identity(template: str, expected: str) -> None:
    parse_policy("p", f'path "{template}" {{ capabilities = ["read"] }}')  # valid as written
    assert resolve_template(template, identity()) == expected


@pytest.mark.parametrize(
    "template",
    [
        "secret/data/{{identity.entity.metadata.missing}}",
        "secret/data/{{identity.groups.ids.g-2.name}}",  # not a member of g-2
        "secret/data/{{identity.groups.names.dev.id}}",
        "secret/data/{{identity.entity.aliases.auth_other_1.name}}",
    ],
)
def test_a_template_without_a_value_is_dropped(template: str) -> None:
    assert resolve_template(template, identity()) is None
    assert resolve_template(template, None) is None


@pytest.mark.parametrize(
    "value",
    ["", ".", "..", "a/b", "/", "*", "a*", "+", "a+b", "x..y", "{{identity.entity.id}}", "}", "a\x00b",
     "a\u200bb", "\u202e", "x" * 513, "a\nb"],
)
def test_a_value_that_could_change_the_shape_of_a_path_is_refused(value: str) -> None:
    assert not safe_value(value)
    hostile = identity(namespace=value)
    assert resolve_template(f"secret/data/{NS}/*", hostile) is None
    acl = ACL.from_policies([parse_policy("p", f'path "secret/data/{NS}/*" {{ capabilities = ["read"] }}')],
                            hostile)
    for path in ("secret/data/team-a/x", "secret/data/x", "secret/data/a/b/c", "secret/data/", "sys/mounts"):
        assert not acl.authorize("read", path, {}).allowed


@pytest.mark.parametrize("value", ["team-a", "a.b", ".hidden", "with space", "ünïcode", "a%2Fb", "a\\b"])
def test_ordinary_values_are_used_as_literal_text(value: str) -> None:
    assert safe_value(value)
    acl = ACL.from_policies([parse_policy("p", f'path "secret/data/{NS}/*" {{ capabilities = ["read"] }}')],
                            identity(namespace=value))
    assert acl.authorize("read", f"secret/data/{value}/x", {}).allowed
    assert not acl.authorize("read", "secret/data/other/x", {}).allowed


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("secret/{{identity.entity.nope}}", "unsupported template expression"),
        ("secret/{{identity.entity.metadata.}}", "unsupported template expression"),
        ("secret/{{identity.groups.ids.g-1}}", "unsupported template expression"),
        ("secret/{{identity.entity.aliases.acc.metadata}}", "unsupported template expression"),
        ("secret/{{identity.entity.id}", "unbalanced"),
        ("secret/{{identity.entity.id}}}}", "unbalanced"),
        ("secret/{{identity.entity.id}}*/x", "'*' is only allowed"),
        ("secret/{{identity.entity.id}}/../x", "'..'"),
        ("{{token.policies}}", "unsupported template expression"),
    ],
)
def test_bad_templates_are_refused_when_the_policy_is_written(template: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_policy("p", f'path "{template}" {{ capabilities = ["read"] }}')


def test_an_unfillable_rule_is_dropped_and_other_rules_stay() -> None:
    policy = parse_policy("p", f'path "secret/data/{NS}/*" {{ capabilities = ["read"] }}\n'
                               'path "secret/data/shared/*" { capabilities = ["read"] }')
    acl = ACL.from_policies([policy], None)
    assert acl.authorize("read", "secret/data/shared/x", {}).allowed
    assert not acl.authorize("read", "secret/data/team-a/x", {}).allowed


def test_the_acl_cache_keys_templated_policies_on_the_identity() -> None:
    async def main() -> None:
        store = PolicyStore(InmemBackend())
        await store.put("tenant", f'path "secret/data/{NS}/*" {{ capabilities = ["read"] }}')
        await store.put("plain", 'path "secret/data/shared/*" { capabilities = ["read"] }')
        cache = AclCache(store)
        a = await cache.for_policies(["tenant"], identity("team-a"))
        b = await cache.for_policies(["tenant"], identity("team-b"))
        assert a.authorize("read", "secret/data/team-a/x", {}).allowed
        assert not a.authorize("read", "secret/data/team-b/x", {}).allowed
        assert b.authorize("read", "secret/data/team-b/x", {}).allowed
        assert not b.authorize("read", "secret/data/team-a/x", {}).allowed
        assert (await cache.for_policies(["tenant"], identity("team-a"))) is a
        nobody = await cache.for_policies(["tenant"], None)
        assert not nobody.authorize("read", "secret/data/team-a/x", {}).allowed
        # Without templates, one ACL serves every identity.
        assert (await cache.for_policies(["plain"], identity("team-a"))) is (
            await cache.for_policies(["plain"], identity("team-b")))

    asyncio.run(main())
