"""encrypt, decrypt, rewrap and datakey: single requests, batches, derivation, convergence, nonces."""

from __future__ import annotations

import pytest
from transit_harness import Transit, b64, unb64

from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Operation

AEAD_TYPES = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"]


@pytest.mark.parametrize("key_type", [*AEAD_TYPES, "rsa-2048"])
def test_encrypt_then_decrypt_returns_the_plaintext(transit: Transit, key_type: str) -> None:
    transit.create("k", type=key_type)
    longest = bytes(range(190)) if key_type.startswith("rsa") else bytes(range(256)) * 4  # OAEP-SHA256 limit: 190
    for plaintext in (b"", b"x", longest):
        ciphertext = transit.encrypt("k", plaintext)
        assert ciphertext.startswith("vault:v1:")
        assert transit.decrypt("k", ciphertext) == plaintext


def test_encrypt_answers_the_ciphertext_and_the_key_version(transit: Transit) -> None:
    transit.create("k")
    answer = transit.write("encrypt/k", {"plaintext": b64(b"x")})
    assert set(answer) == {"ciphertext", "key_version"}
    assert answer["key_version"] == 1


def test_each_encryption_has_a_fresh_nonce(transit: Transit) -> None:
    transit.create("k")
    ciphertexts = {transit.encrypt("k", b"same") for _ in range(50)}
    nonces = {unb64(c.split(":")[2])[:12] for c in ciphertexts}
    assert len(ciphertexts) == len(nonces) == 50


def test_nonces_come_from_the_injected_randomness(make_transit: type[Transit]) -> None:
    transit = make_transit()
    drawn: list[bytes] = []

    def recording(n: int) -> bytes:
        value = bytes([len(drawn) % 256]) * n
        drawn.append(value)
        return value

    transit.ctx.system.random_bytes = recording
    transit.create("k")
    ciphertext = transit.encrypt("k", b"x")
    assert unb64(ciphertext.split(":")[2])[:12] == drawn[-1]


def test_rsa_plaintext_longer_than_oaep_allows_is_400(transit: Transit) -> None:
    transit.create("k", type="rsa-2048")
    with pytest.raises(InvalidRequest, match="too long for the RSA key"):
        transit.encrypt("k", b"x" * 200)


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa-p256", "hmac"])
def test_encrypt_with_a_key_that_cannot_encrypt_is_400(transit: Transit, key_type: str) -> None:
    transit.create("k", type=key_type)
    with pytest.raises(InvalidRequest, match="does not support encryption"):
        transit.encrypt("k", b"x")
    with pytest.raises(InvalidRequest, match="does not support decryption"):
        transit.decrypt("k", "vault:v1:AAAA")


def test_plaintext_that_is_not_base64_is_400_naming_the_field(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="failed to base64-decode plaintext"):
        transit.write("encrypt/k", {"plaintext": "not base64!"})


def test_encrypt_without_plaintext_is_400(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="missing plaintext to encrypt"):
        transit.write("encrypt/k", {})


def test_decrypt_without_ciphertext_is_400(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="missing ciphertext to decrypt"):
        transit.write("decrypt/k", {})


def test_encrypt_with_a_missing_key_and_only_update_is_400(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="encryption key not found"):
        transit.encrypt("nothing", b"x")


def test_decrypt_with_a_missing_key_is_400(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="encryption key not found"):
        transit.decrypt("nothing", "vault:v1:AAAA")


def test_existence_check_tells_the_core_whether_encrypt_creates(transit: Transit) -> None:
    import asyncio

    from strongroom.sdk.logical import Request

    def exists(name: str) -> bool | None:
        request = Request(Operation.UPDATE, f"encrypt/{name}", {}, storage=transit.storage)
        return asyncio.run(transit.backend.existence(request))

    assert exists("k") is False
    transit.create("k")
    assert exists("k") is True


def test_encrypt_with_create_upserts_an_aead_key(transit: Transit) -> None:
    answer = transit.ok(Operation.CREATE, "encrypt/new", {"plaintext": b64(b"x"), "type": "chacha20-poly1305"})
    key = transit.read("keys/new")
    assert key["type"] == "chacha20-poly1305"
    assert key["derived"] is False
    assert transit.decrypt("new", answer["ciphertext"]) == b"x"


