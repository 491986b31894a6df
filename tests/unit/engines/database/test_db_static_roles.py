"""Static roles against the real MariaDB (passwords checked at login) and PostgreSQL (SCRAM verifier checked)."""

from __future__ import annotations

from typing import Any

import pymysql
import pytest
from db_harness import DB, admin, make_db, my_login, my_make_user, run, scram_matches

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import Operation
from strongroom.sdk.scheduling import Job

USER = "sr_static_app"


def static_creds(db: DB, name: str = "app") -> dict[str, Any]:
    resp = run(db.call(Operation.READ, f"static-creds/{name}"))
    assert resp is not None
    assert resp.data is not None
    return resp.data


def mysql_static(db: DB, **extra: Any) -> None:
    my_make_user(USER, "initial-pw-1")

    async def go() -> None:
        await db.configure_mysql()
        await db.call(Operation.UPDATE, "static-roles/app", {"db_name": "my", "username": USER,
                                                             "rotation_period": "1h", **extra})

    run(go())


def assert_password(password: str, *, works: bool) -> None:
    if works:
        my_login(USER, password, database=None).close()
    else:
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            my_login(USER, password, database=None)


def test_creating_a_static_role_rotates_the_password_at_once() -> None:
    db = make_db()
    mysql_static(db)
    creds = static_creds(db)
    assert creds["username"] == USER
    assert creds["rotation_period"] == 3600
    assert creds["ttl"] == 3600
    assert creds["last_vault_rotation"].endswith("Z")
    assert_password("initial-pw-1", works=False)
    assert_password(creds["password"], works=True)
    role = run(db.call(Operation.READ, "static-roles/app"))
    assert role is not None
    assert "password" not in role.data
    assert creds["password"] not in repr(role.data)


def test_rotate_role_changes_the_password_old_fails_new_works() -> None:
    db = make_db()
    mysql_static(db)
    first = static_creds(db)["password"]
    db.clock.advance(600)
    run(db.call(Operation.UPDATE, "rotate-role/app"))
    second = static_creds(db)
    assert second["password"] != first
    assert second["ttl"] == 3600  # the period starts again from the manual rotation
    assert_password(first, works=False)
    assert_password(second["password"], works=True)


def test_the_scheduler_rotates_when_the_period_is_up_and_not_before() -> None:
    db = make_db()
    mysql_static(db)
    first = static_creds(db)["password"]
    db.clock.advance(3599)
    run(db.scheduler.run_due())
    assert static_creds(db)["password"] == first
    assert static_creds(db)["ttl"] == 1
    db.clock.advance(61)  # the due index is bucketed by minute
    run(db.scheduler.run_due())
    after = static_creds(db)
    assert after["password"] != first
    assert_password(first, works=False)
    assert_password(after["password"], works=True)


def test_a_run_repeated_for_one_due_time_does_not_rotate_twice() -> None:
    db = make_db()
    mysql_static(db)
    job = run(db.system.scheduler.lookup("static-role/app")) if db.system.scheduler else None
    assert job is not None
    db.clock.advance(3600)
    run(db.engine.run_job(job))
    once = static_creds(db)["password"]
    run(db.engine.run_job(job))  # the same due time again (a crash after the claim, another node)
    assert static_creds(db)["password"] == once
    assert_password(once, works=True)


def test_a_rotation_left_pending_by_a_crash_is_finished_with_its_own_password() -> None:
    db = make_db()
    mysql_static(db)
    job = Job(key="static-role/app", due_at=db.clock() + 3600, payload={"type": "static-role", "name": "app"})
    db.clock.advance(3600)
    calls: list[str] = []

    async def crash_after_database_change(name: str, *, due: float) -> None:
        # Mark pending and change the database, then "crash" before the password is stored.
        original = db.engine.static._settle

        async def no_settle(name: str, password: str, *, done: bool, rotation_due: float = 0.0,
                            trigger: str = "") -> None:
            calls.append(password)
            raise RuntimeError("crash")

        db.engine.static._settle = no_settle  # type: ignore[method-assign]
        try:
            await db.engine.static.rotate(name, due=due, trigger="scheduled")
        except RuntimeError:
            pass
        finally:
            db.engine.static._settle = original  # type: ignore[method-assign]

    run(crash_after_database_change("app", due=job.due_at))
    assert len(calls) == 1
    pending = calls[0]
    assert_password(pending, works=True)  # the database has it, storage has it only as pending
    run(db.engine.run_job(job))  # the retry of that due time finishes the same rotation
    assert static_creds(db)["password"] == pending
    assert_password(pending, works=True)


