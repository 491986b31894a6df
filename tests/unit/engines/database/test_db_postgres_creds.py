"""Dynamic PostgreSQL credentials against the real local server: issue, use, renew, revoke, expire."""

from __future__ import annotations

import psycopg
import pytest
from db_harness import DB, admin, ensure_fixture_table, login, make_db, role_exists, run

from strongroom.errors import NotFound
from strongroom.sdk.logical import Operation


def issue(db: DB) -> tuple[str, str, str]:
    async def go() -> tuple[str, str, str]:
        await db.configure()
        await db.reader_role()
        resp = await db.creds()
        assert resp.secret is not None
        return resp.data["username"], resp.data["password"], resp.secret.lease_id

    ensure_fixture_table()
    return run(go())


def test_generated_credentials_log_in_and_can_do_what_the_creation_statements_grant() -> None:
    db = make_db()
    username, password, lease_id = issue(db)
    assert username.startswith("v-token-reader-")
    assert len(username) <= 63
    assert lease_id.startswith("database/creds/reader/")
    with login(username, password) as conn:
        assert conn.execute("SELECT v FROM db_engine_fixture").fetchone() == (7,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO db_engine_fixture VALUES (8)")
    run(db.manager.revoke(lease_id))


def test_user_has_valid_until_at_the_lease_expiry() -> None:
    db = make_db()
    username, _, lease_id = issue(db)
    with admin() as conn:
        row = conn.execute("SELECT extract(epoch FROM rolvaliduntil) FROM pg_roles WHERE rolname = %s",
                           (username,)).fetchone()
    assert row is not None
    assert int(row[0]) == int(db.clock() + 3600)
    run(db.manager.renew(lease_id, 7200))
    with admin() as conn:
        row = conn.execute("SELECT extract(epoch FROM rolvaliduntil) FROM pg_roles WHERE rolname = %s",
                           (username,)).fetchone()
    assert row is not None
    assert int(row[0]) == int(db.clock() + 7200)
    run(db.manager.revoke(lease_id))


def _hold_session(username: str, password: str) -> psycopg.Connection[object]:
    conn = login(username, password)
    conn.execute("SELECT 1")
    return conn


def _assert_session_gone(conn: psycopg.Connection[object]) -> None:
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    conn.close()


def test_revoking_the_lease_drops_the_user_and_ends_its_open_sessions() -> None:
    db = make_db()
    username, password, lease_id = issue(db)
    session = _hold_session(username, password)
    result = run(db.manager.revoke(lease_id))
    assert result.revoked
    assert not role_exists(username)
    _assert_session_gone(session)
    with pytest.raises(psycopg.OperationalError):
        login(username, password)


def test_expiry_on_the_managers_tick_drops_the_user_and_ends_its_sessions() -> None:
    db = make_db()
    username, password, _ = issue(db)
    session = _hold_session(username, password)
    db.clock.advance(3599)
    assert run(db.manager.expire_due()) == 0
    assert role_exists(username)
    db.clock.advance(2)
    assert run(db.manager.expire_due()) == 1
    assert not role_exists(username)
    _assert_session_gone(session)
    with pytest.raises(psycopg.OperationalError):
        login(username, password)


def test_revoke_secret_is_idempotent_when_the_user_is_already_gone() -> None:
    db = make_db()
    username, _, lease_id = issue(db)
    with admin() as conn:
        conn.execute(f'DROP OWNED BY "{username}"')
        conn.execute(f'DROP ROLE "{username}"')
    assert run(db.manager.revoke(lease_id)).revoked


def test_custom_revocation_statements_are_run() -> None:
    db = make_db()

    async def go() -> tuple[str, str]:
        await db.configure()
        await db.reader_role(revocation_statements=['DROP OWNED BY "{{name}}"; DROP ROLE "{{name}}";'])
        resp = await db.creds()
        assert resp.secret is not None
        return resp.data["username"], resp.secret.lease_id

    ensure_fixture_table()
    username, lease_id = run(go())
    assert role_exists(username)
    assert run(db.manager.revoke(lease_id)).revoked
    assert not role_exists(username)


def test_role_read_and_list_answer_what_was_written() -> None:
    db = make_db()

    async def go() -> None:
        await db.configure()
        await db.reader_role()
        role = await db.call(Operation.READ, "roles/reader")
        assert role is not None
        assert role.data["db_name"] == "pg"
        assert role.data["default_ttl"] == 3600
        listed = await db.call(Operation.LIST, "roles/")
        assert listed is not None
        assert listed.data["keys"] == ["reader"]
        await db.call(Operation.DELETE, "roles/reader")
        with pytest.raises(NotFound):
            await db.call(Operation.READ, "roles/reader")

    run(go())


def test_a_postgresql_down_during_revocation_keeps_the_lease_until_it_is_back() -> None:
    from db_proxy import TcpProxy

    proxy = TcpProxy(5432)
    proxy.start()
    try:
        db = make_db()

        async def go() -> tuple[str, str]:
            await db.configure(connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{proxy.port}/test")
            await db.reader_role()
            resp = await db.creds()
            assert resp.secret is not None
            return resp.data["username"], resp.secret.lease_id

        ensure_fixture_table()
        username, lease_id = run(go())
        proxy.stop()
        result = run(db.manager.revoke(lease_id))
        assert not result.revoked
        assert "cannot connect to database 'pg'" in result.error
        assert role_exists(username)
        assert run(db.manager.lookup(lease_id)) is not None
        proxy.start()
        db.clock.advance(3600)
        assert run(db.manager.expire_due()) == 1
        assert run(db.manager.lookup(lease_id)) is None
        assert not role_exists(username)
    finally:
        proxy.stop()
