"""Static-role rotation through the real core's scheduler: once per due time across Cores and restarts, retried
after failures, against the real MariaDB."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest
from db_harness import MYSQL_URL, my_admin, my_login, my_make_user
from tests.support.inprocess import InProcessServer
from tests.support.sqlite_cores import close_core, sqlite_core, tick_together

from strongroom.sdk.system import ManualClock

USER = "sr_sched_app"
LOG = "db_engine_rotation_log"
ROTATE_AND_LOG = [
    "ALTER USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'",
    f"INSERT INTO test.{LOG} VALUES ('{{{{name}}}}')",
]


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_DATABASE_ALLOW_LOOPBACK", "true")
    my_make_user(USER, "sched-initial")
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {LOG} (who varchar(64))")
        cur.execute(f"DELETE FROM {LOG}")


def rotations() -> int:
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {LOG}")
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def core(db: Path, clock: ManualClock, first: InProcessServer | None = None) -> InProcessServer:
    def setup(srv: InProcessServer) -> None:
        assert srv.request("POST", "sys/mounts/database", json={"type": "database"}).status_code == 204
        ok = srv.request("POST", "database/config/my", json={
            "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL, "username": "root",
            "password": "", "allowed_roles": "*"})
        assert ok.status_code == 204, ok.text
        ok = srv.request("POST", "database/static-roles/app", json={
            "db_name": "my", "username": USER, "rotation_period": "1h", "rotation_statements": ROTATE_AND_LOG})
        assert ok.status_code == 204, ok.text

    return sqlite_core(db, clock, first=first, setup=setup)


def close(srv: InProcessServer) -> None:
    srv.request("PUT", "sys/seal")  # cleans the mount up: its pooled connections close
    close_core(srv)


def password(srv: InProcessServer) -> str:
    reply = srv.request("GET", "database/static-creds/app")
    assert reply.status_code == 200, reply.text
    return str(reply.json()["data"]["password"])


def test_two_cores_on_one_store_rotate_once_per_due_time(tmp_path: Path) -> None:
    clock = ManualClock()
    a = core(tmp_path / "db.sqlite", clock)
    b = core(tmp_path / "db.sqlite", clock, first=a)
    try:
        assert rotations() == 1  # the rotation at creation
        for _ in range(3):
            clock.advance(3600 + 60)
            for _ in range(3):
                tick_together(a, b)
        assert rotations() == 4
        my_login(USER, password(b), database=None).close()
    finally:
        close(b)
        close(a)


def test_a_restart_after_the_claim_loses_no_rotation_and_does_not_double_it(tmp_path: Path) -> None:
    clock = ManualClock()
    a = core(tmp_path / "db.sqlite", clock)
    uuid = a.request("GET", "sys/mounts").json()["data"]["database/"]["uuid"]
    before = password(a)
    clock.advance(3600)
    assert a.run(a.core.scheduler._claim(uuid, "static-role/app")) is not None  # then the process dies
    close(a)
    b = core(tmp_path / "db.sqlite", clock, first=a)
    try:
        b.run(b.core.scheduler.run_due())
        assert rotations() == 1  # the dead process's claim still holds
        clock.advance(b.core.scheduler.config.claim_seconds)
        for _ in range(3):
            b.run(b.core.scheduler.run_due())
        assert rotations() == 2
        after = password(b)
        assert after != before
        my_login(USER, after, database=None).close()
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            my_login(USER, before, database=None)
    finally:
        close(b)


def test_a_failed_scheduled_rotation_is_retried_until_it_succeeds(tmp_path: Path) -> None:
    clock = ManualClock()
    a = core(tmp_path / "db.sqlite", clock)
    uuid = a.request("GET", "sys/mounts").json()["data"]["database/"]["uuid"]
    try:
        with my_admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER '{USER}'@'%'")
        clock.advance(3600 + 60)
        a.run(a.core.scheduler.run_due())
        job = a.run(a.core.scheduler.lookup(uuid, "static-role/app"))
        assert job is not None
        assert job.attempt == 1
        assert "does not exist" in job.last_error
        my_make_user(USER, "recreated")
        clock.advance(3600)
        a.run(a.core.scheduler.run_due())
        job = a.run(a.core.scheduler.lookup(uuid, "static-role/app"))
        assert job is not None
        assert job.attempt == 0
        my_login(USER, password(a), database=None).close()
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            my_login(USER, "recreated", database=None)
    finally:
        close(a)