def test_cron_schedule_gives_the_seconds_to_the_next_scheduled_time() -> None:
    db = make_db()
    my_make_user(USER, "initial-pw-1")
    db.clock.now = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    run(db.configure_mysql())
    run(db.call(Operation.UPDATE, "static-roles/app", {"db_name": "my", "username": USER,
                                                       "rotation_schedule": "30 * * * *", "rotation_window": "1h"}))
    creds = static_creds(db)
    assert creds["rotation_schedule"] == "30 * * * *"
    assert creds["rotation_window"] == 3600
    assert "rotation_period" not in creds
    assert creds["ttl"] == 1800


def test_a_run_that_missed_its_window_waits_for_the_next_scheduled_time() -> None:
    db = make_db()
    my_make_user(USER, "initial-pw-1")
    run(db.configure_mysql())
    run(db.call(Operation.UPDATE, "static-roles/app", {"db_name": "my", "username": USER,
                                                       "rotation_schedule": "0 0 * * *", "rotation_window": "1h"}))
    first = static_creds(db)["password"]
    job = run(db.system.scheduler.lookup("static-role/app")) if db.system.scheduler else None
    assert job is not None
    db.clock.now = job.due_at + 7200  # the server was down past the window
    next_due = run(db.engine.run_job(job))
    assert next_due == job.due_at + 86400
    assert static_creds(db)["password"] == first


@pytest.mark.parametrize(("fields", "message"), [
    ({"rotation_schedule": "not a cron"}, "invalid cron schedule"),
    ({"rotation_schedule": "61 * * * *"}, "invalid cron schedule"),
    ({"rotation_period": "1h", "rotation_schedule": "0 * * * *"}, "exactly one of"),
    ({}, "exactly one of"),
    ({"rotation_period": "2s"}, "at least 5 seconds"),
    ({"rotation_period": "1h", "rotation_window": "1h"}, "only valid with rotation_schedule"),
    ({"rotation_schedule": "0 * * * *", "rotation_window": "10m"}, "at least 3600 seconds"),
    ({"rotation_period": "1h", "credential_type": "rsa_private_key"}, "credential_type"),
])
def test_bad_rotation_terms_are_a_400_and_store_nothing(fields: dict[str, Any], message: str) -> None:
    db = make_db()
    my_make_user(USER, "initial-pw-1")
    run(db.configure_mysql())
    with pytest.raises(InvalidRequest, match=message):
        run(db.call(Operation.UPDATE, "static-roles/app", {"db_name": "my", "username": USER, **fields}))
    with pytest.raises(NotFound):
        run(db.call(Operation.READ, "static-roles/app"))
    assert_password("initial-pw-1", works=True)


def test_a_user_that_does_not_exist_is_a_400_and_nothing_is_stored() -> None:
    db = make_db()
    run(db.configure_mysql())
    with pytest.raises(InvalidRequest, match="database user 'sr_no_such_user' does not exist"):
        run(db.call(Operation.UPDATE, "static-roles/ghost", {"db_name": "my", "username": "sr_no_such_user",
                                                             "rotation_period": "1h"}))
    with pytest.raises(NotFound):
        run(db.call(Operation.READ, "static-roles/ghost"))


def test_a_static_role_not_in_allowed_roles_is_a_400() -> None:
    db = make_db()
    my_make_user(USER, "initial-pw-1")
    run(db.configure_mysql(allowed_roles=["other"]))
    with pytest.raises(InvalidRequest, match="not allowed"):
        run(db.call(Operation.UPDATE, "static-roles/app", {"db_name": "my", "username": USER,
                                                           "rotation_period": "1h"}))
    assert_password("initial-pw-1", works=True)


def test_username_cannot_change_and_delete_cancels_the_job() -> None:
    db = make_db()
    mysql_static(db)
    with pytest.raises(InvalidRequest, match="cannot change the username"):
        run(db.call(Operation.UPDATE, "static-roles/app", {"username": "someone_else"}))
    listed = run(db.call(Operation.LIST, "static-roles/"))
    assert listed is not None
    assert listed.data["keys"] == ["app"]
    run(db.call(Operation.DELETE, "static-roles/app"))
    assert db.system.scheduler is not None
    assert run(db.system.scheduler.lookup("static-role/app")) is None


