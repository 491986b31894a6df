"""Signals from the real request path (in process): canary reads, bound-CIDR violations, and sys/alerts."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.core.alerts import signals as k
from strongroom.core.alerts.detector import Detector, DetectorSettings
from strongroom.core.alerts.feed import LocalFeed
from strongroom.core.alerts.forwarding import LocalSignals
from strongroom.core.alerts.service import AlertService
from strongroom.core.hooks import RequestRecord
from tests.support.inprocess import InProcessServer


class Records:
    def __init__(self) -> None:
        self.seen: list[RequestRecord] = []

    def observe(self, record: RequestRecord) -> None:
        self.seen.append(record)


@pytest.fixture
def records(server: InProcessServer) -> Records:
    observer = Records()
    server.core.observers.append(observer)
    return observer


@pytest.fixture
def detector(server: InProcessServer) -> AlertService:
    """The single-process wiring: a detector beside the core, no sinks, no delay."""
    service = AlertService(Detector(DetectorSettings()), [], notify_delay=0)
    server.core.observers.append(LocalSignals(service))
    server.core.alert_feed = LocalFeed(service)
    return service


def write_canary(server: InProcessServer, path: str = "prod/db-admin") -> None:
    assert server.request("POST", f"secret/data/{path}", json={"data": {"password": "honey"}}).status_code == 200
    reply = server.request("POST", f"secret/metadata/{path}", json={"custom_metadata": {"canary": "true"}})
    assert reply.status_code == 204


def token_with(server: InProcessServer, policy: str, rules: str = "") -> dict[str, Any]:
    if rules:
        assert server.request("PUT", f"sys/policies/acl/{policy}", json={"policy": rules}).status_code == 204
    reply = server.request("POST", "auth/token/create", json={"policies": [policy]})
    auth: dict[str, Any] = reply.json()["auth"]
    return auth


def test_a_read_of_a_canary_secret_is_tagged_for_observers(server: InProcessServer, records: Records) -> None:
    write_canary(server)
    records.seen.clear()
    reply = server.request("GET", "secret/data/prod/db-admin")
    assert reply.status_code == 200
    assert "canary" not in reply.json()  # the tag is for observers, never for the client
    (read,) = records.seen
    assert read.tags == {"canary": "true"}


@pytest.mark.parametrize(
    "path", ["secret/metadata/prod/db-admin", "secret/subkeys/prod/db-admin", "secret/data/prod/other"]
)
def test_reads_that_reveal_no_canary_data_are_not_tagged(server: InProcessServer, records: Records,
                                                          path: str) -> None:
    write_canary(server)
    server.request("POST", "secret/data/prod/other", json={"data": {"k": "v"}})
    records.seen.clear()
    server.request("GET", path)
    assert records.seen[-1].tags == {}


def test_a_deleted_canary_version_is_not_a_read(server: InProcessServer, records: Records) -> None:
    write_canary(server)
    assert server.request("DELETE", "secret/data/prod/db-admin").status_code == 204
    records.seen.clear()
    assert server.request("GET", "secret/data/prod/db-admin").status_code == 404
    assert records.seen[-1].tags == {}


def test_a_canary_read_raises_an_alert_listed_at_sys_alerts(server: InProcessServer, detector: AlertService) -> None:
    write_canary(server)
    server.request("GET", "secret/data/prod/db-admin")
    server.request("GET", "secret/data/prod/db-admin")
    alerts = server.request("GET", "sys/alerts").json()["data"]["alerts"]
    assert [(a["kind"], a["count"], a["subject"]["path"]) for a in alerts] == [
        (k.CANARY_READ, 2, "secret/data/prod/db-admin")
    ]
    assert "honey" not in str(alerts)


def test_a_token_used_outside_its_bound_cidrs_is_refused_and_flagged(
    server: InProcessServer, records: Records, detector: AlertService
) -> None:
    role = {"allowed_policies": ["default"], "token_bound_cidrs": ["10.0.0.0/8"]}
    assert server.request("POST", "auth/token/roles/pinned", json=role).status_code == 204
    auth = server.request("POST", "auth/token/create/pinned", json={}).json()["auth"]
    records.seen.clear()
    # The in-process client connects from 127.0.0.1, outside 10.0.0.0/8.
    assert server.request("GET", "auth/token/lookup-self", token=auth["client_token"]).status_code == 403
    (refused,) = records.seen
    assert refused.tags == {"bound_cidr_violation": "1"}
    assert refused.accessor == auth["accessor"]
    (alert,) = server.request("GET", "sys/alerts").json()["data"]["alerts"]
    assert (alert["kind"], alert["subject"]["accessor"]) == (k.BOUND_CIDR_VIOLATION, auth["accessor"])


def test_a_bogus_token_is_a_plain_denial(server: InProcessServer, records: Records) -> None:
    records.seen.clear()
    assert server.request("GET", "secret/data/x", token="s.bogus").status_code == 403
    (refused,) = records.seen
    assert (refused.permission_denied, refused.tags, refused.accessor) == (True, {}, "")


def test_sys_alerts_is_an_ordinary_acl_path(server: InProcessServer, detector: AlertService) -> None:
    nobody = token_with(server, "default")
    assert server.request("GET", "sys/alerts", token=nobody["client_token"]).status_code == 403
    operator = token_with(server, "alert-reader", 'path "sys/alerts" { capabilities = ["read"] }')
    reply = server.request("GET", "sys/alerts", token=operator["client_token"])
    assert reply.status_code == 200
    # The refused read above is a denial signal (below the threshold: no alert yet).
    assert reply.json()["data"]["alerts"] == []


def test_sys_alerts_filters_by_kind_and_limits(server: InProcessServer, detector: AlertService) -> None:
    for name in ("a", "b", "c"):
        write_canary(server, name)
        server.request("GET", f"secret/data/{name}")
    assert len(server.request("GET", "sys/alerts", params={"limit": 2}).json()["data"]["alerts"]) == 2
    paths = [a["subject"]["path"] for a in server.request("GET", "sys/alerts").json()["data"]["alerts"]]
    assert paths == ["secret/data/c", "secret/data/b", "secret/data/a"]
    assert server.request("GET", "sys/alerts", params={"kind": k.SEALED}).json()["data"]["alerts"] == []
    assert server.request("GET", "sys/alerts", params={"kind": "comet"}).status_code == 400
    assert server.request("GET", "sys/alerts", params={"limit": 0}).status_code == 400


def test_sys_alerts_says_so_when_no_detector_runs(server: InProcessServer) -> None:
    reply = server.request("GET", "sys/alerts")
    assert reply.status_code == 500
    assert reply.json() == {"errors": ["no alert detector runs in this server"]}
