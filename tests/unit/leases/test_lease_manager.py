"""The expiration manager without HTTP: terms, renewal caps, revocation, expiry, retries, tidy."""

from __future__ import annotations

import pytest
from leases_harness import MOUNT, RENEW_TTL, issue, make_setup, run

from strongroom.core.leases import LeaseConfig
from strongroom.core.leases.schedule import DueIndex, due_key
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import LeaseOptions


def test_lease_id_is_mount_and_path_and_a_random_suffix() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "web")
        assert lease_id.startswith("fake/creds/web/")
        assert len(lease_id.rsplit("/", 1)[1]) == 32
        assert lease_id != await issue(s, "web")

    run(scenario())


def test_register_fills_in_lease_id_and_clamped_ttl() -> None:
    async def scenario() -> None:
        s = make_setup(system_max=7200)
        terms = LeaseOptions(ttl=99999, internal={"username": "u"})
        entry = await s.manager.register(MOUNT, "creds/web", terms, s.system)
        assert terms.lease_id == entry.lease_id
        assert terms.ttl == 7200

    run(scenario())


def test_zero_ttl_takes_the_mount_default() -> None:
    async def scenario() -> None:
        s = make_setup(default_ttl=300)
        entry = await s.manager.lookup(await issue(s))
        assert entry is not None
        assert entry.expire_time - entry.issue_time == 300

    run(scenario())


def test_mount_tune_max_wins_over_system_max_and_caps_the_backend() -> None:
    async def scenario() -> None:
        s = make_setup(system_max=86400, mount_max=600)
        entry = await s.manager.lookup(await issue(s, ttl=3600, max_ttl=7200))
        assert entry is not None
        assert entry.expire_time - entry.issue_time == 600
        assert entry.max_expire_time - entry.issue_time == 600

    run(scenario())


def test_renewal_never_extends_past_max_ttl_from_issue() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, ttl=100, max_ttl=1000)
        s.clock.advance(90)
        renewed = await s.manager.renew(lease_id, 5000)
        assert renewed.expire_time == renewed.issue_time + 1000
        s.clock.advance(905)
        renewed = await s.manager.renew(lease_id, 0)
        assert renewed.expire_time == renewed.issue_time + 1000

    run(scenario())


def test_renewal_without_increment_takes_the_backends_ttl() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, ttl=60)
        renewed = await s.manager.renew(lease_id, 0)
        assert renewed.expire_time == s.clock() + RENEW_TTL
        assert renewed.last_renewal == s.clock()

    run(scenario())


def test_non_renewable_lease_refuses_renewal() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, renewable=False)
        with pytest.raises(InvalidRequest, match="not renewable"):
            await s.manager.renew(lease_id, 60)

    run(scenario())


def test_expired_lease_is_revoked_by_the_loop_and_cannot_renew() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "db", ttl=120)
        assert await s.manager.expire_due() == 0
        s.clock.advance(119)
        await s.manager.expire_due()
        assert s.target.revoked == []
        s.clock.advance(1)
        with pytest.raises(InvalidRequest):
            await s.manager.renew(lease_id, 60)
        await s.manager.expire_due()
        assert s.target.revoked == ["db"]
        assert await s.manager.lookup(lease_id) is None
        await s.manager.expire_due()
        assert s.target.revoked == ["db"]

    run(scenario())


def test_revoke_calls_the_backend_once_and_deletes_the_lease() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "db")
        assert (await s.manager.revoke(lease_id)).revoked
        assert s.target.revoked == ["db"]
        assert await s.manager.lookup(lease_id) is None
        assert not (await s.manager.revoke(lease_id)).revoked
        assert s.target.revoked == ["db"]
        s.clock.advance(86400 * 2)
        await s.manager.expire_due()
        assert s.target.revoked == ["db"]

    run(scenario())


def test_failed_revocation_keeps_the_lease_retries_with_backoff_and_marks_irrevocable() -> None:
    async def scenario() -> None:
        s = make_setup(config=LeaseConfig(backoff_base=10, backoff_cap=100, irrevocable_after=3))
        lease_id = await issue(s, "db", ttl=60)
        s.target.down = True
        s.clock.advance(60)
        await s.manager.expire_due()
        entry = await s.manager.lookup(lease_id)
        assert entry is not None
        assert (entry.attempts, entry.next_attempt - s.clock(), entry.irrevocable) == (1, 10, False)
        assert entry.last_error == "TargetDown"
        s.clock.advance(9)
        await s.manager.expire_due()
        assert (await s.manager.lookup(lease_id)).attempts == 1  # type: ignore[union-attr]
        s.clock.advance(1)
        await s.manager.expire_due()
        s.clock.advance(20)
        await s.manager.expire_due()
        entry = await s.manager.lookup(lease_id)
        assert entry is not None
        assert entry.attempts == 3
        assert entry.irrevocable
        with pytest.raises(InvalidRequest):
            await s.manager.renew(lease_id, 60)
        s.target.down = False
        s.clock.advance(100)
        await s.manager.expire_due()
        assert s.target.revoked == ["db"]
        assert await s.manager.lookup(lease_id) is None

    run(scenario())


