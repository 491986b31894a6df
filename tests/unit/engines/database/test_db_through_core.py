"""The database engine mounted in a real core: HTTP paths, generated passwords, leases, token revocation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pymysql
import pytest
from db_harness import (
    CREATE_READER,
    MYSQL_READER,
    MYSQL_URL,
    PG_URL,
    ensure_fixture_table,
    ensure_mysql_fixture_table,
    login,
    my_login,
    my_user_exists,
    role_exists,
)
from tests.support.inprocess import InProcessServer


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessServer]:
    monkeypatch.setenv("STRONGROOM_DATABASE_ALLOW_LOOPBACK", "true")
    ensure_fixture_table()
    srv = InProcessServer()
    srv.init_and_unseal()
    ok = srv.request("POST", "sys/mounts/database", json={"type": "database"})
    assert ok.status_code == 204, ok.text
    ok = srv.request("POST", "database/config/pg", json={
        "plugin_name": "postgresql-database-plugin", "connection_url": PG_URL, "username": "postgres",
        "password": "conn-secret-pw", "allowed_roles": "reader"})
    assert ok.status_code == 204, ok.text
    ok = srv.request("POST", "database/roles/reader", json={
        "db_name": "pg", "creation_statements": CREATE_READER, "default_ttl": "10m", "max_ttl": "1h"})
    assert ok.status_code == 204, ok.text
    yield srv
    # Sealing cleans the mounts up, which closes the engine's pooled connections.
    assert srv.request("PUT", "sys/seal").status_code == 204
    srv.close()


def creds(srv: InProcessServer, token: str | None = None) -> dict[str, Any]:
    resp = srv.request("GET", "database/creds/reader", token=token)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_creds_over_http_carry_a_lease_and_a_password_from_the_default_policy(server: InProcessServer) -> None:
    body = creds(server)
    assert body["lease_id"].startswith("database/creds/reader/")
    assert body["renewable"] is True
    assert body["lease_duration"] == 600
    assert len(body["data"]["password"]) == 20
    with login(body["data"]["username"], body["data"]["password"]) as conn:
        assert conn.execute("SELECT count(*) FROM db_engine_fixture").fetchone() is not None
    revoked = server.request("PUT", "sys/leases/revoke", json={"lease_id": body["lease_id"]})
    assert revoked.status_code == 204, revoked.text
    assert not role_exists(body["data"]["username"])


def test_config_read_over_http_omits_the_password(server: InProcessServer) -> None:
    resp = server.request("GET", "database/config/pg")
    assert resp.status_code == 200
    assert "conn-secret-pw" not in resp.text


def test_revoking_the_parent_token_drops_the_user_and_ends_its_sessions(server: InProcessServer) -> None:
    child = server.request("POST", "auth/token/create", json={"policies": ["root"]}).json()["auth"]["client_token"]
    body = creds(server, token=child)
    session = login(body["data"]["username"], body["data"]["password"])
    revoked = server.request("POST", "auth/token/revoke", json={"token": child})
    assert revoked.status_code == 204, revoked.text
    assert not role_exists(body["data"]["username"])
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()


def test_a_role_not_in_allowed_roles_answers_400(server: InProcessServer) -> None:
    server.request("POST", "database/roles/writer", json={"db_name": "pg", "creation_statements": CREATE_READER})
    resp = server.request("GET", "database/creds/writer")
    assert resp.status_code == 400
    assert "not allowed" in resp.text


UNSATISFIABLE = 'length = 4\nrule "charset" {\n  charset = "abc"\n  min-chars = 5\n}\n'
QUOTES = 'length = 12\nrule "charset" {\n  charset = "\'\\""\n}\n'


def test_password_policies_that_cannot_be_satisfied_or_used_in_sql_are_400s(server: InProcessServer) -> None:
    refused = server.request("PUT", "sys/policies/password/impossible", json={"policy": UNSATISFIABLE})
    assert refused.status_code == 400
    assert "invalid password policy" in refused.text
    server.request("POST", "database/config/pg", json={"password_policy": "impossible"})
    missing = server.request("GET", "database/creds/reader")
    assert missing.status_code == 400
    assert "password_policy 'impossible' does not exist" in missing.text
    stored = server.request("PUT", "sys/policies/password/quotes", json={"policy": QUOTES})
    assert stored.status_code == 204, stored.text
    server.request("POST", "database/config/pg", json={"password_policy": "quotes"})
    unsafe = server.request("GET", "database/creds/reader")
    assert unsafe.status_code == 400
    assert "cannot be placed in SQL statements" in unsafe.text


def test_mariadb_creds_die_with_their_parent_token_and_their_sessions_are_killed(server: InProcessServer) -> None:
    ensure_mysql_fixture_table()
    ok = server.request("POST", "database/config/my", json={
        "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL, "username": "root", "password": "",
        "allowed_roles": "*"})
    assert ok.status_code == 204, ok.text
    ok = server.request("POST", "database/roles/my-reader", json={"db_name": "my",
                                                                 "creation_statements": MYSQL_READER})
    assert ok.status_code == 204, ok.text
    child = server.request("POST", "auth/token/create", json={"policies": ["root"]}).json()["auth"]["client_token"]
    body = server.request("GET", "database/creds/my-reader", token=child).json()
    session = my_login(body["data"]["username"], body["data"]["password"])
    assert server.request("POST", "auth/token/revoke", json={"token": child}).status_code == 204
    assert not my_user_exists(body["data"]["username"])
    with pytest.raises(pymysql.err.OperationalError):
        session.cursor().execute("SELECT 1")
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(body["data"]["username"], body["data"]["password"])
