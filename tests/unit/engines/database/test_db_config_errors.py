"""Connection configuration and the bad inputs: unreachable database, invalid SQL, role not allowed."""

from __future__ import annotations

from typing import Any

import pytest
from db_harness import CREATE_READER, PG_URL, admin, ensure_fixture_table, make_db, run

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.logical import Operation


def generated_users() -> set[str]:
    with admin() as conn:
        rows = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-token-%'").fetchall()
    return {row[0] for row in rows}


def test_config_read_never_returns_the_password_and_list_names_it() -> None:
    db = make_db()

    async def go() -> tuple[Any, Any]:
        await db.configure(password="s3cret-conn-pw")
        read = await db.call(Operation.READ, "config/pg")
        listed = await db.call(Operation.LIST, "config/")
        return read, listed

    read, listed = run(go())
    assert "s3cret-conn-pw" not in repr(read.data)
    assert read.data["connection_details"]["connection_url"] == PG_URL
    assert read.data["allowed_roles"] == ["reader*"]
    assert listed.data["keys"] == ["pg"]


def test_unreachable_database_at_config_time_is_a_clear_400_and_nothing_is_stored() -> None:
    db = make_db()
    url = "postgresql://{{username}}:{{password}}@127.0.0.1:1/test"
    with pytest.raises(InvalidRequest, match=r"cannot connect to database .pg. at 127\.0\.0\.1:1") as err:
        run(db.configure(connection_url=url, password="never-shown-pw"))
    assert "never-shown-pw" not in str(err.value)
    with pytest.raises(NotFound):
        run(db.call(Operation.READ, "config/pg"))


def test_unverified_config_is_stored_without_connecting() -> None:
    db = make_db()
    run(db.configure(connection_url="postgresql://u@127.0.0.1:1/test", verify_connection=False))
    assert run(db.call(Operation.READ, "config/pg")) is not None


def test_loopback_database_is_refused_unless_the_operator_allows_it() -> None:
    db = make_db()
    db.engine.egress = EgressPolicy()
    with pytest.raises(InvalidRequest, match="loopback"):
        run(db.configure())


def test_an_unknown_plugin_is_refused_naming_the_ones_there_are() -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match="plugin_name must be one of postgresql-database-plugin, mysql-"):
        run(db.configure(plugin_name="oracle-database-plugin"))


def test_a_mysql_plugin_refuses_a_postgres_url() -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match=r"connection_url must look like .*@tcp\(host:port\)/dbname"):
        run(db.configure(plugin_name="mysql-database-plugin"))


def test_invalid_sql_in_creation_statements_is_a_400_and_nothing_is_half_created() -> None:
    db = make_db()
    ensure_fixture_table()
    before = generated_users()

    async def go() -> None:
        await db.configure()
        await db.reader_role(creation_statements=[*CREATE_READER, "GRANT NONSENSE TO nobody;"])
        await db.creds()

    with pytest.raises(InvalidRequest, match="creation_statements failed, nothing was created"):
        run(go())
    # The CREATE ROLE ran before the bad statement; the one transaction rolled it back.
    assert generated_users() == before


def test_role_not_in_allowed_roles_is_a_400() -> None:
    db = make_db()

    async def go() -> None:
        await db.configure(allowed_roles=["reader"])
        await db.reader_role("writer")
        await db.creds("writer")

    with pytest.raises(InvalidRequest, match="not allowed"):
        run(go())


def test_missing_password_policy_is_a_400_naming_the_field() -> None:
    db = make_db()

    async def missing(policy: str = "") -> str:
        raise NotFound()

    db.system.generate_password = missing

    async def go() -> None:
        await db.configure(password_policy="nope")
        await db.reader_role()
        await db.creds()

    with pytest.raises(InvalidRequest, match="password_policy 'nope' does not exist"):
        run(go())


def test_unknown_username_template_placeholder_is_refused() -> None:
    db = make_db()
    with pytest.raises(InvalidRequest, match="username_template"):
        run(db.configure(username_template="{{bogus}}"))
