"""Leases survive a restart (a new Core over the same storage) and two processes sharing one SQLite file
revoke each due lease exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from leases_harness import Target, factory, issue, make_setup
from tests.support.inprocess import InProcessServer

from strongroom.core.leases import LeaseConfig
from strongroom.sdk.system import ManualClock
from strongroom.storage.sqlite import SQLiteBackend


def _server(clock: ManualClock, target: Target, physical: InProcessServer | None = None) -> InProcessServer:
    srv = InProcessServer(clock=clock, physical=physical.physical if physical else None)
    srv.core.registry.secrets["leasetest"] = factory(target)
    return srv


def test_pending_expirations_fire_on_time_after_a_restart() -> None:
    clock, target = ManualClock(), Target()
    first = _server(clock, target)
    try:
        first.init_and_unseal()
        first.request("POST", "sys/mounts/fake", json={"type": "leasetest"})
        soon = first.request("POST", "fake/creds/soon", json={"ttl": "60s"}).json()["lease_id"]
        first.request("POST", "fake/creds/later", json={"ttl": "2h"})
    finally:
        first.close()
    clock.advance(600)  # the node was down while "soon" fell due
    second = _server(clock, target, first)
    try:
        second.run(second.seal.unseal_with_keys(first.unseal_keys))
        second.root_token = first.root_token
        second.run(second.core.leases.expire_due())
        assert target.revoked == ["soon-1"]
        assert second.request("PUT", "sys/leases/lookup", json={"lease_id": soon}).status_code == 400
        clock.advance(7200)
        second.run(second.core.leases.expire_due())
        assert target.revoked == ["soon-1", "later-2"]
    finally:
        second.close()


def test_two_processes_sharing_one_sqlite_file_revoke_each_due_lease_exactly_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock, target = ManualClock(), Target()
        db = str(tmp_path / "leases.db")
        stores = [SQLiteBackend(db), SQLiteBackend(db)]
        for store in stores:
            await store.open()
        try:
            config = LeaseConfig(batch=7)
            a = make_setup(storage=stores[0], clock=clock, target=target, config=config)
            b = make_setup(storage=stores[1], clock=clock, target=target, config=config)
            for i in range(40):
                await issue(a if i % 2 else b, f"u{i}", ttl=60 + (i % 5) * 30)
            clock.advance(400)
            for _ in range(10):
                await asyncio.gather(a.manager.expire_due(), b.manager.expire_due())
            counts = Counter(target.revoked)
            assert len(counts) == 40
            assert set(counts.values()) == {1}
            assert await a.manager.list_ids("fake/creds/") == []
        finally:
            for store in stores:
                await store.close()

    asyncio.run(scenario())


def test_a_lease_claimed_by_another_process_is_left_to_it_until_the_claim_lapses() -> None:
    async def scenario() -> None:
        clock, target = ManualClock(), Target()
        a = make_setup(clock=clock, target=target, config=LeaseConfig(claim_seconds=60))
        b = make_setup(storage=a.storage, clock=clock, target=target)
        lease_id = await issue(a, "db", ttl=10)
        clock.advance(10)
        claimed = await a.manager._claim(lease_id, early=False)  # a takes the claim, then "crashes"
        assert claimed is not None
        await b.manager.expire_due()
        assert target.revoked == []
        clock.advance(60)
        await b.manager.expire_due()
        assert target.revoked == ["db"]

    asyncio.run(scenario())


def test_a_renew_racing_a_revoke_never_brings_the_lease_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock, target = ManualClock(), Target()
        db = str(tmp_path / "storm.db")
        stores = [SQLiteBackend(db), SQLiteBackend(db)]
        for store in stores:
            await store.open()
        try:
            a = make_setup(storage=stores[0], clock=clock, target=target)
            b = make_setup(storage=stores[1], clock=clock, target=target)
            for round_ in range(15):
                lease_id = await issue(a, f"u{round_}", ttl=300)
                outcomes = await asyncio.gather(
                    a.manager.renew(lease_id, 600), b.manager.revoke(lease_id),
                    b.manager.renew(lease_id, 900), a.manager.revoke(lease_id),
                    return_exceptions=True,
                )
                assert all(not isinstance(o, Exception) or "renewable" in str(o) for o in outcomes), outcomes
                assert await a.manager.lookup(lease_id) is None
                assert await b.manager.storage.list("due/") == []
            assert sorted(Counter(target.revoked).values()) == [1] * 15
        finally:
            for store in stores:
                await store.close()

    asyncio.run(scenario())
