"""Key management of the transit engine (create, read, list, delete, config, rotate, trim), without HTTP."""

from __future__ import annotations

import pytest
from transit_harness import Transit, b64

from strongroom.errors import InvalidRequest, NotFound, UnsupportedOperation
from strongroom.sdk.logical import Operation

ALL_TYPES = [
    "aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
    "rsa-2048", "rsa-3072", "rsa-4096", "hmac",
]
SUPPORTS = {  # encryption, decryption, derivation, signing
    "aes128-gcm96": (True, True, True, False),
    "aes256-gcm96": (True, True, True, False),
    "chacha20-poly1305": (True, True, True, False),
    "ed25519": (False, False, True, True),
    "ecdsa-p256": (False, False, False, True),
    "ecdsa-p384": (False, False, False, True),
    "ecdsa-p521": (False, False, False, True),
    "rsa-2048": (True, True, False, True),
    "rsa-3072": (True, True, False, True),
    "rsa-4096": (True, True, False, True),
    "hmac": (False, False, False, False),
}


@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_every_key_type_can_be_created_and_reads_back_in_vaults_shape(transit: Transit, key_type: str) -> None:
    created = transit.create("k", type=key_type)
    read = transit.read("keys/k")
    assert created == read
    assert read["name"] == "k"
    assert read["type"] == key_type
    assert (read["supports_encryption"], read["supports_decryption"], read["supports_derivation"],
            read["supports_signing"]) == SUPPORTS[key_type]
    assert read["latest_version"] == 1
    assert read["min_decryption_version"] == 1
    assert read["min_encryption_version"] == 0
    assert read["min_available_version"] == 0
    assert read["auto_rotate_period"] == 0
    assert read["imported_key"] is False
    assert set(read["keys"]) == {"1"}


def test_symmetric_key_versions_show_creation_time_in_unix_seconds(transit: Transit) -> None:
    transit.create("k")
    assert transit.read("keys/k")["keys"] == {"1": 1_800_000_000}