def test_encrypt_upsert_with_a_context_creates_a_derived_key(transit: Transit) -> None:
    body = {"plaintext": b64(b"x"), "context": b64(b"ctx"), "convergent_encryption": True}
    transit.ok(Operation.CREATE, "encrypt/new", body)
    key = transit.read("keys/new")
    assert (key["derived"], key["convergent_encryption"]) == (True, True)


def test_encrypt_upsert_refuses_signing_key_types(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="not supported for this operation"):
        transit.call(Operation.CREATE, "encrypt/new", {"plaintext": b64(b"x"), "type": "ed25519"})


def test_encrypt_upsert_refuses_mixed_contexts_in_a_batch(transit: Transit) -> None:
    batch = [{"plaintext": b64(b"a"), "context": b64(b"c")}, {"plaintext": b64(b"b")}]
    with pytest.raises(InvalidRequest, match="either in all the request blocks or in none"):
        transit.call(Operation.CREATE, "encrypt/new", {"batch_input": batch})


def test_derived_key_needs_a_context_and_the_same_context_to_decrypt(transit: Transit) -> None:
    transit.create("k", derived=True)
    with pytest.raises(InvalidRequest, match="missing 'context' for key derivation"):
        transit.encrypt("k", b"x")
    ciphertext = transit.encrypt("k", b"x", context=b64(b"tenant-1"))
    assert transit.decrypt("k", ciphertext, context=b64(b"tenant-1")) == b"x"
    with pytest.raises(InvalidRequest, match="invalid ciphertext: could not decrypt"):
        transit.decrypt("k", ciphertext, context=b64(b"tenant-2"))
    with pytest.raises(InvalidRequest, match="missing 'context'"):
        transit.decrypt("k", ciphertext)


def test_convergent_key_encrypts_equal_inputs_to_equal_ciphertexts(transit: Transit) -> None:
    transit.create("k", derived=True, convergent_encryption=True)
    ctx = b64(b"tenant-1")
    first = transit.encrypt("k", b"same", context=ctx)
    assert transit.encrypt("k", b"same", context=ctx) == first
    assert transit.encrypt("k", b"other", context=ctx) != first
    assert transit.encrypt("k", b"same", context=b64(b"tenant-2")) != first
    assert transit.encrypt("k", b"same", context=ctx, associated_data=b64(b"ad")) != first
    assert transit.decrypt("k", first, context=ctx) == b"same"


def test_convergent_nonce_changes_after_rotation(transit: Transit) -> None:
    transit.create("k", derived=True, convergent_encryption=True)
    ctx = b64(b"tenant-1")
    first = transit.encrypt("k", b"same", context=ctx)
    transit.write("keys/k/rotate")
    second = transit.encrypt("k", b"same", context=ctx)
    assert first.split(":")[2] != second.split(":")[2]


def test_a_nonce_on_a_non_convergent_key_is_400_and_nothing_is_encrypted(transit: Transit) -> None:
    transit.create("k")
    transit.create("d", derived=True)
    with pytest.raises(InvalidRequest, match="a nonce may not be supplied"):
        transit.encrypt("k", b"x", nonce=b64(b"\x00" * 12))
    with pytest.raises(InvalidRequest, match="a nonce may not be supplied"):
        transit.encrypt("d", b"x", context=b64(b"c"), nonce=b64(b"\x00" * 12))
    batch = [{"plaintext": b64(b"a")}, {"plaintext": b64(b"b"), "nonce": b64(b"\x01" * 3)}]
    with pytest.raises(InvalidRequest, match="a nonce may not be supplied"):
        transit.call(Operation.UPDATE, "encrypt/k", {"batch_input": batch})
    ciphertext = transit.encrypt("k", b"x")
    with pytest.raises(InvalidRequest, match="a nonce may not be supplied"):
        transit.decrypt("k", ciphertext, nonce="AAAA")
    with pytest.raises(InvalidRequest, match="a nonce may not be supplied"):
        transit.write("datakey/plaintext/k", {"nonce": "AAAA"})


