"""The MySQL plugin's TLS options (``tls_ca``, ``tls_certificate_key``) against a real TLS-only MariaDB.

The server (``db_tls_mariadb.py``) requires secure transport, and the engine's connection user was
created ``REQUIRE X509``, so only a connection that verified the server AND presented the client
certificate gets in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from db_harness import DB, MYSQL_READER, MYSQL_URL, make_db, run
from db_tls_mariadb import CA, TlsMariaDB, tls_mariadb

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import Operation


@pytest.fixture(scope="module")
def tls_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsMariaDB]:
    with tls_mariadb(tmp_path_factory.mktemp("tls-mariadb")) as db:
        yield db


def configure(db: DB, server: TlsMariaDB, name: str = "tls", **tls: Any) -> None:
    run(db.call(Operation.UPDATE, f"config/{name}", {
        "plugin_name": "mysql-database-plugin",
        "connection_url": f"{{{{username}}}}:{{{{password}}}}@tcp(127.0.0.1:{server.port})/test",
        "username": "sr_tls_admin", "password": "tls-admin-pw", "allowed_roles": ["*"], **tls}))


def assert_not_stored(db: DB, name: str = "tls") -> None:
    with pytest.raises(NotFound):
        run(db.call(Operation.READ, f"config/{name}"))


def test_ca_and_client_certificate_connect_and_issue_credentials_that_log_in_over_tls(tls_db: TlsMariaDB) -> None:
    db = make_db()
    configure(db, tls_db, tls_ca=tls_db.ca.pem, tls_certificate_key=tls_db.client.combined)
    config = run(db.call(Operation.READ, "config/tls"))
    assert config is not None
    assert config.data["connection_details"]["tls_ca"] == tls_db.ca.pem
    assert "tls_certificate_key" not in repr(config.data)
    assert tls_db.client.key not in repr(config.data)
    run(db.call(Operation.UPDATE, "roles/reader", {"db_name": "tls", "creation_statements": MYSQL_READER,
                                                   "default_ttl": "1h"}))
    resp = run(db.creds("reader"))
    username, password = resp.data["username"], resp.data["password"]
    with tls_db.connect(username, password, database="test") as conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM db_engine_fixture")
        assert cur.fetchone() == (7,)
        cur.execute("SHOW STATUS LIKE 'Ssl_version'")
        assert str(cur.fetchone()[1]).startswith("TLS")
    assert resp.secret is not None
    assert run(db.manager.revoke(resp.secret.lease_id)).revoked
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        tls_db.connect(username, password)
    # A later write that does not name the TLS options keeps them (the key is never sent back).
    configure(db, tls_db, allowed_roles=["reader"])
    run(db.call(Operation.UPDATE, "reset/tls"))


def test_without_the_client_certificate_the_connection_user_is_refused_and_nothing_is_stored(
        tls_db: TlsMariaDB) -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match="Access denied"):
        configure(db, tls_db, tls_ca=tls_db.ca.pem)
    assert_not_stored(db)


def test_a_server_certificate_from_another_ca_is_refused(tls_db: TlsMariaDB) -> None:
    db = make_db()
    other = CA("some other CA")
    with pytest.raises(InvalidRequest, match="CERTIFICATE_VERIFY_FAILED"):
        configure(db, tls_db, tls_ca=other.pem, tls_certificate_key=tls_db.client.combined)
    assert_not_stored(db)


def test_a_server_without_tls_is_refused_never_used_in_plaintext() -> None:
    db = make_db()
    ca = CA("unused CA")
    with pytest.raises(InvalidRequest, match="SSL is required"):
        run(db.call(Operation.UPDATE, "config/plain", {
            "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL, "username": "root",
            "password": "", "allowed_roles": ["*"], "tls_ca": ca.pem}))
    assert_not_stored(db, "plain")


@pytest.mark.parametrize(("fields", "message"), [
    ({"tls_ca": "not a certificate"}, "tls_ca must be one or more PEM"),
    ({"tls_certificate_key": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
     "tls_certificate_key must be a PEM certificate and its private key"),
])
def test_malformed_tls_options_are_a_400_and_store_nothing(tls_db: TlsMariaDB, fields: dict[str, str],
                                                           message: str) -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match=message):
        configure(db, tls_db, verify_connection=False, **fields)
    assert_not_stored(db)


def test_the_tls_options_are_refused_for_postgresql() -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match="MySQL options"):
        run(db.configure(tls_ca=CA("x").pem))
    assert_not_stored(db, "pg")
