"""The transit seal reaches a key that lives in a namespace of the other server (``namespace`` option)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.process_harness import Api, enable_kv2
from tests.seals.transit_support import KEY_NAME, server_a, server_b
from tests.support.server import ROOT_TOKEN, ServerProcess, running

__all__ = ["server_a"]


def namespaced_seal(a: ServerProcess, namespace: str) -> str:
    return (
        f'seal "transit" {{\n  address = "{a.address}"\n  key_name = "{KEY_NAME}"\n'
        f'  mount_path = "transit/"\n  namespace = "{namespace}"\n}}\n'
    )


def test_a_key_in_a_namespace_seals_and_unseals_the_other_server(tmp_path: Path, server_a: ServerProcess) -> None:
    a = Api(server_a.address, ROOT_TOKEN)
    # Only the namespace's key exists, so a seal that dropped the namespace could not work at all.
    assert a.request("DELETE", "sys/mounts/transit").status_code == 204
    assert a.request("POST", "sys/namespaces/seals").status_code in (200, 204)
    # Addressed by path prefix here; the seal itself sends the namespace as X-Vault-Namespace.
    assert a.request("POST", "seals/sys/mounts/transit", json={"type": "transit"}).status_code == 204
    assert a.request("POST", f"seals/transit/keys/{KEY_NAME}", json={}).status_code in (200, 204)

    b = server_b(tmp_path, server_a, seal=namespaced_seal(server_a, "seals"))
    with running(b):
        api = Api(b.address)
        init = api.request("PUT", "sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
        assert init.status_code == 200, init.text
        api.token = init.json()["root_token"]
        enable_kv2(api)
        assert api.request("POST", "secret/data/app", json={"data": {"k": "v"}}).status_code == 200
    with running(b):  # a restart unseals through the namespaced key alone
        api = Api(b.address, init.json()["root_token"])
        assert api.request("GET", "sys/seal-status").json()["sealed"] is False
        assert api.request("GET", "secret/data/app").json()["data"]["data"] == {"k": "v"}


def test_the_wrong_namespace_keeps_the_server_uninitialised_and_says_why(
    tmp_path: Path, server_a: ServerProcess
) -> None:
    # The root namespace of A has the key; a namespace that does not exist must not silently fall back to it.
    b = server_b(tmp_path, server_a, seal=namespaced_seal(server_a, "nowhere"))
    with running(b):
        init = Api(b.address).request("PUT", "sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
        assert init.status_code >= 400
        assert Api(b.address).request("GET", "sys/seal-status").json()["initialized"] is False
