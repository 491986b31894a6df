"""Dynamic MariaDB credentials against the real local server (passwords are checked there)."""

from __future__ import annotations

import re

import pymysql
import pytest
from db_harness import (
    DB,
    MYSQL_READER,
    ensure_mysql_fixture_table,
    make_db,
    my_admin,
    my_login,
    my_user_exists,
    my_users_like,
    run,
)
from db_proxy import TcpProxy

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import Operation


def issue(db: DB, role: str = "reader", plugin: str = "mysql-database-plugin", **extra: object) -> tuple[str, str, str]:
    async def go() -> tuple[str, str, str]:
        await db.configure_mysql(plugin_name=plugin, **extra)
        await db.call(Operation.UPDATE, f"roles/{role}", {"db_name": "my", "creation_statements": MYSQL_READER,
                                                          "default_ttl": "1h"})
        resp = await db.creds(role)
        assert resp.secret is not None
        return resp.data["username"], resp.data["password"], resp.secret.lease_id

    ensure_mysql_fixture_table()
    return run(go())


def test_generated_credentials_log_in_and_can_do_exactly_what_the_statements_grant() -> None:
    db = make_db()
    username, password, lease_id = issue(db)
    assert username.startswith("v-token-reader-")
    assert len(username) <= 32
    with my_login(username, password) as conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM db_engine_fixture")
        assert cur.fetchone() == (7,)
        with pytest.raises(pymysql.err.OperationalError, match="denied"):
            cur.execute("INSERT INTO db_engine_fixture VALUES (8)")
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(username, password + "x")
    assert run(db.manager.revoke(lease_id)).revoked


def test_the_legacy_plugins_keep_usernames_within_16_characters() -> None:
    for plugin in ("mysql-legacy-database-plugin", "mysql-rds-database-plugin", "mysql-aurora-database-plugin"):
        db = make_db()
        username, password, lease_id = issue(db, "readerlongname", plugin)
        assert len(username) <= 16
        assert username.startswith("v-read-")
        my_login(username, password).close()
        assert run(db.manager.revoke(lease_id)).revoked


def test_revoking_the_lease_drops_the_user_and_kills_its_open_sessions() -> None:
    db = make_db()
    username, password, lease_id = issue(db)
    session = my_login(username, password)
    session.cursor().execute("SELECT 1")
    assert run(db.manager.revoke(lease_id)).revoked
    assert not my_user_exists(username)
    with pytest.raises(pymysql.err.OperationalError):
        session.cursor().execute("SELECT 1")
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(username, password)


def test_expiry_on_the_managers_tick_drops_the_user_and_kills_its_sessions() -> None:
    db = make_db()
    username, password, _ = issue(db)
    session = my_login(username, password)
    db.clock.advance(3599)
    assert run(db.manager.expire_due()) == 0
    assert my_user_exists(username)
    db.clock.advance(2)
    assert run(db.manager.expire_due()) == 1
    assert not my_user_exists(username)
    with pytest.raises(pymysql.err.OperationalError):
        session.cursor().execute("SELECT 1")


def test_invalid_sql_is_a_400_and_the_user_created_before_it_is_dropped() -> None:
    db = make_db()
    ensure_mysql_fixture_table()
    before = my_users_like("v-token-bad")

    async def go() -> None:
        await db.configure_mysql()
        await db.call(Operation.UPDATE, "roles/bad", {"db_name": "my",
                                                      "creation_statements": [*MYSQL_READER, "GRANT NONSENSE;"]})
        await db.creds("bad")

    with pytest.raises(InvalidRequest, match="creation_statements failed, nothing was created"):
        run(go())
    # CREATE USER committed on its own (MySQL DDL); the engine dropped it again.
    assert my_users_like("v-token-bad") == before


