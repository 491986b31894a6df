"""The node's log (at debug level) never holds an unseal key, a token or a secret value, whichever
process wrote it: supervisor or worker, through init, unseal, seal, rotation and worker restarts,
where shares and the root key travel between processes."""

from __future__ import annotations

import base64
import os
import signal

from tests.integration.conftest import WORKERS, Node
from tests.integration.process_harness import children_of, is_alive, supervisor_pid, unseal, wait_until

CANARY = "canary-7f3a9c-never-logged"


def test_supervisor_and_worker_logs_hold_no_key_token_or_secret(node: Node) -> None:
    api = node.api
    assert api.request("POST", "secret/data/canary", json={"data": {"value": CANARY}}).status_code == 200
    assert api.request("POST", "secret/data/canary", json={"data": {"value": CANARY}, "options": {"cas": 0}}
                       ).status_code == 400
    child = api.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]["client_token"]

    victim = node.workers()[0]
    os.kill(victim, signal.SIGKILL)  # the replacement is handed the root key over its channel
    wait_until(lambda: not is_alive(victim), 5, "the killed worker to die")
    wait_until(lambda: len(children_of(supervisor_pid(node.server))) == WORKERS, 10, "a replacement worker")
    assert api.request("PUT", "sys/rotate").status_code == 204
    assert api.request("PUT", "sys/seal").status_code == 204
    wrong = bytes(reversed(bytes.fromhex(node.keys.keys[2]))).hex()
    api.request("PUT", "sys/unseal", json={"key": wrong})
    api.request("PUT", "sys/unseal", json={"reset": True})
    unseal(api, node.keys)
    assert node.server.stop() == 0

    log = node.server.log_text()
    assert "worker 0 exited" in log or "worker 1 exited" in log  # the log did record the restart
    secrets = {"canary": CANARY, "root token": node.keys.root_token, "child token": child, "wrong share": wrong}
    for n, key in enumerate(node.keys.keys):
        secrets[f"share {n} (hex)"] = key
        secrets[f"share {n} (base64)"] = base64.b64encode(bytes.fromhex(key)).decode()
    leaked = [name for name, value in secrets.items() if value in log]
    assert leaked == []
