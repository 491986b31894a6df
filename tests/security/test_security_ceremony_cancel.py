"""SECURITY.md "denial of service by request shape": an unauthenticated rekey (or generate-root) cancel.

The key ceremonies are unauthenticated, as in Vault. A caller that does not
name the running attempt's nonce cannot cancel it, restart its verification,
or add shares to it; operators' progress survives such calls untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.inprocess import InProcessServer


@pytest.fixture
def node() -> Iterator[InProcessServer]:
    server = InProcessServer(dev=False)
    try:
        server.init_and_unseal(shares=3, threshold=2)
        yield server
    finally:
        server.close()


@pytest.mark.parametrize(("start", "path", "progress"), [
    ({"secret_shares": 3, "secret_threshold": 2}, "sys/rekey/init", "sys/rekey/update"),
    ({}, "sys/generate-root/attempt", "sys/generate-root/update"),
])
def test_an_anonymous_cancel_without_the_nonce_leaves_the_attempt_and_its_progress(
    node: InProcessServer, start: dict[str, int], path: str, progress: str
) -> None:
    nonce = node.request("PUT", path, token="", json=start).json()["nonce"]
    share = node.unseal_keys[0].hex()
    assert node.request("PUT", progress, token="", json={"key": share, "nonce": nonce}).status_code == 200
    blind = [
        node.request("DELETE", path, token=""),
        node.request("DELETE", path, token="", json={"nonce": "00000000-0000-4000-8000-000000000000"}),
        # One character off (never the nonce itself, whatever its last character is).
        node.request("DELETE", path + "?nonce=" + nonce[:-1] + ("1" if nonce.endswith("0") else "0"), token=""),
        node.request("DELETE", path, token="", json={"nonce": ["list", "not", "string"]}),
    ]
    assert [reply.status_code for reply in blind] == [400, 400, 400, 400]
    status = node.request("GET", path, token="").json()
    assert (status["started"], status["nonce"], status["progress"]) == (True, nonce, 1)
    # Naming the attempt (here in the query string) ends it: 204, no body.
    named = node.request("DELETE", f"{path}?nonce={nonce}", token="")
    assert (named.status_code, named.content) == (204, b"")
    assert node.request("GET", path, token="").json()["started"] is False


def test_an_anonymous_verification_restart_needs_the_verification_nonce(node: InProcessServer) -> None:
    start = {"secret_shares": 2, "secret_threshold": 2, "require_verification": True}
    nonce = node.request("PUT", "sys/rekey/init", token="", json=start).json()["nonce"]
    answer: dict[str, object] = {}
    for key in node.unseal_keys[:2]:
        answer = node.request("PUT", "sys/rekey/update", token="", json={"key": key.hex(), "nonce": nonce}).json()
    verify_nonce = answer["verification_nonce"]
    new_key = answer["keys"]
    assert isinstance(new_key, list)
    node.request("PUT", "sys/rekey/verify", token="", json={"key": new_key[0], "nonce": verify_nonce})
    assert node.request("DELETE", "sys/rekey/verify", token="").status_code == 400
    assert node.request("DELETE", "sys/rekey/verify", token="", json={"nonce": nonce}).status_code == 400
    assert node.request("GET", "sys/rekey/verify", token="").json()["progress"] == 1
