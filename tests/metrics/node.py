"""A real two-worker node for metrics tests, with its metrics directory where the test can see it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.integration.process_harness import (
    Api,
    InitKeys,
    PinnedClient,
    enable_kv2,
    initialize,
    unseal,
    worker_pids,
)
from tests.metrics.samples import parse
from tests.support.server import ServerProcess, sqlite_server_process

WORKERS = 2

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class MetricsNode:
    server: ServerProcess
    keys: InitKeys
    api: Api
    runtime_dir: Path

    def workers(self) -> list[int]:
        return worker_pids(self.server, WORKERS)

    def metrics_dir(self) -> Path:
        """The supervisor's per-node directory (it creates exactly one under the runtime dir)."""
        found = list(self.runtime_dir.glob("strongroom-metrics-*"))
        assert len(found) == 1, found
        return found[0]

    def scrape(self, via: PinnedClient | None = None, token: str | None = None) -> Samples:
        """The parsed exposition, from whichever worker takes the connection or through ``via``."""
        return parse(self.scrape_text(via, token))

    def scrape_text(self, via: PinnedClient | None = None, token: str | None = None, fmt: str = "prometheus") -> str:
        client: Api | PinnedClient = self.api if via is None else via
        response = client.request("GET", "sys/metrics", token=token, params={"format": fmt} if fmt else None)
        assert response.status_code == 200, response.text
        return response.text


@contextlib.contextmanager
def metrics_node(tmp: Path, extra: str = "", *, initialise: bool = True) -> Iterator[MetricsNode]:
    """A started node (SQLite, two workers); initialised, unsealed, KV v2 at ``secret/`` unless told not to."""
    runtime_dir = tmp / "run"
    runtime_dir.mkdir()
    process = sqlite_server_process(tmp, workers=WORKERS, extra=extra)
    process.env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    process.start()
    try:
        api = Api(process.address)
        keys = InitKeys([], "")
        if initialise:
            keys = initialize(api)
            unseal(api, keys)
            api.token = keys.root_token
            enable_kv2(api)
        yield MetricsNode(process, keys, api, runtime_dir)
    finally:
        process.stop()
