"""The transit seal in process: configuration, what it sends, and how it maps answers (httpx mock transport)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import ConfigError, DecryptionFailed
from strongroom.seals.transit import HEADER, SealUnavailable, TransitOptions, TransitSeal, build
from strongroom.server.seal_setup import SEAL_TYPES

T = TypeVar("T")
TOKEN = "s.transit-token-canary"
BASE = {"address": "http://127.0.0.1:8200", "key_name": "autounseal", "token": TOKEN}


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def seal_answering(handler: Callable[[httpx.Request], httpx.Response], **options: str) -> TransitSeal:
    return TransitSeal(TransitOptions.from_block({**BASE, **options}), transport=httpx.MockTransport(handler))


def echo_transit(request: httpx.Request) -> httpx.Response:
    """A stand-in transit server whose 'ciphertext' is the base64 plaintext (enough to test the seal's side)."""
    assert request.headers["X-Vault-Token"] == TOKEN
    body = json.loads(request.content)
    if request.url.path.endswith("/encrypt/autounseal"):
        return httpx.Response(200, json={"data": {"ciphertext": "vault:v1:" + body["plaintext"]}})
    return httpx.Response(200, json={"data": {"plaintext": body["ciphertext"].removeprefix("vault:v1:")}})


def test_a_round_trip_posts_to_the_mount_and_key_and_stores_a_versioned_blob() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return echo_transit(request)

    seal = seal_answering(handler, mount_path="/seals/transit/")
    blob = run(seal.encrypt(b"\x00unseal key\xff"))
    assert blob == HEADER + b"vault:v1:" + base64.b64encode(b"\x00unseal key\xff")
    assert run(seal.decrypt(blob)) == b"\x00unseal key\xff"
    prefix = "/v1/seals/transit/"
    assert [r.url.path for r in seen] == [prefix + "encrypt/autounseal", prefix + "decrypt/autounseal"]
    assert all(r.headers["Host"] == "127.0.0.1:8200" for r in seen)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (403, "permission denied"), (503, "sealed"),
        (404, "no transit mount at 'transit/'"), (500, "unexpected answer 500"),
    ],
)
def test_a_refusal_from_the_transit_server_is_seal_unavailable_naming_the_problem(status: int, reason: str) -> None:
    seal = seal_answering(lambda _request: httpx.Response(status, json={"errors": ["x"]}))
    with pytest.raises(SealUnavailable) as caught:
        run(seal.encrypt(b"key"))
    assert reason in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert reason in run(seal.status())["last_error"]  # type: ignore[operator]


def test_a_missing_key_on_decrypt_says_so_and_a_refused_ciphertext_is_the_opaque_error() -> None:
    missing = seal_answering(lambda _r: httpx.Response(400, json={"errors": ["encryption key not found"]}))
    with pytest.raises(SealUnavailable, match="the transit key 'autounseal' does not exist"):
        run(missing.decrypt(HEADER + b"vault:v1:AAAA"))
    refused = seal_answering(lambda _r: httpx.Response(400, json={"errors": ["cipher: message authentication failed"]}))
    with pytest.raises(DecryptionFailed):
        run(refused.decrypt(HEADER + b"vault:v1:AAAA"))


def test_an_unreachable_server_is_seal_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(SealUnavailable, match="cannot reach the transit server"):
        run(seal_answering(handler).encrypt(b"key"))


@pytest.mark.parametrize("address", ["http://169.254.169.254", "http://169.254.1.1:8200", "http://0.0.0.0:8200"])
def test_metadata_link_local_and_unspecified_addresses_are_refused_before_any_connection(address: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent")

    with pytest.raises(SealUnavailable, match="egress"):
        run(seal_answering(handler, address=address).encrypt(b"key"))


@settings(max_examples=60, deadline=None)
@given(blob=st.binary(max_size=80))
def test_arbitrary_blobs_are_one_opaque_error(blob: bytes) -> None:
    refused = seal_answering(lambda _r: httpx.Response(400, json={"errors": ["invalid ciphertext"]}))
    with pytest.raises(DecryptionFailed):
        run(refused.decrypt(blob))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"address": ""}, "address is required"),
        ({"key_name": ""}, "key_name is required"),
        ({"token": ""}, "token is required"),
        ({"namespace": "team-a//b"}, "namespace is invalid"),
        ({"namespace": "team-a/../root"}, "namespace is invalid"),
        ({"tls_skip_verify": "true"}, "tls_skip_verify is refused"),
        ({"tls_skip_verify": "maybe"}, "tls_skip_verify must be true or false"),
        ({"address": "ftp://host"}, "address must be http(s)"),
        ({"address": "http://user:pw@host"}, "without user info"),
        ({"tls_client_cert": "/c.pem"}, "give both tls_client_cert and tls_client_key"),
        ({"mount_path": "../sys"}, "mount_path is invalid"),
        ({"colour": "blue"}, "unknown option(s) colour"),
    ],
)
def test_an_invalid_block_is_a_configuration_error(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        TransitOptions.from_block({**BASE, **change})
    assert TOKEN not in str(caught.value)


def test_the_registry_builds_it_and_turns_a_bad_block_into_config_error() -> None:
    from strongroom.config.model import SealConfig as SealBlock
    from strongroom.server.seal_setup import build_seal

    assert "transit" in SEAL_TYPES
    seal = build_seal((SealBlock(type="transit", options=dict(BASE)),))
    assert isinstance(seal, TransitSeal)
    with pytest.raises(ConfigError, match="key_name is required"):
        build_seal((SealBlock(type="transit", options={**BASE, "key_name": ""}),))


def test_the_token_may_come_from_the_environment_and_never_shows_in_repr_or_status() -> None:
    options = {k: v for k, v in BASE.items() if k != "token"}
    seal = build(options, environ={"VAULT_TOKEN": TOKEN})
    assert seal._options.token == TOKEN
    preferred = build(options, environ={"STRONGROOM_TRANSIT_SEAL_TOKEN": "first", "VAULT_TOKEN": TOKEN})
    assert preferred._options.token == "first"
    assert TOKEN not in repr(seal)
    assert TOKEN not in repr(seal._options)
    status = run(seal.status())
    assert (status["address"], status["key_name"]) == ("http://127.0.0.1:8200", "autounseal")
    assert TOKEN not in repr(status)
    with pytest.raises(ValueError, match="token is required"):
        build(options, environ={})
