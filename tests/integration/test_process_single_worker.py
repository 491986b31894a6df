"""``workers = 1`` on SQLite: one process owns the seal and serves; the same guarantees hold."""

from __future__ import annotations

from pathlib import Path

from tests.integration.process_harness import (
    Api,
    children_of,
    enable_kv2,
    initialize,
    port_is_free,
    server_port,
    supervisor_pid,
    unseal,
    wait_until,
)
from tests.support.server import sqlite_server_process

WRITES = 20
KEPT_VERSIONS = 10  # KV v2's default max_versions


def test_single_process_node_writes_reads_back_and_keeps_acknowledged_writes_across_kill_9(tmp_path: Path) -> None:
    server = sqlite_server_process(tmp_path, workers=1)
    server.start()
    try:
        assert children_of(supervisor_pid(server)) == []  # no worker processes: it serves itself
        api = Api(server.address)
        keys = initialize(api)
        unseal(api, keys)
        api.token = keys.root_token
        enable_kv2(api)

        for n in range(WRITES):
            written = api.request("POST", "secret/data/single", json={"data": {"n": n}, "options": {"cas": n}})
            assert written.status_code == 200, written.text
            assert written.json()["data"]["version"] == n + 1
            read = api.request("GET", "secret/data/single")
            assert read.json()["data"]["data"] == {"n": n}
        stale = api.request("POST", "secret/data/single", json={"data": {"n": -1}, "options": {"cas": 1}})
        assert stale.status_code == 400
        assert "check-and-set parameter did not match the current version" in stale.text

        server.kill9()
        wait_until(lambda: port_is_free(server_port(server)), 5, "the port to be free")
        server.start()
        assert api.request("GET", "secret/data/single").status_code == 503
        unseal(api, keys)
        for version in range(WRITES - KEPT_VERSIONS + 1, WRITES + 1):
            read = api.request("GET", "secret/data/single", params={"version": version})
            assert read.status_code == 200, read.text
            assert read.json()["data"]["data"] == {"n": version - 1}
    finally:
        exit_code = server.stop()
    assert exit_code == 0
