"""Everything the database engine and its leases store goes through the barrier: no connection password,
generated username or password, or static-role password is in the physical store in plaintext."""

from __future__ import annotations

import pytest
from db_harness import CREATE_READER, PG_URL, admin, ensure_fixture_table
from tests.api.api_support import storage_snapshot
from tests.support.inprocess import InProcessServer

CONNECTION_PASSWORD = "conn-canary-7d1f0b2e"


def test_connection_and_credentials_and_their_leases_are_only_stored_encrypted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_DATABASE_ALLOW_LOOPBACK", "true")
    ensure_fixture_table()
    with admin() as conn:
        conn.execute("DROP ROLE IF EXISTS sr_sealed_static")
        conn.execute("CREATE ROLE sr_sealed_static LOGIN PASSWORD 'sealed-initial'")
    srv = InProcessServer()
    srv.init_and_unseal()
    try:
        assert srv.request("POST", "sys/mounts/database", json={"type": "database"}).status_code == 204
        ok = srv.request("POST", "database/config/pg", json={
            "plugin_name": "postgresql-database-plugin", "connection_url": PG_URL, "username": "postgres",
            "password": CONNECTION_PASSWORD, "allowed_roles": "*"})  # trust auth: any password connects
        assert ok.status_code == 204, ok.text
        ok = srv.request("POST", "database/roles/reader", json={"db_name": "pg", "creation_statements": CREATE_READER})
        assert ok.status_code == 204, ok.text
        ok = srv.request("POST", "database/static-roles/app", json={"db_name": "pg", "username": "sr_sealed_static",
                                                                    "rotation_period": "1h"})
        assert ok.status_code == 204, ok.text
        creds = srv.request("GET", "database/creds/reader").json()
        static = srv.request("GET", "database/static-creds/app").json()["data"]["password"]
        secrets = [CONNECTION_PASSWORD, creds["data"]["username"], creds["data"]["password"], static]
        stored = storage_snapshot(srv)
        assert [key for key in stored if key.startswith("sys/expire/id/database/creds/reader/")], sorted(stored)
        leaks = [(key, s) for key, value in stored.items() for s in secrets if s in key or s.encode() in value]
        assert leaks == []
        # They are stored all the same: the lease and the role read back through the barrier.
        looked = srv.request("PUT", "sys/leases/lookup", json={"lease_id": creds["lease_id"]})
        assert looked.status_code == 200, looked.text
        assert srv.request("PUT", "sys/leases/revoke", json={"lease_id": creds["lease_id"]}).status_code == 204
    finally:
        srv.request("PUT", "sys/seal")
        srv.close()
