"""Every ciphertext that cannot be decrypted gives one opaque 400, whatever is wrong with it (no oracle).

Tampering (bit flips, truncation, extension, another key's or version's
ciphertext, wrong context or associated data) and malformed envelopes all end
in ``invalid ciphertext: could not decrypt``. The envelope parser and decrypt
are fuzzed with hypothesis: arbitrary input never raises anything else.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transit_harness import Transit, b64, unb64

from strongroom.engines.transit import envelope
from strongroom.engines.transit.errors import DECRYPT_FAILED, InvalidCiphertext
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Operation

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def body_of(ciphertext: str) -> bytes:
    return unb64(ciphertext.split(":", 2)[2])


def with_body(ciphertext: str, body: bytes) -> str:
    return ciphertext.rsplit(":", 1)[0] + ":" + b64(body)


def assert_opaque(transit: Transit, name: str, ciphertext: str, **fields: str) -> None:
    with pytest.raises(InvalidCiphertext) as caught:
        transit.decrypt(name, ciphertext, **fields)
    assert caught.value.message == DECRYPT_FAILED
    assert caught.value.errors == [DECRYPT_FAILED]
    assert caught.value.status == 400


@pytest.mark.parametrize(("key_type", "options"), [
    ("aes256-gcm96", {}),
    ("aes128-gcm96", {}),
    ("chacha20-poly1305", {}),
    ("aes256-gcm96", {"derived": True}),
    ("aes256-gcm96", {"derived": True, "convergent_encryption": True}),
    ("rsa-2048", {}),
])
def test_flipping_any_bit_of_a_ciphertext_gives_the_opaque_error(
    transit: Transit, key_type: str, options: dict[str, bool]
) -> None:
    transit.create("k", type=key_type, **options)
    fields = {"context": b64(b"ctx")} if options.get("derived") else {}
    ciphertext = transit.encrypt("k", b"attack at dawn", **fields)
    body = body_of(ciphertext)
    step = max(1, len(body) * 8 // 120)  # about 120 positions across nonce, ciphertext and tag
    for bit in range(0, len(body) * 8, step):
        flipped = bytearray(body)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert_opaque(transit, "k", with_body(ciphertext, bytes(flipped)), **fields)
    assert transit.decrypt("k", ciphertext, **fields) == b"attack at dawn"


def test_truncated_and_extended_ciphertexts_give_the_opaque_error(transit: Transit) -> None:
    transit.create("k")
    ciphertext = transit.encrypt("k", b"attack at dawn")
    body = body_of(ciphertext)
    for cut in (0, 1, 11, 12, 27, 28, len(body) - 1):
        assert_opaque(transit, "k", with_body(ciphertext, body[:cut]))
    assert_opaque(transit, "k", with_body(ciphertext, body + b"\x00"))


def test_another_keys_or_versions_ciphertext_gives_the_opaque_error(transit: Transit) -> None:
    transit.create("k")
    transit.create("other")
    theirs = transit.encrypt("other", b"x")
    assert_opaque(transit, "k", theirs)
    mine = transit.encrypt("k", b"x")
    transit.write("keys/k/rotate")
    assert_opaque(transit, "k", mine.replace("vault:v1:", "vault:v2:"))
    assert_opaque(transit, "k", mine.replace("vault:v1:", "vault:v3:"))


def test_a_forged_convergent_ciphertext_with_a_chosen_nonce_is_refused(transit: Transit) -> None:
    """Even with the key, a convergent ciphertext whose nonce is not the derived one does not decrypt."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from strongroom.engines.transit.kdf import derive

    transit.create("k", derived=True, convergent_encryption=True, exportable=True)
    key = unb64(transit.read("export/encryption-key/k/1")["keys"]["1"])
    derived = derive(key, b"ctx", 32)
    nonce = b"\x00" * 12
    forged = "vault:v1:" + b64(nonce + AESGCM(derived).encrypt(nonce, b"forged", None))
    assert_opaque(transit, "k", forged, context=b64(b"ctx"))


MALFORMED = [
    "", "vault", "vault:", "vault:v", "vault:v1", "vault:v1:", "vault:v0:AAAA", "vault:v01:AAAA", "vault:v-1:AAAA",
    "vault:v+1:AAAA", "vault:v1:AAA", "vault:v1:AAAA=", "vault:v1:!!!!", "vault:v1:AA AA", "vault:v1:AAAA\n",
    "Vault:v1:AAAA", "vault:V1:AAAA", "xvault:v1:AAAA", "vault:v1:AA-_", "vault:v1234567890:AAAA",
    "vault:v1:" + "A" * 40 + "==", "vault:v\u0661:AAAA", "vault:v1:AAAA:AAAA",
]


@pytest.mark.parametrize("ciphertext", MALFORMED)
def test_malformed_envelopes_give_the_same_opaque_error(transit: Transit, ciphertext: str) -> None:
    transit.create("k")
    if ciphertext == "":
        with pytest.raises(InvalidRequest, match="missing ciphertext"):
            transit.decrypt("k", ciphertext)
        return
    assert_opaque(transit, "k", ciphertext)


def test_every_batch_failure_carries_the_identical_error(transit: Transit) -> None:
    transit.create("k")
    good = transit.encrypt("k", b"x")
    tampered = with_body(good, bytes(b ^ 1 for b in body_of(good)))
    items = [{"ciphertext": c} for c in (tampered, "vault:v9:AAAA", "garbage", good.replace("v1", "v0"))]
    response = transit.call(Operation.UPDATE, "decrypt/k", {"batch_input": items})
    assert response is not None
    assert response.data is not None
    assert {r["error"] for r in response.data["batch_results"]} == {DECRYPT_FAILED}


@FUZZ
@given(st.text(max_size=80) | st.binary(max_size=60).map(lambda b: "vault:v1:" + base64.b64encode(b).decode()))
def test_decrypt_of_arbitrary_input_only_ever_answers_the_opaque_error(fuzz_transit: Transit, text: str) -> None:
    expected = InvalidRequest if text == "" else InvalidCiphertext  # "" is a missing field, not a ciphertext
    with pytest.raises(expected) as caught:
        fuzz_transit.decrypt("k", text)
    assert caught.value.message == ("missing ciphertext to decrypt" if text == "" else DECRYPT_FAILED)


@FUZZ
@given(st.integers(min_value=1, max_value=10**9 - 1), st.binary(max_size=64), st.booleans())
def test_envelopes_round_trip(version: int, body: bytes, urlsafe: bool) -> None:
    assert envelope.parse(envelope.render(version, body, urlsafe=urlsafe), urlsafe=urlsafe) == (version, body)


@FUZZ
@given(st.text(max_size=60), st.booleans())
def test_envelope_parser_raises_nothing_but_its_own_error(text: str, urlsafe: bool) -> None:
    outcome: object
    try:
        outcome = envelope.parse(text, urlsafe=urlsafe)
    except envelope.EnvelopeError as exc:
        outcome = exc
    if isinstance(outcome, envelope.EnvelopeError):
        assert str(outcome) == ""
    else:
        assert isinstance(outcome, tuple)
        assert text.startswith(f"vault:v{outcome[0]}:")


@pytest.fixture(scope="module")
def fuzz_transit() -> Transit:
    transit = Transit()
    transit.create("k")
    return transit
