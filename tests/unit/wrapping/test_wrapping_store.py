"""The wrapping store without HTTP: real tokens, single use, expiry, and the race between two workers."""

from __future__ import annotations

import asyncio

import pytest
from wrapping_harness import MAX_TTL, fresh, node, run

from strongroom.core.wrapping import NOT_VALID, WRAPPING_POLICY, is_wrapping_token
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Auth, Response
from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend


def test_the_wrapping_token_is_a_real_single_use_orphan_token_with_only_the_wrapping_policy() -> None:
    async def scenario() -> None:
        _, clock, n = fresh()
        info = await n.wrapping.wrap(Response(data={"k": "v"}), ttl=60, creation_path="secret/data/x")
        entry = await n.tokens.lookup(info.token)
        assert entry is not None
        assert is_wrapping_token(entry)
        assert entry.policies == (WRAPPING_POLICY,)
        assert entry.num_uses == 1
        assert entry.ttl == 60
        assert entry.explicit_max_ttl == 60
        assert entry.orphan
        assert not entry.renewable
        assert entry.accessor == info.accessor
        assert entry.path == "secret/data/x"
        assert info.creation_time == clock()

    run(scenario())


def test_unwrap_hands_the_answer_out_once() -> None:
    async def scenario() -> None:
        _, _, n = fresh()
        info = await n.wrapping.wrap(Response(data={"k": "v"}, warnings=["w"]), ttl=60, creation_path="p")
        first = await n.wrapping.unwrap(info.token)
        assert first.data == {"k": "v"}
        assert first.warnings == ["w"]
        with pytest.raises(InvalidRequest, match=NOT_VALID):
            await n.wrapping.unwrap(info.token)
        assert await n.tokens.lookup(info.token) is None

    run(scenario())


def test_lookup_does_not_consume() -> None:
    async def scenario() -> None:
        _, _, n = fresh()
        info = await n.wrapping.wrap(Response(data={"k": "v"}), ttl=90, creation_path="auth/approle/role/r/secret-id")
        for _ in range(3):
            record = await n.wrapping.lookup(info.token)
            assert (record.creation_ttl, record.creation_path) == (90, "auth/approle/role/r/secret-id")
        assert (await n.wrapping.unwrap(info.token)).data == {"k": "v"}
        with pytest.raises(InvalidRequest, match=NOT_VALID):
            await n.wrapping.lookup(info.token)

    run(scenario())


def test_an_expired_wrapping_token_fails_and_its_answer_is_deleted() -> None:
    async def scenario() -> None:
        storage, clock, n = fresh()
        info = await n.wrapping.wrap(Response(data={"k": "v"}), ttl=30, creation_path="p")
        assert await storage.list("wrapping/")
        clock.advance(31)
        with pytest.raises(InvalidRequest, match=NOT_VALID):
            await n.wrapping.unwrap(info.token)
        await n.tokens.tidy()
        assert await storage.list("wrapping/") == []

    run(scenario())


def test_a_revoked_wrapping_token_takes_its_answer_with_it() -> None:
    async def scenario() -> None:
        storage, _, n = fresh()
        info = await n.wrapping.wrap(Response(data={"k": "v"}), ttl=30, creation_path="p")
        entry = await n.tokens.lookup(info.token)
        assert entry is not None
        await n.tokens.revoke_tree(entry)
        assert await storage.list("wrapping/") == []

    run(scenario())


def test_a_wrap_ttl_above_the_system_maximum_is_capped() -> None:
    async def scenario() -> None:
        _, _, n = fresh()
        info = await n.wrapping.wrap(Response(data={}), ttl=MAX_TTL * 10, creation_path="p")
        assert info.ttl == MAX_TTL
        assert (await n.wrapping.lookup(info.token)).creation_ttl == MAX_TTL

    run(scenario())


@pytest.mark.parametrize("token", ["", "hvs.not-a-token", "x" * 5000])
def test_anything_but_a_live_wrapping_token_is_not_valid(token: str) -> None:
    async def scenario() -> None:
        _, _, n = fresh()
        with pytest.raises(InvalidRequest, match=NOT_VALID):
            await n.wrapping.unwrap(token)

    run(scenario())


def test_an_ordinary_token_is_not_a_wrapping_token() -> None:
    async def scenario() -> None:
        _, _, n = fresh()
        root, _ = await n.tokens.create_root()
        with pytest.raises(InvalidRequest, match=NOT_VALID):
            await n.wrapping.unwrap(root)
        with pytest.raises(InvalidRequest, match=NOT_VALID):
            await n.wrapping.lookup(root)

    run(scenario())


def test_storage_never_holds_the_wrapping_token() -> None:
    async def scenario() -> None:
        storage, _, n = fresh()
        info = await n.wrapping.wrap(Response(data={"k": "v"}), ttl=60, creation_path="p")
        for key in await _all_keys(storage, ""):
            value = await storage.get(key)
            assert info.token not in key
            assert value is not None
            assert info.token.encode() not in value

    run(scenario())


def test_a_wrapped_login_keeps_its_auth_and_names_the_wrapped_accessor() -> None:
    async def scenario() -> None:
        _, _, n = fresh()
        auth = Auth(policies=["default"], client_token="hvs.inner", accessor="acc-inner", ttl=60,
                    internal_data={"backend-only": "x"})
        info = await n.wrapping.wrap(Response(auth=auth), ttl=60, creation_path="auth/approle/login")
        assert info.wrapped_accessor == "acc-inner"
        out = await n.wrapping.unwrap(info.token)
        assert out.auth is not None
        assert (out.auth.client_token, out.auth.accessor, out.auth.policies) == ("hvs.inner", "acc-inner", ["default"])
        assert out.auth.internal_data == {}

    run(scenario())


class _InStep(InmemBackend):
    """Shared storage where the first ``readers`` reads of a wrapped answer wait for each other.

    So both workers have read the same version before either commits its take: only the
    conditional delete can stop the second one (its retry then finds the answer gone).
    """

    def __init__(self, readers: int) -> None:
        super().__init__()
        self._gate = asyncio.Barrier(readers)
        self.waiting_reads = 0

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        found = await super().get_with_version(key)
        if self.waiting_reads > 0 and key.startswith("wrapping/"):
            self.waiting_reads -= 1
            await self._gate.wait()
        return found


def test_of_two_workers_unwrapping_at_once_exactly_one_gets_the_answer() -> None:
    async def scenario() -> None:
        storage = _InStep(readers=2)
        clock = ManualClock()
        a, b = node(storage, clock), node(storage, clock)
        info = await a.wrapping.wrap(Response(data={"k": "v"}), ttl=60, creation_path="p")
        storage.waiting_reads = 2
        results = await asyncio.gather(a.wrapping.unwrap(info.token), b.wrapping.unwrap(info.token),
                                       return_exceptions=True)
        winners = [r for r in results if isinstance(r, Response)]
        losers = [r for r in results if isinstance(r, InvalidRequest)]
        assert len(winners) == 1, results
        assert len(losers) == 1, results
        assert winners[0].data == {"k": "v"}
        assert NOT_VALID in str(losers[0])

    run(scenario())


async def _all_keys(storage: InmemBackend, prefix: str) -> list[str]:
    out: list[str] = []
    for name in await storage.list(prefix):
        if name.endswith("/"):
            out.extend(await _all_keys(storage, prefix + name))
        else:
            out.append(prefix + name)
    return out