def test_postgresql_static_role_rotation_changes_the_stored_verifier() -> None:
    db = make_db()
    with admin() as conn:
        conn.execute("DROP ROLE IF EXISTS sr_static_pg")
        conn.execute("CREATE ROLE sr_static_pg LOGIN PASSWORD 'pg-initial-pw'")
    assert scram_matches("sr_static_pg", "pg-initial-pw")
    run(db.configure(allowed_roles=["*"]))
    run(db.call(Operation.UPDATE, "static-roles/pgapp", {"db_name": "pg", "username": "sr_static_pg",
                                                         "rotation_period": "24h"}))
    first = static_creds(db, "pgapp")["password"]
    assert not scram_matches("sr_static_pg", "pg-initial-pw")
    assert scram_matches("sr_static_pg", first)
    run(db.call(Operation.UPDATE, "rotate-role/pgapp"))
    second = static_creds(db, "pgapp")["password"]
    assert second != first
    assert not scram_matches("sr_static_pg", first)
    assert scram_matches("sr_static_pg", second)


def test_rotations_publish_events_without_the_password() -> None:
    from strongroom.sdk.events import EventOrigin

    db = make_db()
    seen: list[tuple[str, str, dict[str, Any]]] = []
    db.system.event_origin = EventOrigin("database/", "database_1", "database")
    db.system.event_sink = lambda origin, kind, path, meta: seen.append((kind, path, dict(meta)))
    mysql_static(db)
    first = static_creds(db)["password"]
    # The rotation at creation publishes like every later one: a subscriber sees each new password's arrival.
    assert [(kind, path) for kind, path, _ in seen] == [("database/static-rotate", "database/static-creds/app")]
    run(db.call(Operation.UPDATE, "rotate-role/app"))
    password = static_creds(db)["password"]
    assert [(kind, path) for kind, path, _ in seen] == [("database/static-rotate", "database/static-creds/app")] * 2
    assert all(meta == {"name": "app", "username": USER, "db_name": "my"} for _, _, meta in seen)
    assert first not in repr(seen)
    assert password not in repr(seen)


def test_a_failed_creation_publishes_nothing() -> None:
    from strongroom.sdk.events import EventOrigin

    db = make_db()
    seen: list[str] = []
    db.system.event_origin = EventOrigin("database/", "database_1", "database")
    db.system.event_sink = lambda origin, kind, path, meta: seen.append(kind)
    run(db.configure_mysql())
    with pytest.raises(InvalidRequest, match="does not exist"):
        run(db.call(Operation.UPDATE, "static-roles/ghost", {"db_name": "my", "username": "sr_no_such_user",
                                                             "rotation_period": "1h"}))
    assert seen == []


def test_two_static_roles_cannot_manage_one_username_on_one_connection() -> None:
    db = make_db()
    mysql_static(db)
    first = static_creds(db)["password"]
    with pytest.raises(InvalidRequest, match=f"'{USER}' is already managed by static role 'app'"):
        run(db.call(Operation.UPDATE, "static-roles/app2", {"db_name": "my", "username": USER,
                                                            "rotation_period": "1h"}))
    with pytest.raises(NotFound):
        run(db.call(Operation.READ, "static-roles/app2"))
    assert db.system.scheduler is not None
    assert run(db.system.scheduler.lookup("static-role/app2")) is None
    assert_password(first, works=True)  # the refused write did not rotate the user
    # Updating the owning role is not a conflict with itself.
    run(db.call(Operation.UPDATE, "static-roles/app", {"rotation_period": "2h"}))
    # The same username on ANOTHER connection is another database user: allowed.
    run(db.configure_mysql("my2"))
    run(db.call(Operation.UPDATE, "static-roles/app3", {"db_name": "my2", "username": USER,
                                                        "rotation_period": "1h"}))
    # Once the owner is deleted its username is free again.
    run(db.call(Operation.DELETE, "static-roles/app"))
    run(db.call(Operation.DELETE, "static-roles/app3"))
    run(db.call(Operation.UPDATE, "static-roles/app2", {"db_name": "my", "username": USER,
                                                        "rotation_period": "1h"}))
    assert_password(static_creds(db, "app2")["password"], works=True)


def test_updating_a_static_role_keeps_its_password_and_its_due_time_unless_the_terms_change() -> None:
    db = make_db()
    mysql_static(db)
    first = static_creds(db)["password"]
    db.clock.advance(600)
    run(db.call(Operation.UPDATE, "static-roles/app", {"rotation_statements": [
        "ALTER USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'"]}))
    creds = static_creds(db)
    assert creds["password"] == first
    assert creds["ttl"] == 3000
    run(db.call(Operation.UPDATE, "static-roles/app", {"rotation_period": "2h"}))
    assert static_creds(db)["ttl"] == 7200
    assert_password(first, works=True)
