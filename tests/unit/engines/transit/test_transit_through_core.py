"""The transit engine mounted in a real in-process core: the barrier, the injected clock, the HTTP edge."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from tests.support.inprocess import InProcessServer
from transit_harness import b64, contents

from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend

HOUR = 3600


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    instance = InProcessServer(physical=InmemBackend(), dev=False, clock=ManualClock(start=1_800_000_000.0))
    instance.init_and_unseal()
    assert instance.request("POST", "sys/mounts/transit", json={"type": "transit"}).status_code == 204
    yield instance
    instance.close()


def test_key_material_and_plaintexts_never_reach_physical_storage(server: InProcessServer) -> None:
    assert server.request("POST", "transit/keys/k", json={"exportable": True}).status_code == 200
    plaintext = b"physical-storage-canary-77ab"
    sealed = server.request("POST", "transit/encrypt/k", json={"plaintext": b64(plaintext)})
    assert sealed.status_code == 200
    exported = server.request("GET", "transit/export/encryption-key/k/1").json()["data"]["keys"]["1"]
    key = base64.b64decode(exported)
    stored = b"\n".join(contents(server.physical).values())
    for secret in (key, plaintext):
        assert secret not in stored
        assert base64.b64encode(secret) not in stored
        assert secret.hex().encode() not in stored


def test_auto_rotation_follows_the_cores_injected_clock(server: InProcessServer) -> None:
    clock = server.clock
    assert isinstance(clock, ManualClock)
    server.request("POST", "transit/keys/k", json={"auto_rotate_period": "1h"})
    first = server.request("POST", "transit/encrypt/k", json={"plaintext": b64(b"x")}).json()["data"]
    clock.advance(HOUR)
    second = server.request("POST", "transit/encrypt/k", json={"plaintext": b64(b"x")}).json()["data"]
    assert (first["key_version"], second["key_version"]) == (1, 2)


def test_a_failed_batch_item_answers_400_with_the_results_over_http(server: InProcessServer) -> None:
    server.request("POST", "transit/keys/k")
    answer = server.request("POST", "transit/decrypt/k", json={"batch_input": [{"ciphertext": "vault:v1:AAAA"}]})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["data"]["batch_results"] == [
        {"error": "invalid ciphertext: could not decrypt", "reference": ""}
    ]


def test_a_single_failed_decryption_is_vaults_error_shape(server: InProcessServer) -> None:
    server.request("POST", "transit/keys/k")
    answer = server.request("POST", "transit/decrypt/k", json={"ciphertext": "vault:v1:AAAA"})
    assert answer.status_code == 400
    assert answer.json() == {"errors": ["invalid ciphertext: could not decrypt"]}


def test_restore_answers_204_and_list_and_read_work_through_the_edge(server: InProcessServer) -> None:
    server.request("POST", "transit/keys/k", json={"exportable": True, "allow_plaintext_backup": True})
    backup = server.request("GET", "transit/backup/k").json()["data"]["backup"]
    restored = server.request("POST", "transit/restore/copy", json={"backup": backup})
    assert restored.status_code == 204
    assert restored.content == b""
    assert server.request("LIST", "transit/keys").json()["data"]["keys"] == ["copy", "k"]
    assert server.request("GET", "transit/keys?list=true").json()["data"]["keys"] == ["copy", "k"]
    assert server.request("GET", "transit/keys/copy").json()["data"]["restore_info"]["version"] == 1
