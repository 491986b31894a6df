"""Key material and caller data never reach repr, error messages or logs; keys live only at policy/<name>."""

from __future__ import annotations

import base64
import logging

import pytest
from transit_harness import Transit, b64, contents, unb64

from strongroom.engines.transit.cipher import CipherInput
from strongroom.errors import StrongroomError
from strongroom.sdk.logical import Operation

CANARY = b"transit-canary-4c1d"


def spellings(secret: bytes) -> list[str]:
    return [secret.hex(), base64.b64encode(secret).decode(), repr(secret)]


def test_key_records_never_show_key_material_in_repr(transit: Transit) -> None:
    transit.create("k", type="ed25519", exportable=True)
    policy = transit.backend.engine.cache.parse(contents(transit.storage)["policy/k"])
    version = policy.versions[1]
    for text in (repr(policy), repr(version), str(policy)):
        for secret in (version.material, version.hmac_key):
            assert not any(s in text for s in spellings(secret))


def test_cipher_inputs_never_show_their_data_in_repr() -> None:
    item = CipherInput(CANARY, context=CANARY, associated_data=CANARY)
    assert CANARY.decode() not in repr(item)
    assert "19 bytes" in repr(item)


def test_keys_are_stored_only_under_policy_and_nothing_else_is_written(transit: Transit) -> None:
    transit.create("a")
    transit.create("b", type="rsa-2048")
    transit.encrypt("a", CANARY)
    transit.write("sign/b", {"input": b64(CANARY)})
    entries = contents(transit.storage)
    assert sorted(entries) == ["policy/a", "policy/b"]
    stored = b"".join(entries.values())
    assert CANARY not in stored
    assert base64.b64encode(CANARY) not in stored


REQUESTS = [
    ("encrypt/k", {"plaintext": "!" + CANARY.decode()}),
    ("encrypt/k", {"plaintext": b64(CANARY), "context": CANARY.decode()}),
    ("encrypt/k", {"plaintext": b64(CANARY), "nonce": b64(CANARY)}),
    ("encrypt/k", {"plaintext": b64(CANARY), "key_version": CANARY.decode()}),
    ("encrypt/k", {"batch_input": [{"plaintext": CANARY.decode()}, {"plaintext": [CANARY.decode()]}]}),
    ("decrypt/k", {"ciphertext": "vault:v1:" + b64(CANARY * 3)}),
    ("decrypt/k", {"ciphertext": CANARY.decode()}),
    ("decrypt/k", {"batch_input": [{"ciphertext": CANARY.decode(), "reference": 5}]}),
    ("rewrap/k", {"ciphertext": CANARY.decode()}),
    ("keys/new", {"type": CANARY.decode()}),
    ("keys/new", {"auto_rotate_period": CANARY.decode()}),
    ("keys/k/config", {"min_decryption_version": CANARY.decode()}),
    ("sign/k", {"input": b64(CANARY), "hash_algorithm": CANARY.decode()}),
    ("verify/k", {"input": b64(CANARY), "signature": CANARY.decode()}),
    ("hmac/k", {"input": CANARY.decode()}),
    ("hash", {"input": b64(CANARY), "format": CANARY.decode()}),
    ("random", {"bytes": CANARY.decode()}),
    ("restore/x", {"backup": b64(CANARY)}),
    ("datakey/plaintext/k", {"bits": CANARY.decode()}),
]


@pytest.mark.parametrize(("path", "body"), REQUESTS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(REQUESTS)])
def test_errors_never_echo_caller_data_or_key_material(
    transit: Transit, caplog: pytest.LogCaptureFixture, path: str, body: dict[str, object]
) -> None:
    caplog.set_level(logging.DEBUG)
    transit.create("k", exportable=True)
    key = unb64(transit.read("export/encryption-key/k/1")["keys"]["1"])
    response = None
    try:
        response = transit.call(Operation.UPDATE, path, body)
    except StrongroomError as exc:
        texts = [exc.message, *exc.errors]
    else:
        assert response is not None
        assert response.data is not None
        texts = [str(item.get("error", "")) for item in response.data.get("batch_results", [])]
        assert any(texts), "the request was expected to fail"
    texts.append(caplog.text)
    for text in texts:
        assert not any(s in text for s in [CANARY.decode(), *spellings(CANARY), *spellings(key)])
