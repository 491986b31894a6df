"""What the outside sees of database rotations, through a real core against the real MariaDB: event
subscribers (``sys/events/subscribe``) see every static-role rotation, failures are counted in the
rotation metrics and raise one ``rotation_failed`` alert, and no password reaches any of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from db_harness import MYSQL_URL, my_admin, my_login, my_make_user
from tests.metrics.samples import local
from tests.support.events import collect
from tests.support.inprocess import InProcessServer
from tests.support.sqlite_cores import close_core, sqlite_core

from strongroom.core import alerts
from strongroom.core.alerts.signals import ROTATION_FAILED, Signal
from strongroom.sdk.scheduling import ROTATION_ALERT_AFTER
from strongroom.sdk.system import ManualClock

USER = "sr_observed_app"


@pytest.fixture
def srv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessServer]:
    monkeypatch.setenv("STRONGROOM_DATABASE_ALLOW_LOOPBACK", "true")
    my_make_user(USER, "observed-initial")

    def setup(server: InProcessServer) -> None:
        assert server.request("POST", "sys/mounts/database", json={"type": "database"}).status_code == 204
        ok = server.request("POST", "database/config/my", json={
            "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL, "username": "root",
            "password": "", "allowed_roles": "*"})
        assert ok.status_code == 204, ok.text

    server = sqlite_core(tmp_path / "db.sqlite", ManualClock(), setup=setup)
    yield server
    server.run(server.core.events.aclose("test over"))
    server.request("PUT", "sys/seal")  # closes the mount's pooled connections
    close_core(server)


def clock(server: InProcessServer) -> ManualClock:
    assert isinstance(server.clock, ManualClock)
    return server.clock


def password(server: InProcessServer) -> str:
    reply = server.request("GET", "database/static-creds/app")
    assert reply.status_code == 200, reply.text
    return str(reply.json()["data"]["password"])


def test_a_subscriber_sees_every_static_role_rotation_filtered_by_path_and_never_a_password(
        srv: InProcessServer) -> None:
    sub = srv.run(srv.core.subscribe_events(srv.root_token, "", "database/*",
                                            path_prefix="database/static-creds/"))
    ok = srv.request("POST", "database/static-roles/app", json={"db_name": "my", "username": USER,
                                                                "rotation_period": "1h"})
    assert ok.status_code == 204, ok.text
    passwords = [password(srv)]
    assert srv.request("POST", "database/rotate-role/app").status_code == 204
    passwords.append(password(srv))
    # A root rotation publishes under config/: outside the prefix. (A dedicated user: never rotate the shared root.)
    my_make_user("sr_observed_root", "observed-root-pw", "GRANT CREATE USER ON *.* TO '{{name}}'@'%'")
    ok = srv.request("POST", "database/config/own", json={
        "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL.replace("/test", "/"),
        "username": "sr_observed_root",
        "password": "observed-root-pw", "allowed_roles": "*"})
    assert ok.status_code == 204, ok.text
    assert srv.request("POST", "database/rotate-root/own").status_code == 204
    # Read these before the test clock jumps an hour: the event log is tailed over a window of
    # recent seconds of the node's clock, and a jump past it would leave them unread.
    events = collect(srv, sub, 2)
    clock(srv).advance(3600 + 60)
    srv.run(srv.core.scheduler.run_due())
    passwords.append(password(srv))
    assert len(set(passwords)) == 3
    events += collect(srv, sub, 1)
    assert [e["data"]["event_type"] for e in events] == ["database/static-rotate"] * 3
    assert {e["data"]["event"]["metadata"]["path"] for e in events} == {"database/static-creds/app"}
    assert all(e["data"]["event"]["metadata"]["username"] == USER for e in events)
    dumped = orjson.dumps(events)
    assert not any(p.encode() in dumped for p in passwords)
    my_login(USER, passwords[-1], database=None).close()


def test_failed_scheduled_rotations_are_counted_and_raise_one_alert_then_a_success_is_counted(
        srv: InProcessServer) -> None:
    ok = srv.request("POST", "database/static-roles/app", json={"db_name": "my", "username": USER,
                                                                "rotation_period": "1h"})
    assert ok.status_code == 204, ok.text
    labels = {"kind": "database-static-role", "mount_point": "database/"}
    before = {o: local("strongroom_rotation_total", **labels, outcome=o) for o in ("success", "failure")}
    signals: list[Signal] = []
    alerts.install(signals.append)
    try:
        with my_admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER '{USER}'@'%'")  # every rotation now fails: the user is gone
        clock(srv).advance(3600)
        for _ in range(ROTATION_ALERT_AFTER + 1):
            clock(srv).advance(3600)  # past any backoff
            srv.run(srv.core.scheduler.run_due())
        my_make_user(USER, "recreated-by-hand")
        clock(srv).advance(3600)
        srv.run(srv.core.scheduler.run_due())
    finally:
        alerts.install(None)
    failures = ROTATION_ALERT_AFTER + 1
    assert local("strongroom_rotation_total", **labels, outcome="failure") - before["failure"] == failures
    assert local("strongroom_rotation_total", **labels, outcome="success") - before["success"] == 1
    raised = [s for s in signals if s.kind == ROTATION_FAILED]
    assert [s.details["failures"] for s in raised] == [str(n) for n in range(ROTATION_ALERT_AFTER, failures + 1)]
    assert {s.path for s in raised} == {"database/static-roles/app"}
    assert all("does not exist" in s.details.get("error", "does not exist") for s in raised)
    my_login(USER, password(srv), database=None).close()
    # The role's rotation history, newest first: the success, the failures with their reason, the creation.
    history = srv.request("GET", "database/static-roles/app").json()["data"]["rotation_history"]
    assert [(h["trigger"], h["outcome"]) for h in history] == (
        [("scheduled", "success")] + [("scheduled", "failure")] * failures + [("create", "success")])
    assert all(f"database user '{USER}' does not exist" in h["error"] for h in history[1:-1])
    assert history[0]["error"] == history[-1]["error"] == ""
    assert all(h["time"].endswith("Z") for h in history)


def test_manual_rotations_and_root_rotations_are_kept_in_their_history_without_a_password(
        srv: InProcessServer) -> None:
    ok = srv.request("POST", "database/static-roles/app", json={"db_name": "my", "username": USER,
                                                                "rotation_period": "1h"})
    assert ok.status_code == 204, ok.text
    assert srv.request("POST", "database/rotate-role/app").status_code == 204
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute(f"DROP USER '{USER}'@'%'")
    assert srv.request("POST", "database/rotate-role/app").status_code == 400
    read = srv.request("GET", "database/static-roles/app")
    history = read.json()["data"]["rotation_history"]
    assert [(h["trigger"], h["outcome"]) for h in history] == [
        ("manual", "failure"), ("manual", "success"), ("create", "success")]
    assert history[0]["error"] == f"database user '{USER}' does not exist"
    assert password(srv) not in read.text
    # Root rotations of a connection (a dedicated user: never the shared root) in the config's history.
    my_make_user("sr_observed_root", "observed-root-pw", "GRANT CREATE USER ON *.* TO '{{name}}'@'%'")
    ok = srv.request("POST", "database/config/own", json={
        "plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL.replace("/test", "/"),
        "username": "sr_observed_root", "password": "observed-root-pw", "allowed_roles": "*"})
    assert ok.status_code == 204, ok.text
    assert srv.request("POST", "database/rotate-root/own").status_code == 204
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("DROP USER 'sr_observed_root'@'%'")
    srv.request("POST", "database/reset/own")  # pooled connections of the dropped user end here
    failed = srv.request("POST", "database/rotate-root/own")
    assert failed.status_code >= 400
    read = srv.request("GET", "database/config/own")
    root_history = read.json()["data"]["root_rotation_history"]
    assert [(h["trigger"], h["outcome"]) for h in root_history] == [("manual", "failure"), ("manual", "success")]
    assert "cannot connect to database 'own'" in root_history[0]["error"]
    assert "observed-root-pw" not in read.text
