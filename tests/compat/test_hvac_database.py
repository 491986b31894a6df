"""hvac's database secrets API (``client.secrets.database``) against a real dev server process.

The server is started with ``STRONGROOM_DATABASE_ALLOW_LOOPBACK=true`` (the operator
switch that lets connection URLs name loopback addresses) and talks to the real
local MariaDB and PostgreSQL. MariaDB checks passwords, so logins here prove
which password is in force.
"""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import hvac.exceptions
import pymysql
import pytest
from tests.compat.hvac_support import client, unique
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running
from tests.unit.engines.database.db_harness import (
    CREATE_READER,
    MYSQL_READER,
    PG_URL,
    ensure_fixture_table,
    ensure_mysql_fixture_table,
    login,
    my_login,
    my_make_user,
)

MY_URL = "{{username}}:{{password}}@tcp(127.0.0.1:3306)/test"
ROOT_USER = "sr_hvac_root"
STATIC_USER = "sr_hvac_static"


@pytest.fixture(scope="module")
def db_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = dev_server_process(tmp_path_factory.mktemp("db-dev"))
    server.env["STRONGROOM_DATABASE_ALLOW_LOOPBACK"] = "true"
    with running(server):
        yield server


@pytest.fixture
def vault(db_server: ServerProcess) -> hvac.Client:
    return client(db_server.address, ROOT_TOKEN)


@pytest.fixture
def mount(vault: hvac.Client) -> str:
    path = unique("db")
    vault.sys.enable_secrets_engine("database", path=path)
    return path


def configure_mariadb(vault: hvac.Client, mount: str) -> None:
    my_make_user(ROOT_USER, "hvac-root-initial", "GRANT ALL PRIVILEGES ON *.* TO '{{name}}'@'%' WITH GRANT OPTION")
    ensure_mysql_fixture_table()
    vault.secrets.database.configure(name="my", plugin_name="mysql-database-plugin", allowed_roles=["*"],
                                     connection_url=MY_URL, username=ROOT_USER, password="hvac-root-initial",
                                     max_open_connections=2, mount_point=mount)


def test_mariadb_dynamic_credentials_through_hvac(vault: hvac.Client, mount: str) -> None:
    configure_mariadb(vault, mount)
    read = vault.secrets.database.read_connection("my", mount_point=mount)
    assert read["data"]["plugin_name"] == "mysql-database-plugin"
    assert read["data"]["connection_details"]["username"] == ROOT_USER
    assert "hvac-root-initial" not in str(read)
    assert vault.secrets.database.list_connections(mount_point=mount)["data"]["keys"] == ["my"]
    vault.secrets.database.create_role("reader", db_name="my", creation_statements=MYSQL_READER,
                                       default_ttl="10m", max_ttl="1h", mount_point=mount)
    assert vault.secrets.database.read_role("reader", mount_point=mount)["data"]["default_ttl"] == 600
    assert vault.secrets.database.list_roles(mount_point=mount)["data"]["keys"] == ["reader"]
    creds = vault.secrets.database.generate_credentials("reader", mount_point=mount)
    assert creds["lease_duration"] == 600
    username, password = creds["data"]["username"], creds["data"]["password"]
    with my_login(username, password) as conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM db_engine_fixture")
        assert cur.fetchone() == (7,)
    vault.sys.revoke_lease(creds["lease_id"])
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(username, password)
    vault.secrets.database.reset_connection("my", mount_point=mount)
    vault.secrets.database.delete_role("reader", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault.secrets.database.read_role("reader", mount_point=mount)


def test_rotate_root_credentials_through_hvac(vault: hvac.Client, mount: str) -> None:
    configure_mariadb(vault, mount)
    answer = vault.secrets.database.rotate_root_credentials("my", mount_point=mount)
    assert answer.status_code == 204
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(ROOT_USER, "hvac-root-initial", database=None)
    vault.secrets.database.create_role("reader", db_name="my", creation_statements=MYSQL_READER, mount_point=mount)
    creds = vault.secrets.database.generate_credentials("reader", mount_point=mount)  # the engine knows the new one
    my_login(creds["data"]["username"], creds["data"]["password"]).close()
    vault.sys.revoke_lease(creds["lease_id"])


def test_static_roles_through_hvac(vault: hvac.Client, mount: str) -> None:
    configure_mariadb(vault, mount)
    my_make_user(STATIC_USER, "static-initial")
    vault.secrets.database.create_static_role("app", db_name="my", username=STATIC_USER, rotation_statements=None,
                                              rotation_period=3600, mount_point=mount)
    first = vault.secrets.database.get_static_credentials("app", mount_point=mount)["data"]
    assert first["username"] == STATIC_USER
    assert first["rotation_period"] == 3600
    assert 0 < first["ttl"] <= 3600
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(STATIC_USER, "static-initial", database=None)
    my_login(STATIC_USER, first["password"], database=None).close()
    vault.secrets.database.rotate_static_role_credentials("app", mount_point=mount)
    second = vault.secrets.database.get_static_credentials("app", mount_point=mount)["data"]
    assert second["password"] != first["password"]
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        my_login(STATIC_USER, first["password"], database=None)
    my_login(STATIC_USER, second["password"], database=None).close()
    role = vault.secrets.database.read_static_role("app", mount_point=mount)["data"]
    assert role["username"] == STATIC_USER
    assert "password" not in role
    assert vault.secrets.database.list_static_roles(mount_point=mount)["data"]["keys"] == ["app"]
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid cron schedule"):
        vault.write(f"{mount}/static-roles/cron", db_name="my", username=STATIC_USER, rotation_schedule="bogus")
    vault.secrets.database.delete_static_role("app", mount_point=mount)


def test_postgresql_credentials_and_errors_through_hvac(vault: hvac.Client, mount: str) -> None:
    ensure_fixture_table()
    vault.secrets.database.configure(name="pg", plugin_name="postgresql-database-plugin", allowed_roles=["reader"],
                                     connection_url=PG_URL, username="postgres", password="unused-with-trust",
                                     mount_point=mount)
    vault.secrets.database.create_role("reader", db_name="pg", creation_statements=CREATE_READER, mount_point=mount)
    creds = vault.secrets.database.generate_credentials("reader", mount_point=mount)
    with login(creds["data"]["username"], creds["data"]["password"]) as conn:
        assert conn.execute("SELECT v FROM db_engine_fixture").fetchone() == (7,)
    vault.sys.revoke_lease(creds["lease_id"])
    vault.secrets.database.create_role("writer", db_name="pg", creation_statements=CREATE_READER, mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not allowed"):
        vault.secrets.database.generate_credentials("writer", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="cannot connect"):
        vault.secrets.database.configure(name="down", plugin_name="postgresql-database-plugin",
                                         connection_url="postgresql://u:p@127.0.0.1:1/test", mount_point=mount)
