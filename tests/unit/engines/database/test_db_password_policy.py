"""A connection's named password policy (``sys/policies/password``) shapes every password the engine makes:
dynamic credentials and static-role rotations, against the real MariaDB (passwords checked); a root rotation
under the policy leaves the engine working."""

from __future__ import annotations

import re

import pymysql
import pytest
from db_harness import MYSQL_READER, MYSQL_URL, ensure_mysql_fixture_table, my_login, my_make_user
from tests.support.inprocess import InProcessServer

POLICY = 'length = 30\nrule "charset" {\n  charset = "abcdef0123456789"\n  min-chars = 30\n}\n'
SHAPE = re.compile(r"[a-f0-9]{30}")
ROOT = "sr_policy_root"
STATIC = "sr_policy_static"


def test_a_named_policy_shapes_dynamic_static_and_root_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_DATABASE_ALLOW_LOOPBACK", "true")
    ensure_mysql_fixture_table()
    my_make_user(ROOT, "policy-root-initial", "GRANT ALL PRIVILEGES ON *.* TO '{{name}}'@'%' WITH GRANT OPTION")
    my_make_user(STATIC, "policy-static-initial")
    srv = InProcessServer()
    srv.init_and_unseal()
    try:
        assert srv.request("PUT", "sys/policies/password/hex30", json={"policy": POLICY}).status_code == 204
        assert srv.request("POST", "sys/mounts/database", json={"type": "database"}).status_code == 204
        ok = srv.request("POST", "database/config/my", json={
            "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL, "username": ROOT,
            "password": "policy-root-initial", "allowed_roles": "*", "password_policy": "hex30"})
        assert ok.status_code == 204, ok.text
        ok = srv.request("POST", "database/roles/reader", json={"db_name": "my", "creation_statements": MYSQL_READER})
        assert ok.status_code == 204, ok.text
        creds = srv.request("GET", "database/creds/reader").json()
        assert SHAPE.fullmatch(creds["data"]["password"]), "dynamic password not from the policy"
        my_login(creds["data"]["username"], creds["data"]["password"]).close()
        ok = srv.request("POST", "database/static-roles/app", json={"db_name": "my", "username": STATIC,
                                                                    "rotation_period": "1h"})
        assert ok.status_code == 204, ok.text
        static = srv.request("GET", "database/static-creds/app").json()["data"]["password"]
        assert SHAPE.fullmatch(static), "static password not from the policy"
        my_login(STATIC, static, database=None).close()
        assert srv.request("POST", "database/rotate-root/my").status_code == 204
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            my_login(ROOT, "policy-root-initial", database=None)
        # The root password is never shown (so its shape is not checked here); it is in force: creds are issued.
        again = srv.request("GET", "database/creds/reader").json()
        my_login(again["data"]["username"], again["data"]["password"]).close()
        assert srv.request("PUT", "sys/leases/revoke-prefix/database/creds/reader").status_code == 204
    finally:
        srv.request("PUT", "sys/seal")
        srv.close()
