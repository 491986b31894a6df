"""rotate-root (on demand and on a schedule), reset and the connection pool, against the real databases."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pymysql
import pytest
from db_harness import (
    DB,
    MYSQL_READER,
    admin,
    ensure_mysql_fixture_table,
    make_db,
    my_admin,
    my_login,
    my_make_user,
    run,
    scram_matches,
)

from strongroom.engines.database.backend import CONFIG
from strongroom.engines.database.config import ConnectionConfig
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Operation

ROOT = "sr_root_rot"
ALL = "GRANT ALL PRIVILEGES ON *.* TO '{{name}}'@'%' WITH GRANT OPTION"


def stored(db: DB, name: str = "my") -> ConnectionConfig:
    raw = run(db.engine.ctx.storage.get(CONFIG + name))
    assert raw is not None
    return ConnectionConfig.decode(raw)


def root_config(db: DB, **extra: object) -> None:
    my_make_user(ROOT, "root-initial-pw", ALL)
    ensure_mysql_fixture_table()
    run(db.configure_mysql(username=ROOT, password="root-initial-pw", **extra))
    run(db.call(Operation.UPDATE, "roles/reader", {"db_name": "my", "creation_statements": MYSQL_READER}))


def can_issue(db: DB) -> None:
    resp = run(db.creds())
    assert resp.secret is not None
    my_login(resp.data["username"], resp.data["password"]).close()
    assert run(db.manager.revoke(resp.secret.lease_id)).revoked


def test_rotate_root_changes_the_password_the_old_one_stops_working_and_the_engine_keeps_working() -> None:
    db = make_db()
    root_config(db)
    assert run(db.call(Operation.UPDATE, "rotate-root/my")) is None  # never returns the password
    new = stored(db).password
    assert new != "root-initial-pw"
    assert stored(db).pending_password == ""
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(ROOT, "root-initial-pw", database=None)
    my_login(ROOT, new, database=None).close()
    read = run(db.call(Operation.READ, "config/my"))
    assert read is not None
    assert new not in repr(read.data)
    assert read.data["last_root_rotation"].endswith("Z")
    can_issue(db)


def test_a_root_rotation_cut_short_after_the_database_changed_still_connects_with_the_pending_password() -> None:
    db = make_db()
    root_config(db)
    config = stored(db)
    # What a crash between the database change and the final store leaves behind:
    run(db.engine.ctx.storage.put(CONFIG + "my", replace(config, pending_password="Pending-pw-123").encode()))
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("ALTER USER %s@'%%' IDENTIFIED BY 'Pending-pw-123'", (ROOT,))
    run(db.engine.connections.drop("my"))
    can_issue(db)


def test_scheduled_root_rotation_runs_from_the_scheduler() -> None:
    db = make_db()
    root_config(db, root_rotation_period="24h")
    read = run(db.call(Operation.READ, "config/my"))
    assert read is not None
    assert read.data["rotation_period"] == 86400
    db.clock.advance(86400 + 60)
    run(db.scheduler.run_due())
    new = stored(db).password
    assert new != "root-initial-pw"
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(ROOT, "root-initial-pw", database=None)
    my_login(ROOT, new, database=None).close()
    assert db.system.scheduler is not None
    job = run(db.system.scheduler.lookup("root/my"))
    assert job is not None
    assert job.due_at == db.clock() + 86400
    # The same due time served again (another node, a crash after the claim) does not rotate twice.
    run(db.engine.run_job(replace(job, due_at=job.due_at - 86400)))
    assert stored(db).password == new


def test_vaults_field_names_for_root_rotation_are_accepted_and_a_bad_cron_is_a_400() -> None:
    db = make_db()
    my_make_user(ROOT, "root-initial-pw", ALL)
    run(db.configure_mysql(username=ROOT, password="root-initial-pw", rotation_schedule="0 3 * * *"))
    read = run(db.call(Operation.READ, "config/my"))
    assert read is not None
    assert read.data["rotation_schedule"] == "0 3 * * *"
    with pytest.raises(InvalidRequest, match="invalid cron schedule"):
        run(db.configure_mysql(username=ROOT, password="root-initial-pw", root_rotation_schedule="every day"))
    assert stored(db).root_rotation_schedule == "0 3 * * *"


def test_postgresql_rotate_root_changes_the_roles_verifier() -> None:
    db = make_db()
    with admin() as conn:
        conn.execute("DROP ROLE IF EXISTS sr_root_pg")
        conn.execute("CREATE ROLE sr_root_pg LOGIN CREATEROLE PASSWORD 'pg-root-initial'")
    run(db.configure(username="sr_root_pg", password="pg-root-initial", allowed_roles=["*"],
                     connection_url="postgresql://{{username}}:{{password}}@127.0.0.1:5432/test"))
    run(db.call(Operation.UPDATE, "rotate-root/pg"))
    new = stored(db, "pg").password
    assert new != "pg-root-initial"
    assert not scram_matches("sr_root_pg", "pg-root-initial")
    assert scram_matches("sr_root_pg", new)


def root_sessions() -> list[int]:
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (ROOT,))
        return sorted(int(row[0]) for row in cur.fetchall())


def test_the_pool_caps_open_connections_and_closes_idle_ones() -> None:
    db = make_db()
    root_config(db, max_open_connections=2, max_idle_seconds=60)
    peak: list[int] = []

    config = stored(db)

    async def many() -> None:
        plugin = await db.engine.connections.plugin(config)

        async def one() -> None:
            async with plugin.pool.connection() as conn:  # type: ignore[attr-defined]
                peak.append(plugin.open_connections)
                await asyncio.to_thread(conn.ping, False)
                await asyncio.sleep(0)

        await asyncio.gather(*(one() for _ in range(8)))
        assert plugin.open_connections <= 2
        assert len(root_sessions()) <= 2
        db.clock.advance(59)
        assert await plugin.pool.reap_idle() == 0  # type: ignore[attr-defined]
        db.clock.advance(2)
        assert await plugin.pool.reap_idle() >= 1  # type: ignore[attr-defined]
        assert plugin.open_connections == 0

    run(many())
    assert max(peak) <= 2
    assert len(peak) == 8
    assert root_sessions() == []


def test_reset_closes_the_pool_and_a_config_change_rebuilds_it() -> None:
    db = make_db()
    root_config(db)

    async def sessions_held() -> list[int]:
        raw = await db.engine.ctx.storage.get(CONFIG + "my")
        assert raw is not None
        plugin = await db.engine.connections.plugin(ConnectionConfig.decode(raw))
        async with plugin.pool.connection():  # type: ignore[attr-defined]
            pass
        return await asyncio.to_thread(root_sessions)

    async def go() -> list[list[int]]:
        before = await sessions_held()
        await db.call(Operation.UPDATE, "reset/my")
        after_reset = await sessions_held()
        await db.configure_mysql(username=ROOT, password="root-initial-pw", max_open_connections=3)
        after_change = await sessions_held()
        return [before, after_reset, after_change]

    before, after_reset, after_change = run(go())
    # One pooled connection each time, and a new one after reset and after the config change.
    assert len(before) == len(after_reset) == len(after_change) == 1
    assert before != after_reset
    assert after_reset != after_change
    assert root_sessions() == []


def test_a_config_write_that_keeps_the_rotation_terms_keeps_the_due_time() -> None:
    db = make_db()
    root_config(db, root_rotation_period="24h")
    assert db.system.scheduler is not None
    first = run(db.system.scheduler.lookup("root/my"))
    assert first is not None
    db.clock.advance(3600)
    run(db.configure_mysql(username=ROOT, password="root-initial-pw", allowed_roles=["reader"]))
    kept = run(db.system.scheduler.lookup("root/my"))
    assert kept is not None
    assert kept.due_at == first.due_at
    run(db.configure_mysql(username=ROOT, password="root-initial-pw", root_rotation_period="12h"))
    moved = run(db.system.scheduler.lookup("root/my"))
    assert moved is not None
    assert moved.due_at == db.clock() + 43200
    run(db.configure_mysql(username=ROOT, password="root-initial-pw", root_rotation_period=0))
    assert run(db.system.scheduler.lookup("root/my")) is None
