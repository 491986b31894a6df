"""Audit entries name the namespace a request was made in."""

from __future__ import annotations

from pathlib import Path

from tests.audit.audit_support import read_entries, requests_and_responses
from tests.support.inprocess import InProcessServer

from strongroom.core.audit.broker import Auditor


def test_audit_entries_carry_the_namespace_id_and_path(ns_server: InProcessServer, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    try:
        assert ns_server.request("PUT", "sys/audit/file", json={
            "type": "file", "options": {"file_path": str(log)}}).status_code == 204
        made = ns_server.request("POST", "sys/namespaces/team").json()["data"]
        assert ns_server.request("POST", "sys/namespaces/app", headers={"X-Vault-Namespace": "team"}).status_code == 200
        assert ns_server.request("GET", "team/app/sys/mounts").status_code == 200
        entries = list(requests_and_responses(read_entries(log)))
        root_side = [e for e in entries if e["request"]["path"] == "sys/namespaces/team"]
        team_side = [e for e in entries if e["request"]["path"] == "sys/namespaces/app"]
        app_side = [e for e in entries if e["request"]["path"] == "sys/mounts"]
        assert [e["request"]["namespace"] for e in root_side] == [{"id": "root"}] * 2
        assert [e["request"]["namespace"] for e in team_side] == [{"id": made["id"], "path": "team/"}] * 2
        assert len(app_side) == 2
        assert app_side[0]["request"]["namespace"]["path"] == "team/app/"
        assert app_side[0]["request"]["namespace"]["id"] not in (made["id"], "root")
    finally:
        assert isinstance(ns_server.core.audit, Auditor)
        ns_server.run(ns_server.core.audit.close())