def test_early_revoke_while_target_is_down_is_retried_by_the_loop() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "db", ttl=3600)
        s.target.down = True
        result = await s.manager.revoke(lease_id)
        assert not result.revoked
        assert result.error == "TargetDown"
        s.target.down = False
        s.clock.advance(10)
        await s.manager.expire_due()
        assert s.target.revoked == ["db"]

    run(scenario())


def test_revoke_force_deletes_without_calling_the_backend() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "db")
        assert await s.manager.revoke_force("fake/creds/") == 1
        assert await s.manager.lookup(lease_id) is None
        s.clock.advance(86400 * 2)
        await s.manager.expire_due()
        assert s.target.revoked == []

    run(scenario())


def test_revoke_prefix_revokes_everything_under_it_and_nothing_else() -> None:
    async def scenario() -> None:
        s = make_setup()
        for name in ("a", "a", "b"):
            await issue(s, name)
        await s.manager.revoke_prefix("fake/creds/a")
        assert s.target.revoked == ["a", "a"]
        assert await s.manager.list_ids("fake/creds/") == ["b/"]

    run(scenario())


def test_revoking_a_token_revokes_only_its_leases() -> None:
    async def scenario() -> None:
        s = make_setup()
        await issue(s, "mine", token_hash="h1")
        await issue(s, "other", token_hash="h2")
        await s.manager.revoke_token("h1")
        assert s.target.revoked == ["mine"]
        assert await s.manager.storage.list("token/") == ["h2/"]

    run(scenario())


def test_list_ids_walks_lease_ids_like_a_tree() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "web")
        assert await s.manager.list_ids("") == ["fake/"]
        assert await s.manager.list_ids("fake/creds") == ["web/"]
        assert await s.manager.list_ids("fake/creds/web/") == [lease_id.rsplit("/", 1)[1]]

    run(scenario())


def test_tidy_restores_a_lost_index_entry_and_drops_dangling_ones() -> None:
    async def scenario() -> None:
        s = make_setup()
        lease_id = await issue(s, "db", ttl=60)
        entry = await s.manager.lookup(lease_id)
        assert entry is not None
        await s.storage.delete(due_key(entry.due_time, lease_id))
        await s.storage.put(due_key(entry.due_time, "fake/creds/ghost/x"), b"")
        report = await s.manager.tidy()
        assert report == {"leases": 1, "reindexed": 1, "index_entries_dropped": 1}
        s.clock.advance(60)
        await s.manager.expire_due()
        assert s.target.revoked == ["db"]

    run(scenario())


def test_overdue_leases_are_caught_up_in_bounded_batches() -> None:
    async def scenario() -> None:
        s = make_setup(config=LeaseConfig(batch=10))
        for i in range(25):
            await issue(s, f"u{i}", ttl=60 + i * 7200)
        s.clock.advance(30 * 86400)
        assert await s.manager.expire_due() == 10
        assert len(s.target.revoked) == 10
        await s.manager.expire_due()
        await s.manager.expire_due()
        assert len(s.target.revoked) == 25
        assert await s.manager.expire_due() == 0

    run(scenario())


def test_idle_tick_lists_only_the_current_hour_and_minute() -> None:
    async def scenario() -> None:
        s = make_setup()
        for i in range(50):
            await issue(s, f"u{i}", ttl=3600 * (i + 2))
        calls: list[str] = []
        real_list = s.storage.list

        async def counting(prefix: str) -> list[str]:
            calls.append(prefix)
            return await real_list(prefix)

        s.storage.list = counting  # type: ignore[method-assign]
        index = DueIndex(s.storage)
        await index.due(s.clock(), 100)
        calls.clear()
        await index.due(s.clock() + 1, 100)
        assert len(calls) <= 2

    run(scenario())


def test_repr_of_a_lease_shows_no_backend_internals() -> None:
    async def scenario() -> None:
        s = make_setup()
        terms = LeaseOptions(internal={"username": "canary-user-7f3a"})
        entry = await s.manager.register(MOUNT, "creds/web", terms, s.system)
        assert "canary-user-7f3a" not in repr(entry)
        assert "canary-user-7f3a" not in repr(entry.secret_lease())

    run(scenario())
