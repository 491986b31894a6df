"""The mount tables are one per node, whichever worker changes them and however many change them at once."""

from __future__ import annotations

import asyncio
import threading

from tests.integration.conftest import Node
from tests.integration.process_harness import Api, initialize, unseal, worker_pids
from tests.integration.two_cores import two_workers
from tests.support.server import ServerProcess

from strongroom.core.mounts import SECRET_TABLE_KEY, decode_table
from strongroom.core.seal import KeyEvent
from strongroom.server.node import apply_key_event

MOUNTS = 16


def test_mounts_enabled_at_once_through_both_workers_all_exist(node: Node) -> None:
    codes: dict[int, int] = {}

    def enable(n: int) -> None:
        codes[n] = node.api.request("POST", f"sys/mounts/many-{n}", json={"type": "kv"}).status_code

    threads = [threading.Thread(target=enable, args=(n,)) for n in range(MOUNTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == dict.fromkeys(range(MOUNTS), 204)

    pids = node.workers()
    for pid in pids:
        with node.api.pinned(pid, pids) as client:
            mounts = client.request("GET", "sys/mounts").json()["data"]
            assert {f"many-{n}/" for n in range(MOUNTS)} <= set(mounts), f"worker {pid}: {sorted(mounts)}"


def test_every_worker_reports_the_same_builtin_mounts_after_the_first_unseal(server: ServerProcess) -> None:
    api = Api(server.address)
    pids = worker_pids(server, 2)
    keys = initialize(api)
    unseal(api, keys)
    seen = []
    for pid in pids:
        with api.pinned(pid, pids) as client:
            auth = client.request("GET", "sys/auth", token=keys.root_token).json()["data"]
            mounts = client.request("GET", "sys/mounts", token=keys.root_token).json()["data"]
            seen.append((auth["token/"]["accessor"], auth["token/"]["uuid"], mounts["sys/"]["uuid"]))
    assert seen[0] == seen[1]


# -- the same races, interleaved at the worst step (see two_cores) ---------------------------------


async def enable_through_both_with_a_between_bs_read_and_write() -> list[str]:
    workers = await two_workers()
    await workers.unseal_b()

    async def enable_through_a() -> None:
        await workers.a.mounts.enable("secret", "from-a", "kv")

    workers.racing.before_write(SECRET_TABLE_KEY, enable_through_a)
    await workers.b.mounts.enable("secret", "from-b", "kv")
    workers.racing.assert_raced()
    await workers.a.mounts.load()
    return [entry.path for entry in workers.a.mounts.entries("secret")]


def test_mount_enabled_by_another_worker_between_read_and_write_of_the_table_is_kept() -> None:
    paths = asyncio.run(enable_through_both_with_a_between_bs_read_and_write())
    assert {"from-a/", "from-b/"} <= set(paths)


async def first_unseal_of_both_with_a_between_bs_read_and_write() -> tuple[set[str], set[str], set[str]]:
    workers = await two_workers(unseal_a=False)

    async def a_unseals() -> None:
        await apply_key_event(workers.a, KeyEvent("unsealed", workers.root_key))

    workers.racing.before_write(SECRET_TABLE_KEY, a_unseals)
    await workers.unseal_b()
    workers.racing.assert_raced()
    stored = {entry.uuid for entry in decode_table(await workers.a.barrier.get(SECRET_TABLE_KEY) or b"")}
    in_a = {entry.uuid for entry in workers.a.mounts.entries("secret")}
    in_b = {entry.uuid for entry in workers.b.mounts.entries("secret")}
    return stored, in_a, in_b


def test_workers_unsealing_for_the_first_time_together_agree_on_the_builtin_mounts() -> None:
    stored, in_a, in_b = asyncio.run(first_unseal_of_both_with_a_between_bs_read_and_write())
    assert in_a == stored
    assert in_b == stored