@pytest.mark.parametrize("nonce", [b64(b"\x00" * 12), b64(b"\x00" * 3), "not base64", b64(b"\x00" * 64)])
def test_a_nonce_on_a_convergent_key_is_ignored_with_a_warning(transit: Transit, nonce: str) -> None:
    transit.create("k", derived=True, convergent_encryption=True)
    ctx = b64(b"c")
    expected = transit.encrypt("k", b"x", context=ctx)
    response = transit.call(Operation.UPDATE, "encrypt/k", {"plaintext": b64(b"x"), "context": ctx, "nonce": nonce})
    assert response is not None
    assert response.data is not None
    assert response.data["ciphertext"] == expected
    assert response.warnings
    assert "nonce was ignored" in response.warnings[0]


def test_associated_data_must_match_to_decrypt(transit: Transit) -> None:
    transit.create("k")
    ciphertext = transit.encrypt("k", b"x", associated_data=b64(b"row-17"))
    assert transit.decrypt("k", ciphertext, associated_data=b64(b"row-17")) == b"x"
    for wrong in ({"associated_data": b64(b"row-18")}, {}):
        with pytest.raises(InvalidRequest, match="invalid ciphertext: could not decrypt"):
            transit.decrypt("k", ciphertext, **wrong)


def test_associated_data_with_an_rsa_key_is_400(transit: Transit) -> None:
    transit.create("k", type="rsa-2048")
    with pytest.raises(InvalidRequest, match="associated_data is not supported"):
        transit.encrypt("k", b"x", associated_data=b64(b"ad"))


def test_key_version_picks_an_older_version_within_bounds(transit: Transit) -> None:
    transit.create("k")
    transit.write("keys/k/rotate")
    assert transit.encrypt("k", b"x", key_version=1).startswith("vault:v1:")
    with pytest.raises(InvalidRequest, match="higher than the latest key version"):
        transit.encrypt("k", b"x", key_version=3)


def test_batch_encrypt_answers_each_item_in_order_with_references(transit: Transit) -> None:
    transit.create("k")
    items = [{"plaintext": b64(b"item-%d" % i), "reference": f"ref-{i}"} for i in range(100)]
    results = transit.write("encrypt/k", {"batch_input": items})["batch_results"]
    assert [r["reference"] for r in results] == [f"ref-{i}" for i in range(100)]
    assert all(r["key_version"] == 1 for r in results)
    decrypted = transit.write(
        "decrypt/k", {"batch_input": [{"ciphertext": r["ciphertext"], "reference": r["reference"]} for r in results]}
    )["batch_results"]
    assert [unb64(r["plaintext"]) for r in decrypted] == [b"item-%d" % i for i in range(100)]


def test_batch_with_a_failed_item_answers_400_with_every_result(transit: Transit) -> None:
    transit.create("k")
    good = transit.encrypt("k", b"good")
    body = {"batch_input": [{"ciphertext": good}, {"ciphertext": good[:-4] + "AAAA", "reference": "bad"}]}
    response = transit.call(Operation.UPDATE, "decrypt/k", body)
    assert response is not None
    assert response.data is not None
    assert response.status == 400
    assert response.data["batch_results"] == [
        {"plaintext": b64(b"good"), "reference": ""},
        {"error": "invalid ciphertext: could not decrypt", "reference": "bad"},
    ]


def test_partial_failure_response_code_applies_only_when_something_succeeded(transit: Transit) -> None:
    transit.create("k")
    good = transit.encrypt("k", b"good")
    mixed = {"batch_input": [{"ciphertext": good}, {"ciphertext": "junk"}], "partial_failure_response_code": 207}
    response = transit.call(Operation.UPDATE, "decrypt/k", mixed)
    assert response is not None
    assert response.status == 207
    all_bad = {"batch_input": [{"ciphertext": "junk"}], "partial_failure_response_code": 207}
    response = transit.call(Operation.UPDATE, "decrypt/k", all_bad)
    assert response is not None
    assert response.status == 400


def test_partial_failure_response_code_out_of_range_warns_and_answers_400(transit: Transit) -> None:
    transit.create("k")
    good = transit.encrypt("k", b"good")
    body = {"batch_input": [{"ciphertext": good}, {"ciphertext": "junk"}], "partial_failure_response_code": 700}
    response = transit.call(Operation.UPDATE, "decrypt/k", body)
    assert response is not None
    assert response.status == 400
    assert response.warnings
    assert "between 1 and 599" in response.warnings[0]