@pytest.mark.parametrize(("key_type", "curve"), [("ecdsa-p256", "P-256"), ("ecdsa-p384", "P-384")])
def test_ecdsa_versions_show_curve_and_pem_public_key(transit: Transit, key_type: str, curve: str) -> None:
    transit.create("k", type=key_type)
    version = transit.read("keys/k")["keys"]["1"]
    assert version["name"] == curve
    assert version["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert version["creation_time"] == "2027-01-15T08:00:00Z"


def test_hmac_key_size_defaults_to_32_and_is_reported(transit: Transit) -> None:
    assert transit.create("h", type="hmac")["key_size"] == 32
    assert transit.create("h64", type="hmac", key_size=64)["key_size"] == 64


@pytest.mark.parametrize("size", [16, 31, 513])
def test_hmac_key_size_outside_32_to_512_is_400(transit: Transit, size: int) -> None:
    with pytest.raises(InvalidRequest, match="invalid key_size"):
        transit.create("h", type="hmac", key_size=size)


def test_key_size_on_a_non_hmac_key_is_400(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="key_size is not valid"):
        transit.create("k", key_size=64)


def test_unknown_key_type_is_400_listing_types_without_echoing_input(transit: Transit) -> None:
    with pytest.raises(InvalidRequest) as caught:
        transit.create("k", type="rot13-canary")
    assert "aes256-gcm96" in caught.value.message
    assert "canary" not in caught.value.message


@pytest.mark.parametrize("key_type", ["ecdsa-p256", "rsa-2048", "hmac"])
def test_derivation_on_a_type_without_it_is_400(transit: Transit, key_type: str) -> None:
    with pytest.raises(InvalidRequest, match="not supported for keys of type"):
        transit.create("k", type=key_type, derived=True)


def test_convergent_encryption_requires_derivation(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="requires derivation"):
        transit.create("k", convergent_encryption=True)


def test_convergent_encryption_on_ed25519_is_400(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="convergent encryption not supported"):
        transit.create("k", type="ed25519", derived=True, convergent_encryption=True)


def test_derived_key_reports_its_kdf_and_convergence(transit: Transit) -> None:
    read = transit.create("k", derived=True, convergent_encryption=True)
    assert read["derived"] is True
    assert read["kdf"] == "hkdf_sha256"
    assert read["convergent_encryption"] is True


@pytest.mark.parametrize("period", ["30m", 59, "3599s"])
def test_auto_rotate_period_under_an_hour_is_400(transit: Transit, period: object) -> None:
    with pytest.raises(InvalidRequest, match="at least an hour"):
        transit.create("k", auto_rotate_period=period)


def test_auto_rotate_period_is_reported_in_seconds(transit: Transit) -> None:
    assert transit.create("k", auto_rotate_period="24h")["auto_rotate_period"] == 86400


def test_creating_an_existing_key_keeps_it_and_warns(transit: Transit) -> None:
    transit.create("k")
    ciphertext = transit.encrypt("k", b"data")
    response = transit.call(Operation.UPDATE, "keys/k", {"type": "ed25519"})
    assert response is not None
    assert response.data is not None
    assert response.data["type"] == "aes256-gcm96"
    assert response.warnings == ["key k already existed"]
    assert transit.decrypt("k", ciphertext) == b"data"


def test_read_of_a_missing_key_is_404(transit: Transit) -> None:
    with pytest.raises(NotFound):
        transit.call(Operation.READ, "keys/nothing")


def test_list_shows_key_names_and_an_empty_mount_lists_nothing(transit: Transit) -> None:
    assert transit.ok(Operation.LIST, "keys") == {"keys": []}
    transit.create("b")
    transit.create("a.b@c-d_e")
    assert transit.ok(Operation.LIST, "keys/") == {"keys": ["a.b@c-d_e", "b"]}


@pytest.mark.parametrize("name", ["-start", "end-", "has space", "slash/inside", "é"])
def test_names_outside_vaults_name_rule_are_not_routed(transit: Transit, name: str) -> None:
    with pytest.raises(NotFound):
        transit.call(Operation.UPDATE, f"keys/{name}", {})


def test_delete_is_refused_until_deletion_is_allowed(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="deletion is not allowed for this key"):
        transit.call(Operation.DELETE, "keys/k")
    transit.write("keys/k/config", {"deletion_allowed": True})
    assert transit.call(Operation.DELETE, "keys/k") is None
    with pytest.raises(NotFound):
        transit.call(Operation.READ, "keys/k")


def test_delete_of_a_missing_key_is_400_in_vaults_words(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="could not delete key; not found"):
        transit.call(Operation.DELETE, "keys/nothing")


def test_config_of_a_missing_key_is_400_in_vaults_words(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="no existing key named nothing could be found"):
        transit.write("keys/nothing/config", {"deletion_allowed": True})


def test_rotate_adds_versions_and_new_ciphertexts_use_the_latest(transit: Transit) -> None:
    transit.create("k")
    old = transit.encrypt("k", b"one")
    transit.clock.advance(10)
    rotated = transit.write("keys/k/rotate")
    assert rotated["latest_version"] == 2
    assert rotated["keys"] == {"1": 1_800_000_000, "2": 1_800_000_010}
    assert transit.encrypt("k", b"two").startswith("vault:v2:")
    assert transit.decrypt("k", old) == b"one"


def test_rotate_of_a_missing_key_is_400(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="key not found"):
        transit.write("keys/nothing/rotate")


def test_min_decryption_version_stops_old_ciphertexts(transit: Transit) -> None:
    transit.create("k")
    old = transit.encrypt("k", b"one")
    transit.write("keys/k/rotate")
    transit.write("keys/k/config", {"min_decryption_version": 2})
    with pytest.raises(InvalidRequest, match="invalid ciphertext: could not decrypt"):
        transit.decrypt("k", old)
    transit.write("keys/k/config", {"min_decryption_version": 1})
    assert transit.decrypt("k", old) == b"one"


def test_min_decryption_version_beyond_latest_is_400(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="latest key version is 1"):
        transit.write("keys/k/config", {"min_decryption_version": 2})


def test_min_decryption_version_zero_is_forced_to_one_with_a_warning(transit: Transit) -> None:
    transit.create("k")
    response = transit.call(Operation.UPDATE, "keys/k/config", {"min_decryption_version": 0})
    assert response is not None
    assert response.data is not None
    assert response.data["min_decryption_version"] == 1
    assert response.warnings
    assert "starts at 1" in response.warnings[0]


def test_min_encryption_version_below_min_decryption_version_is_400(transit: Transit) -> None:
    transit.create("k")
    transit.write("keys/k/rotate")
    transit.write("keys/k/rotate")
    transit.write("keys/k/config", {"min_decryption_version": 2})
    with pytest.raises(InvalidRequest, match="should not be less than min decryption version"):
        transit.write("keys/k/config", {"min_encryption_version": 1})
    transit.write("keys/k/config", {"min_encryption_version": 3})
    with pytest.raises(InvalidRequest, match="less than the minimum encryption key version"):
        transit.encrypt("k", b"x", key_version=2)
    assert transit.encrypt("k", b"x").startswith("vault:v3:")


def test_exportable_and_plaintext_backup_cannot_be_turned_off(transit: Transit) -> None:
    transit.create("k", exportable=True)
    with pytest.raises(InvalidRequest, match="exportable cannot be disabled"):
        transit.write("keys/k/config", {"exportable": False})
    transit.write("keys/k/config", {"allow_plaintext_backup": True})
    with pytest.raises(InvalidRequest, match="allow_plaintext_backup cannot be disabled"):
        transit.write("keys/k/config", {"allow_plaintext_backup": False})


def test_config_changes_auto_rotate_period_with_the_same_bounds(transit: Transit) -> None:
    transit.create("k")
    assert transit.write("keys/k/config", {"auto_rotate_period": "2h"})["auto_rotate_period"] == 7200
    with pytest.raises(InvalidRequest, match="at least an hour"):
        transit.write("keys/k/config", {"auto_rotate_period": "10m"})
    assert transit.write("keys/k/config", {"auto_rotate_period": 0})["auto_rotate_period"] == 0


def test_config_without_fields_changes_nothing(transit: Transit) -> None:
    before = transit.create("k")
    assert transit.write("keys/k/config", {}) == before


def test_trim_deletes_old_versions_for_good(transit: Transit) -> None:
    transit.create("k")
    old = transit.encrypt("k", b"one")
    for _ in range(3):
        transit.write("keys/k/rotate")
    transit.write("keys/k/config", {"min_decryption_version": 3, "min_encryption_version": 4})
    trimmed = transit.write("keys/k/trim", {"min_available_version": 3})
    assert trimmed["min_available_version"] == 3
    assert set(trimmed["keys"]) == {"3", "4"}
    with pytest.raises(InvalidRequest, match="cannot set min decryption version of 1 below min available"):
        transit.write("keys/k/config", {"min_decryption_version": 1})
    with pytest.raises(InvalidRequest, match="invalid ciphertext: could not decrypt"):
        transit.decrypt("k", old)


@pytest.mark.parametrize(
    ("config", "min_available", "message"),
    [
        ({}, 1, "minimum encryption version should not be zero"),
        ({"min_decryption_version": 2, "min_encryption_version": 2}, 3, "greater than minimum encryption version"),
        ({"min_decryption_version": 2, "min_encryption_version": 3}, 3, "greater than minimum decryption version"),
        ({"min_decryption_version": 2, "min_encryption_version": 2}, 0, "should be positive"),
    ],
)
def test_trim_follows_vaults_rules(transit: Transit, config: dict[str, int], min_available: int, message: str) -> None:
    transit.create("k")
    transit.write("keys/k/rotate")
    transit.write("keys/k/rotate")
    if config:
        transit.write("keys/k/config", config)
    with pytest.raises(InvalidRequest, match=message):
        transit.write("keys/k/trim", {"min_available_version": min_available})


def test_trim_cannot_go_back_down(transit: Transit) -> None:
    transit.create("k")
    transit.write("keys/k/rotate")
    transit.write("keys/k/config", {"min_decryption_version": 2, "min_encryption_version": 2})
    transit.write("keys/k/trim", {"min_available_version": 2})
    with pytest.raises(InvalidRequest, match="cannot be decremented"):
        transit.write("keys/k/trim", {"min_available_version": 1})


def test_trim_requires_min_available_version(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(InvalidRequest, match="min_available_version"):
        transit.write("keys/k/trim", {})


def test_read_of_a_derived_ed25519_key_shows_public_keys_only_for_a_context(transit: Transit) -> None:
    transit.create("k", type="ed25519", derived=True)
    assert transit.read("keys/k")["keys"]["1"]["public_key"] == ""
    one = transit.read("keys/k", {"context": b64(b"tenant-1")})["keys"]["1"]["public_key"]
    two = transit.read("keys/k", {"context": b64(b"tenant-2")})["keys"]["1"]["public_key"]
    assert one
    assert two
    assert one != two


def test_operations_a_path_does_not_declare_are_405(transit: Transit) -> None:
    transit.create("k")
    with pytest.raises(UnsupportedOperation):
        transit.call(Operation.READ, "encrypt/k")
    with pytest.raises(UnsupportedOperation):
        transit.call(Operation.DELETE, "keys/k/config")
