"""External groups through a JWT login's ``groups`` claim, with hvac against a real server process.

An external group with a group alias on the JWT mount gives its policies to every entity
whose latest login carried the alias's name in the role's ``groups_claim``. Membership
follows each login: a later login without the group takes the group's policies away from
every token of that entity at once, as in Vault.
"""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running
from tests.unit.auth.jwt.jwt_auth_harness import AUDIENCE, Issuer, issuer_server

LOOPBACK_SWITCH = "STRONGROOM_JWT_AUTH_ALLOW_LOOPBACK"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    with issuer_server(found):
        yield found


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[hvac.Client]:
    server: ServerProcess = dev_server_process(tmp_path_factory.mktemp("identity-jwt"))
    server.env[LOOPBACK_SWITCH] = "true"
    with running(server):
        yield client(server.address, ROOT_TOKEN)


def test_the_groups_claim_places_the_entity_in_external_groups(root: hvac.Client, issuer: Issuer) -> None:
    mount = unique("jwt")
    root.sys.enable_auth_method("jwt", path=mount)
    root.auth.jwt.configure(jwks_url=issuer.url + "/keys", bound_issuer=issuer.url, path=mount)
    root.auth.jwt.create_role("ci", user_claim="sub", allowed_redirect_uris=[], bound_audiences=[AUDIENCE],
                              groups_claim="groups", token_no_default_policy=True, path=mount)
    accessor = root.sys.list_auth_methods()["data"][mount + "/"]["accessor"]
    policy = unique("deploy")
    root.sys.create_or_update_policy(
        policy, 'path "secret/data/{{identity.groups.names.deployers-ext.metadata.env}}/*" '
                '{ capabilities = ["read"] }')
    root.secrets.kv.v2.create_or_update_secret("prod/key", secret={"k": "prod"})
    root.secrets.kv.v2.create_or_update_secret("staging/key", secret={"k": "staging"})
    identity = root.secrets.identity
    group = identity.create_or_update_group("deployers-ext", group_type="external", policies=[policy],
                                            metadata={"env": "prod"})["data"]
    identity.create_or_update_group_alias("deployers", mount_accessor=accessor, canonical_id=group["id"])

    pipeline = client(root.url)
    auth = pipeline.auth.jwt.jwt_login("ci", issuer.token(groups=["ci", "deployers"]), path=mount)["auth"]
    assert auth["identity_policies"] == [policy]
    assert auth["policies"] == [policy]
    assert identity.read_entity(auth["entity_id"])["data"]["direct_group_ids"] == [group["id"]]
    read = pipeline.secrets.kv.v2.read_secret_version("prod/key", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"k": "prod"}
    with pytest.raises(hvac.exceptions.Forbidden):
        pipeline.secrets.kv.v2.read_secret_version("staging/key", raise_on_deleted_version=True)
    found = identity.lookup_group(alias_name="deployers", alias_mount_accessor=accessor)["data"]
    assert (found["id"], found["type"]) == (group["id"], "external")

    # The same principal logs in again without the group: every token of the entity loses it.
    later = client(root.url).auth.jwt.jwt_login("ci", issuer.token(groups=["ci"]), path=mount)["auth"]
    assert later["entity_id"] == auth["entity_id"]
    assert later["identity_policies"] is None
    with pytest.raises(hvac.exceptions.Forbidden):
        pipeline.secrets.kv.v2.read_secret_version("prod/key", raise_on_deleted_version=True)


def test_a_group_name_on_another_mount_does_not_match(root: hvac.Client, issuer: Issuer) -> None:
    mounts = [unique("jwt"), unique("jwt")]
    for mount in mounts:
        root.sys.enable_auth_method("jwt", path=mount)
        root.auth.jwt.configure(jwks_url=issuer.url + "/keys", bound_issuer=issuer.url, path=mount)
        root.auth.jwt.create_role("ci", user_claim="sub", allowed_redirect_uris=[], bound_audiences=[AUDIENCE],
                                  groups_claim="groups", path=mount)
    first_accessor = root.sys.list_auth_methods()["data"][mounts[0] + "/"]["accessor"]
    group = root.secrets.identity.create_or_update_group(unique("ext"), group_type="external",
                                                         policies=["only-first"])["data"]
    root.secrets.identity.create_or_update_group_alias("admins", mount_accessor=first_accessor,
                                                       canonical_id=group["id"])
    other = client(root.url).auth.jwt.jwt_login("ci", issuer.token(groups=["admins"]), path=mounts[1])["auth"]
    assert other["identity_policies"] is None
    assert "only-first" not in other["policies"]
