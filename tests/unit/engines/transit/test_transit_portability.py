"""export, backup and restore (with a fuzzed restore parser), and the random and hash tools."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transit_harness import Transit, b64, unb64

from strongroom.engines.transit.portability import INVALID_BACKUP
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import Operation

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_export_needs_an_exportable_key(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="private key material is not exportable"):
        transit.read("export/encryption-key/k")
    transit.write("keys/k/config", {"exportable": True})
    assert set(transit.read("export/encryption-key/k")["keys"]) == {"1"}


def test_export_answers_name_type_and_every_readable_version(transit: Transit) -> None:
    transit.create("k", exportable=True)
    transit.write("keys/k/rotate")
    transit.write("keys/k/rotate")
    transit.write("keys/k/config", {"min_decryption_version": 2})
    answer = transit.read("export/encryption-key/k")
    assert answer["name"] == "k"
    assert answer["type"] == "aes256-gcm96"
    assert set(answer["keys"]) == {"2", "3"}
    assert all(len(unb64(v)) == 32 for v in answer["keys"].values())
    assert set(transit.read("export/encryption-key/k/latest")["keys"]) == {"3"}
    assert set(transit.read("export/encryption-key/k/2")["keys"]) == {"2"}


@pytest.mark.parametrize(("version", "message"), [
    ("1", "below minimum decryption version"), ("9", "does not exist"), ("two", "invalid key version"),
])
def test_export_of_an_unusable_version_is_400(transit: Transit, version: str, message: str) -> None:
    transit.create("k", exportable=True)
    transit.write("keys/k/rotate")
    transit.write("keys/k/config", {"min_decryption_version": 2})
    with pytest.raises(InvalidRequest, match=message):
        transit.read(f"export/encryption-key/k/{version}")


@pytest.mark.parametrize(("key_type", "kind"), [
    ("aes256-gcm96", "signing-key"), ("ed25519", "encryption-key"), ("ecdsa-p256", "encryption-key"),
    ("hmac", "encryption-key"), ("aes256-gcm96", "public-key"),
])
def test_export_of_a_kind_the_key_type_lacks_is_400(transit: Transit, key_type: str, kind: str) -> None:
    transit.create("k", type=key_type, exportable=True)
    with pytest.raises(InvalidRequest, match="export is not supported"):
        transit.read(f"export/{kind}/k")


def test_export_of_an_unknown_kind_is_400_and_of_a_missing_key_404(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="invalid export type"):
        transit.read("export/everything/k")
    with pytest.raises(NotFound):
        transit.read("export/encryption-key/nothing")


def test_public_keys_export_without_exportable(transit: Transit) -> None:
    transit.create("k", type="ecdsa-p256")
    exported = transit.read("export/public-key/k")["keys"]["1"]
    assert exported == transit.read("keys/k")["keys"]["1"]["public_key"]
    with pytest.raises(InvalidRequest, match="not exportable"):
        transit.read("export/signing-key/k")


def test_rsa_keys_export_as_encryption_and_signing_keys(transit: Transit) -> None:
    transit.create("k", type="rsa-2048", exportable=True)
    encryption = transit.read("export/encryption-key/k")["keys"]["1"]
    assert encryption.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert transit.read("export/signing-key/k")["keys"]["1"] == encryption


def test_backup_needs_exportable_and_plaintext_backup(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="exporting is disallowed"):
        transit.read("backup/k")
    transit.write("keys/k/config", {"exportable": True})
    with pytest.raises(InvalidRequest, match="plaintext backup is disallowed"):
        transit.read("backup/k")
    with pytest.raises(NotFound):
        transit.read("backup/nothing")


def backed_up(transit: Transit, name: str = "k", **options: object) -> str:
    transit.create(name, exportable=True, allow_plaintext_backup=True, **options)
    backup: str = transit.read(f"backup/{name}")["backup"]
    return backup


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "chacha20-poly1305", "ed25519", "ecdsa-p384", "rsa-2048",
                                      "hmac"])
def test_backup_restores_under_another_name_with_every_version(transit: Transit, key_type: str) -> None:
    transit.create("k", type=key_type, exportable=True, allow_plaintext_backup=True)
    transit.write("keys/k/rotate")
    backup = transit.read("backup/k")["backup"]
    assert transit.call(Operation.UPDATE, "restore/copy", {"backup": backup}) is None
    original, copy = transit.read("keys/k"), transit.read("keys/copy")
    assert copy["name"] == "copy"
    assert copy["keys"] == original["keys"]
    assert copy["restore_info"] == {"time": "2027-01-15T08:00:00Z", "version": 2}
    assert original["backup_info"] == {"time": "2027-01-15T08:00:00Z", "version": 2}
    assert transit.read("export/hmac-key/copy")["keys"] == transit.read("export/hmac-key/k")["keys"]


def test_restored_keys_decrypt_the_originals_ciphertexts(transit: Transit) -> None:
    backup = backed_up(transit, derived=True, convergent_encryption=True)
    ciphertext = transit.encrypt("k", b"secret", context=b64(b"c"))
    assert transit.call(Operation.UPDATE, "restore", {"backup": backup, "name": "twin"}) is None
    assert transit.decrypt("twin", ciphertext, context=b64(b"c")) == b"secret"
    assert transit.encrypt("twin", b"secret", context=b64(b"c")) == ciphertext


def test_restore_without_a_name_uses_the_backups_and_refuses_to_overwrite(transit: Transit) -> None:
    backup = backed_up(transit)
    with pytest.raises(InvalidRequest, match="already exists"):
        transit.call(Operation.UPDATE, "restore", {"backup": backup})
    transit.write("keys/k/config", {"deletion_allowed": True})
    transit.call(Operation.DELETE, "keys/k")
    assert transit.call(Operation.UPDATE, "restore", {"backup": backup}) is None
    assert transit.read("keys/k")["name"] == "k"


def test_restore_with_force_overwrites(transit: Transit) -> None:
    backup = backed_up(transit)
    before = transit.encrypt("k", b"x")
    transit.create("other")
    transit.call(Operation.UPDATE, "restore/other", {"backup": backup, "force": True})
    assert transit.decrypt("other", before) == b"x"


def test_restore_to_an_invalid_name_is_400(transit: Transit) -> None:
    backup = backed_up(transit)
    with pytest.raises(InvalidRequest, match="invalid key name"):
        transit.call(Operation.UPDATE, "restore", {"backup": backup, "name": "../escape"})


def test_restore_requires_a_backup(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="backup"):
        transit.call(Operation.UPDATE, "restore", {})


def _document(backup: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(base64.b64decode(backup))
    return parsed


def _encode(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()  # stdlib: any int size


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(format="vault"),
    lambda d: d.update(version=2),
    lambda d: d["key"].update(type="rsa-1024"),
    lambda d: d["key"].update(latest_version=2),
    lambda d: d["key"].update(min_decryption_version=0),
    lambda d: d["key"].update(min_available_version=2),
    lambda d: d["key"].update(derived="yes"),
    lambda d: d["key"].update(convergent=True),
    lambda d: d["key"].update(key_size=64),
    lambda d: d["key"]["versions"]["1"].update(key=base64.b64encode(b"short").decode()),
    lambda d: d["key"]["versions"]["1"].update(hmac_key=""),
    lambda d: d["key"]["versions"]["1"].update(created=-1),
    lambda d: d["key"]["versions"].update({"01": d["key"]["versions"].pop("1")}),
    lambda d: d["key"]["versions"].update({"2": d["key"]["versions"]["1"]}),
    lambda d: d["key"].pop("versions"),
    lambda d: d["key"].update(name=""),
    lambda d: d["key"].update(backup_info={"time": "yesterday", "version": 1}),
])
def test_tampered_backups_are_one_fixed_400(transit: Transit, mutate: object) -> None:
    document = _document(backed_up(transit))
    mutate(document)  # type: ignore[operator]
    with pytest.raises(InvalidRequest) as caught:
        transit.call(Operation.UPDATE, "restore/copy", {"backup": _encode(document)})
    assert caught.value.message == INVALID_BACKUP


def test_a_backup_of_an_ecdsa_key_with_an_rsa_key_inside_is_refused(transit: Transit) -> None:
    ec_document = _document(backed_up(transit, "ec", type="ecdsa-p256"))
    rsa_document = _document(backed_up(transit, "rsa", type="rsa-2048"))
    ec_document["key"]["versions"]["1"]["key"] = rsa_document["key"]["versions"]["1"]["key"]  # type: ignore[index]
    with pytest.raises(InvalidRequest, match="invalid backup"):
        transit.call(Operation.UPDATE, "restore/copy", {"backup": _encode(ec_document)})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(st.text(max_size=200) | JSON.map(_encode)
       | JSON.map(lambda key: _encode({"format": "strongroom-transit-backup", "version": 1, "key": key})))
def test_restore_of_arbitrary_input_is_only_ever_the_fixed_400(fuzz_transit: Transit, text: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        fuzz_transit.call(Operation.UPDATE, "restore/fuzzed", {"backup": text})
    assert caught.value.message in (INVALID_BACKUP, "missing required field 'backup'")


@FUZZ
@given(st.data())
def test_restore_of_a_valid_backup_with_one_field_replaced_never_crashes(
    fuzz_transit: Transit, data: st.DataObject
) -> None:
    document = _document(fuzz_transit.read("backup/k")["backup"])
    key = document["key"]
    assert isinstance(key, dict)
    field = data.draw(st.sampled_from(sorted(key)))
    key[field] = data.draw(JSON)
    try:
        fuzz_transit.call(Operation.UPDATE, "restore/fuzzed", {"backup": _encode(document), "force": True})
    except InvalidRequest as exc:
        message = exc.message
    else:
        message = ""
    assert message in ("", INVALID_BACKUP)


@pytest.fixture(scope="module")
def fuzz_transit() -> Transit:
    transit = Transit()
    transit.create("k", exportable=True, allow_plaintext_backup=True)
    return transit


def test_random_answers_the_requested_bytes_in_either_format(transit: Transit) -> None:
    assert len(unb64(transit.write("random")["random_bytes"])) == 32
    assert len(unb64(transit.write("random/64")["random_bytes"])) == 64
    assert len(bytes.fromhex(transit.write("random", {"bytes": 16, "format": "hex"})["random_bytes"])) == 16
    assert len(unb64(transit.write("random/all/8")["random_bytes"])) == 8


def test_random_draws_from_the_injected_source(transit: Transit) -> None:
    transit.ctx.system.random_bytes = lambda n: b"\x07" * n
    assert transit.write("random/4", {"format": "hex"})["random_bytes"] == "07070707"


@pytest.mark.parametrize(("path", "body", "message"), [
    ("random/0", {}, "between 1 and 131072"),
    ("random", {"bytes": 131073}, "between 1 and 131072"),
    ("random", {"format": "base32"}, "unsupported format"),
    ("random/seal/8", {}, "unsupported random source"),
    ("random/platform/lots", {}, "error parsing the byte count"),
])
def test_random_refusals(transit: Transit, path: str, body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        transit.write(path, body)


def test_hash_refusals(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="missing input to hash"):
        transit.write("hash", {})
    with pytest.raises(InvalidRequest, match="unsupported hash algorithm"):
        transit.write("hash/md5", {"input": "AA=="})
    with pytest.raises(InvalidRequest, match="failed to base64-decode input"):
        transit.write("hash", {"input": "%%"})