def test_rollback_statements_run_when_creation_fails() -> None:
    db = make_db()
    ensure_mysql_fixture_table()
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS db_engine_rollback_log (who varchar(64))")
        cur.execute("DELETE FROM db_engine_rollback_log")

    async def go() -> None:
        await db.configure_mysql()
        await db.call(Operation.UPDATE, "roles/rb", {
            "db_name": "my", "creation_statements": [*MYSQL_READER, "GRANT NONSENSE;"],
            "rollback_statements": ["INSERT INTO test.db_engine_rollback_log VALUES ('{{name}}')"]})
        await db.creds("rb")

    with pytest.raises(InvalidRequest, match="nothing was created"):
        run(go())
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT who FROM db_engine_rollback_log")
        rows = cur.fetchall()
    assert len(rows) == 1
    assert rows[0][0].startswith("v-token-rb-")
    assert not my_user_exists(rows[0][0])


def test_renew_statements_run_on_renewal() -> None:
    db = make_db()
    ensure_mysql_fixture_table()
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS db_engine_renew_log (who varchar(64))")
        cur.execute("DELETE FROM db_engine_renew_log")

    async def go() -> tuple[str, str]:
        await db.configure_mysql()
        await db.call(Operation.UPDATE, "roles/rn", {
            "db_name": "my", "creation_statements": MYSQL_READER,
            "renew_statements": ["INSERT INTO test.db_engine_renew_log VALUES ('{{name}}')"]})
        resp = await db.creds("rn")
        assert resp.secret is not None
        return resp.data["username"], resp.secret.lease_id

    username, lease_id = run(go())
    run(db.manager.renew(lease_id, 600))
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT who FROM db_engine_renew_log")
        assert cur.fetchall() == ((username,),)
    assert run(db.manager.revoke(lease_id)).revoked


def test_unreachable_database_at_config_time_is_a_400_and_nothing_is_stored() -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match=r"cannot connect to database 'my' at 127\.0\.0\.1:1") as err:
        run(db.configure_mysql(connection_url="{{username}}:{{password}}@tcp(127.0.0.1:1)/test",
                               password="never-shown-pw"))
    assert "never-shown-pw" not in str(err.value)
    with pytest.raises(NotFound):
        run(db.call(Operation.READ, "config/my"))


def test_a_wrong_root_password_at_config_time_is_a_400() -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match="Access denied") as err:
        run(db.configure_mysql(password="wrong-root-pw"))
    assert "wrong-root-pw" not in str(err.value)


def test_a_database_down_during_revocation_keeps_the_lease_and_is_retried_until_it_is_back() -> None:
    proxy = TcpProxy(3306)
    proxy.start()
    try:
        db = make_db()
        username, password, lease_id = issue(
            db, connection_url=f"{{{{username}}}}:{{{{password}}}}@tcp(127.0.0.1:{proxy.port})/test")
        proxy.stop()
        result = run(db.manager.revoke(lease_id))
        assert not result.revoked
        assert "cannot connect to database 'my'" in result.error
        entry = run(db.manager.lookup(lease_id))
        assert entry is not None
        assert entry.attempts == 1
        assert my_user_exists(username)
        db.clock.advance(3600)
        assert run(db.manager.expire_due()) == 1  # still down: tried again, still kept
        assert run(db.manager.lookup(lease_id)) is not None
        proxy.start()
        db.clock.advance(3600)
        assert run(db.manager.expire_due()) == 1
        assert run(db.manager.lookup(lease_id)) is None
        assert not my_user_exists(username)
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            my_login(username, password)
    finally:
        proxy.stop()


def test_a_custom_username_template_names_the_user_that_logs_in() -> None:
    db = make_db()
    db.clock.now = 1_800_000_000.0
    username, password, lease_id = issue(db, "reader", username_template="app_{{role}}_{{random 6}}_{{unix_time}}")
    assert re.fullmatch(r"app_reader_[A-Za-z0-9]{6}_1800000000", username), username
    assert my_user_exists(username)
    my_login(username, password).close()
    assert run(db.manager.revoke(lease_id)).revoked
    assert not my_user_exists(username)
