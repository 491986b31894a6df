"""SECURITY.md "crypto API misuse" / "storage is untrusted", through the HTTP API: an entry whose
ciphertext was changed, truncated or moved to another path answers one opaque 500, the same
for every kind of damage (no oracle), and the server keeps serving every other path."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.api.api_support import create_token, storage_snapshot
from tests.support.inprocess import InProcessServer

OPAQUE = {"errors": ["failed to decrypt an entry"]}

Tamper = Callable[[bytes], bytes]
TAMPERS: dict[str, Tamper] = {
    "flip a header bit": lambda b: bytes([b[0] ^ 0x01]) + b[1:],
    "flip a nonce bit": lambda b: b[:8] + bytes([b[8] ^ 0x20]) + b[9:],
    "flip a ciphertext bit": lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 0x04]) + b[len(b) // 2 + 1 :],
    "flip a tag bit": lambda b: b[:-1] + bytes([b[-1] ^ 0x80]),
    "truncate to half": lambda b: b[: len(b) // 2],
    "truncate the tag": lambda b: b[:-16],
    "truncate to one byte": lambda b: b[:1],
    "empty": lambda b: b"",
    "append a byte": lambda b: b + b"\x00",
    "zero everything": lambda b: bytes(len(b)),
}


def keys_written_by(server: InProcessServer, method: str, path: str, body: object) -> list[str]:
    before = storage_snapshot(server)
    reply = server.request(method, path, json=body)
    assert reply.status_code in (200, 204), reply.text
    after = storage_snapshot(server)
    # The event the write published lands in the event log (docs/events.md): not the secret's entry.
    return sorted(k for k, v in after.items() if before.get(k) != v and not k.startswith("sys/events/"))


def put_raw(server: InProcessServer, key: str, value: bytes) -> None:
    server.run(server.physical.put(key, value))


def get_raw(server: InProcessServer, key: str) -> bytes:
    value = server.run(server.physical.get(key))
    assert value is not None
    return value


@pytest.fixture
def kv(server: InProcessServer) -> InProcessServer:
    assert server.request("POST", "sys/mounts/kv1", json={"type": "kv"}).status_code == 204
    for name in ("victim", "bystander"):
        assert server.request("POST", f"secret/data/{name}", json={"data": {"k": name}}).status_code == 200
        assert server.request("POST", f"kv1/{name}", json={"k": name}).status_code == 204
    return server


def assert_still_serving(server: InProcessServer) -> None:
    assert server.request("GET", "sys/health", token="").status_code == 200
    assert server.request("GET", "secret/data/bystander").json()["data"]["data"] == {"k": "bystander"}
    assert server.request("GET", "kv1/bystander").json()["data"] == {"k": "bystander"}
    assert server.request("POST", "secret/data/fresh", json={"data": {"k": "new"}}).status_code == 200


@pytest.mark.parametrize(("read_path", "write"), [
    ("secret/data/victim", ("POST", "secret/data/victim", {"data": {"k": "victim-2"}})),
    ("kv1/victim", ("POST", "kv1/victim", {"k": "victim-2"})),
])
def test_every_kind_of_damage_answers_the_same_opaque_500_and_nothing_else_breaks(
    kv: InProcessServer, read_path: str, write: tuple[str, str, object]
) -> None:
    touched = keys_written_by(kv, *write)
    assert touched, "the write should have stored something"
    for key in touched:
        original = get_raw(kv, key)
        for kind, tamper in TAMPERS.items():
            put_raw(kv, key, tamper(original))
            reply = kv.request("GET", read_path)
            assert reply.status_code == 500, (key, kind, reply.text)
            assert reply.json() == OPAQUE, (key, kind)
            assert_still_serving(kv)
        put_raw(kv, key, original)
        assert kv.request("GET", read_path).status_code == 200


def test_an_entry_moved_to_another_path_does_not_decrypt_there(kv: InProcessServer) -> None:
    victim_keys = keys_written_by(kv, "POST", "secret/data/victim", {"data": {"k": "victim-2"}})
    other_keys = keys_written_by(kv, "POST", "secret/data/target", {"data": {"k": "target"}})
    assert len(victim_keys) == len(other_keys) == 2  # metadata and one version
    for victim_key, target_key in zip(victim_keys, other_keys, strict=True):
        original = get_raw(kv, target_key)
        put_raw(kv, target_key, get_raw(kv, victim_key))
        reply = kv.request("GET", "secret/data/target")
        assert reply.status_code == 500
        assert reply.json() == OPAQUE
        assert b"victim" not in reply.content
        put_raw(kv, target_key, original)
    assert_still_serving(kv)


def test_a_kv_v1_entry_moved_to_another_path_does_not_decrypt_there(kv: InProcessServer) -> None:
    (victim_key,) = keys_written_by(kv, "POST", "kv1/victim", {"k": "victim-2"})
    (target_key,) = keys_written_by(kv, "POST", "kv1/target", {"k": "target"})
    put_raw(kv, target_key, get_raw(kv, victim_key))
    reply = kv.request("GET", "kv1/target")
    assert reply.status_code == 500
    assert reply.json() == OPAQUE
    assert_still_serving(kv)


def test_an_entry_copied_between_mounts_does_not_decrypt_there(kv: InProcessServer) -> None:
    (v1_key,) = keys_written_by(kv, "POST", "kv1/victim", {"k": "victim-2"})
    assert kv.request("POST", "sys/mounts/kv1b", json={"type": "kv"}).status_code == 204
    (other_key,) = keys_written_by(kv, "POST", "kv1b/victim", {"k": "other"})
    put_raw(kv, other_key, get_raw(kv, v1_key))
    reply = kv.request("GET", "kv1b/victim")
    assert reply.status_code == 500
    assert reply.json() == OPAQUE


def test_a_damaged_token_entry_denies_or_fails_opaquely_and_other_tokens_work(kv: InProcessServer) -> None:
    before = storage_snapshot(kv)
    victim = create_token(kv, policies=["default"])
    # The token's own record (its accessor and parent index are not read to authenticate).
    (key,) = [k for k, v in storage_snapshot(kv).items() if before.get(k) != v and k.startswith("sys/token/id/")]
    bystander = create_token(kv, policies=["default"])
    original = get_raw(kv, key)
    for kind, tamper in TAMPERS.items():
        put_raw(kv, key, tamper(original))
        reply = kv.request("GET", "auth/token/lookup-self", token=victim)
        assert reply.status_code in (403, 500), (kind, reply.text)
        if reply.status_code == 500:
            assert reply.json() == OPAQUE
        assert kv.request("GET", "auth/token/lookup-self", token=bystander).status_code == 200
    put_raw(kv, key, original)
    assert kv.request("GET", "auth/token/lookup-self", token=victim).status_code == 200
    assert_still_serving(kv)


def test_damage_is_not_repaired_by_a_later_read(kv: InProcessServer) -> None:
    (key,) = keys_written_by(kv, "POST", "kv1/victim", {"k": "victim-2"})
    damaged = TAMPERS["flip a tag bit"](get_raw(kv, key))
    put_raw(kv, key, damaged)
    for _ in range(3):
        assert kv.request("GET", "kv1/victim").status_code == 500
    assert get_raw(kv, key) == damaged
