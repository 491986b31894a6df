"""Passwords stay out of repr, errors and reads; renewal never passes the role's max_ttl."""

from __future__ import annotations

from db_harness import admin, ensure_fixture_table, make_db, run

from strongroom.engines.database.config import ConnectionConfig
from strongroom.engines.database.postgres import Postgres
from strongroom.sdk.egress import EgressPolicy


def test_connection_config_and_connection_repr_never_show_the_password() -> None:
    config = ConnectionConfig(name="pg", plugin_name="postgresql-database-plugin",
                              connection_url="postgresql://u:{{password}}@db/x", password="hunter2-pw")
    assert "hunter2-pw" not in repr(config)
    assert "hunter2-pw" not in repr(Postgres(config, EgressPolicy()))
    assert "hunter2-pw" not in repr(config.public())


def test_renewal_is_capped_at_the_roles_max_ttl() -> None:
    db = make_db()

    async def go() -> tuple[str, str]:
        await db.configure()
        await db.reader_role(max_ttl="2h")
        resp = await db.creds()
        assert resp.secret is not None
        return resp.data["username"], resp.secret.lease_id

    ensure_fixture_table()
    username, lease_id = run(go())
    issued = db.clock()
    db.clock.advance(1800)
    entry = run(db.manager.renew(lease_id, 86400))
    assert entry.expire_time == issued + 7200
    with admin() as conn:
        row = conn.execute("SELECT extract(epoch FROM rolvaliduntil) FROM pg_roles WHERE rolname = %s",
                           (username,)).fetchone()
    assert row is not None
    assert int(row[0]) == int(issued + 7200)
    run(db.manager.revoke(lease_id))
