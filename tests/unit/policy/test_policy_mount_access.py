"""ACL.has_access_under decides who may learn a mount's type (sys/internal/ui/mounts)."""

from __future__ import annotations

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.parser import parse_policy


def acl_of(text: str) -> ACL:
    return ACL.from_policies([parse_policy("p", text)])


def test_rule_below_the_mount_gives_access() -> None:
    assert acl_of('path "secret/data/app/*" { capabilities = ["read"] }').has_access_under("secret/")


def test_glob_above_the_mount_gives_access() -> None:
    assert acl_of('path "sec*" { capabilities = ["list"] }').has_access_under("secret/")


def test_rules_elsewhere_give_no_access() -> None:
    assert not acl_of('path "other/*" { capabilities = ["read"] }').has_access_under("secret/")


def test_deny_rules_give_no_access() -> None:
    assert not acl_of('path "secret/*" { capabilities = ["deny"] }').has_access_under("secret/")


def test_a_mount_whose_name_extends_another_is_not_confused_with_it() -> None:
    assert not acl_of('path "secret2/*" { capabilities = ["read"] }').has_access_under("secret/")
