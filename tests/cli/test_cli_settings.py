"""Flags beat STRONGROOM_* which beats VAULT_*; defaults follow Vault."""

from __future__ import annotations

import pytest

from strongroom.cli.errors import LocalError
from strongroom.cli.settings import DEFAULT_ADDRESS, Settings, resolve


def settings(environ: dict[str, str], **flags: object) -> Settings:
    given: dict[str, object] = {
        "address": None,
        "namespace": None,
        "ca_cert": None,
        "client_cert": None,
        "client_key": None,
        "skip_verify": False,
        "output_format": None,
        "token": None,
    }
    given.update(flags)
    return resolve(environ=environ, **given)  # type: ignore[arg-type]


def test_default_address_is_vaults() -> None:
    assert settings({}).address == DEFAULT_ADDRESS == "https://127.0.0.1:8200"


def test_strongroom_variables_win_over_vault_variables_and_flags_win_over_both() -> None:
    environ = {"VAULT_ADDR": "http://vault:8200", "STRONGROOM_ADDR": "http://strongroom:8200/"}

    assert settings(environ).address == "http://strongroom:8200"
    assert settings({"VAULT_ADDR": "http://vault:8200"}).address == "http://vault:8200"
    assert settings(environ, address="https://flag:1").address == "https://flag:1"


def test_vault_variables_are_read() -> None:
    environ = {
        "VAULT_NAMESPACE": "team",
        "VAULT_CACERT": "/ca.pem",
        "VAULT_SKIP_VERIFY": "true",
        "VAULT_FORMAT": "JSON",
        "VAULT_CLIENT_CERT": "/c.pem",
        "VAULT_CLIENT_KEY": "/k.pem",
    }

    resolved = settings(environ)
    assert (resolved.namespace, resolved.ca_cert, resolved.skip_verify, resolved.format) == (
        "team",
        "/ca.pem",
        True,
        "json",
    )
    assert (resolved.client_cert, resolved.client_key) == ("/c.pem", "/k.pem")


def test_an_address_without_scheme_is_a_local_error() -> None:
    with pytest.raises(LocalError, match=r'invalid address "127\.0\.0\.1:8200"'):
        settings({"VAULT_ADDR": "127.0.0.1:8200"})


def test_an_unknown_format_is_a_local_error() -> None:
    with pytest.raises(LocalError, match="use table, json or yaml"):
        settings({"VAULT_FORMAT": "xml"})


def test_the_token_never_appears_in_repr() -> None:
    assert "hvs.secret" not in repr(settings({}, token="hvs.secret"))