@pytest.mark.parametrize(
    "batch_input", [[], "items", [1, 2], {"plaintext": "eA=="}], ids=["empty", "string", "numbers", "object"]
)
def test_malformed_batch_input_is_400(transit: Transit, batch_input: object) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="batch input"):
        transit.call(Operation.UPDATE, "encrypt/k", {"batch_input": batch_input})


def test_batch_item_fields_of_the_wrong_type_fail_only_that_item(transit: Transit) -> None:
    transit.create("k")
    items = [{"plaintext": b64(b"a")}, {"plaintext": 5}, {"plaintext": b64(b"c"), "key_version": "two"}, {}]
    response = transit.call(Operation.UPDATE, "encrypt/k", {"batch_input": items})
    assert response is not None
    assert response.data is not None
    errors = [r.get("error") for r in response.data["batch_results"]]
    assert errors[0] is None
    assert errors[1] == "invalid value for 'plaintext': expected a string"
    assert errors[2] == "invalid value for 'key_version': expected an integer"
    assert errors[3] == "missing plaintext to encrypt"


def test_rewrap_moves_ciphertexts_to_the_latest_version_without_revealing_them(transit: Transit) -> None:
    transit.create("k")
    old = transit.encrypt("k", b"secret")
    transit.write("keys/k/rotate")
    answer = transit.write("rewrap/k", {"ciphertext": old})
    assert set(answer) == {"ciphertext", "key_version"}
    assert answer["ciphertext"].startswith("vault:v2:")
    assert transit.decrypt("k", answer["ciphertext"]) == b"secret"


def test_rewrap_of_a_bad_ciphertext_is_the_opaque_error(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="invalid ciphertext: could not decrypt"):
        transit.write("rewrap/k", {"ciphertext": "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})


def test_rewrap_batch_and_derived_context(transit: Transit) -> None:
    transit.create("k", derived=True)
    items = [{"context": b64(b"c%d" % i), "plaintext": b64(b"p%d" % i)} for i in range(3)]
    sealed = transit.write("encrypt/k", {"batch_input": items})["batch_results"]
    transit.write("keys/k/rotate")
    rewrap = [{"context": items[i]["context"], "ciphertext": sealed[i]["ciphertext"]} for i in range(3)]
    rewrapped = transit.write("rewrap/k", {"batch_input": rewrap})["batch_results"]
    assert all(r["ciphertext"].startswith("vault:v2:") for r in rewrapped)
    for i, result in enumerate(rewrapped):
        assert transit.decrypt("k", result["ciphertext"], context=items[i]["context"]) == b"p%d" % i


@pytest.mark.parametrize("bits", [128, 256, 512])
def test_datakey_plaintext_returns_a_key_and_its_ciphertext(transit: Transit, bits: int) -> None:
    transit.create("k")
    answer = transit.write("datakey/plaintext/k", {"bits": bits})
    assert set(answer) == {"ciphertext", "key_version", "plaintext"}
    key = unb64(answer["plaintext"])
    assert len(key) == bits // 8
    assert unb64(transit.write("decrypt/k", {"ciphertext": answer["ciphertext"]})["plaintext"]) == key


def test_datakey_wrapped_never_returns_the_plaintext(transit: Transit) -> None:
    transit.create("k")
    answer = transit.write("datakey/wrapped/k")
    assert set(answer) == {"ciphertext", "key_version"}
    assert len(transit.decrypt("k", answer["ciphertext"])) == 32


@pytest.mark.parametrize(("path", "body", "message"), [
    ("datakey/sideways/k", {}, "must be 'plaintext' or 'wrapped'"),
    ("datakey/plaintext/k", {"bits": 64}, "invalid bits"),
    ("datakey/plaintext/nothing", {}, "encryption key not found"),
])
def test_datakey_refusals(transit: Transit, path: str, body: dict[str, object], message: str) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match=message):
        transit.write(path, body)


def test_datakey_for_a_derived_key_needs_its_context(transit: Transit) -> None:
    transit.create("k", derived=True)
    with pytest.raises(InvalidRequest, match="missing 'context'"):
        transit.write("datakey/wrapped/k")
    answer = transit.write("datakey/wrapped/k", {"context": b64(b"c")})
    assert len(transit.decrypt("k", answer["ciphertext"], context=b64(b"c"))) == 32
