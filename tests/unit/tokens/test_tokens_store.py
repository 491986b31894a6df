"""The token store: minting, lookup, expiry, renewal, limited uses, accessors, storage hygiene."""

from __future__ import annotations

import re

import pytest
from tokens_harness import DEFAULT_TTL, MAX_TTL, harness, run

from strongroom.core.tokens.entry import TokenSpec
from strongroom.core.tokens.ids import Hasher, random_base62
from strongroom.core.tokens.store import TokenStore
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.logical import Auth

TOKEN_SHAPE = re.compile(r"hvs\.[0-9A-Za-z]{32}")


def test_created_token_looks_like_a_vault_service_token_with_a_random_accessor() -> None:
    async def scenario() -> None:
        h = harness()
        token, root = await h.root()
        child_token, child = await h.child(root)
        assert TOKEN_SHAPE.fullmatch(token)
        assert TOKEN_SHAPE.fullmatch(child_token)
        assert token != child_token
        assert re.fullmatch(r"[0-9A-Za-z]{24}", child.accessor)
        assert child.accessor != root.accessor

    run(scenario())


def test_random_base62_redraws_bytes_that_would_bias_the_alphabet() -> None:
    feed = iter([bytes([255, 248, 0, 61, 62, 123, 249, 9, 10, 35, 36])])

    def fake_random(n: int) -> bytes:
        return next(feed)

    # 255, 248 and 249 are redrawn; 62 wraps to '0', 123 to 'z'.
    assert random_base62(8, fake_random) == "0z0z9AZa"


def test_lookup_returns_the_entry_of_a_created_token() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, policies=("dev",), display_name="token-ci", meta={"team": "a"})
        found = await h.store.lookup(token)
        assert found == entry
        assert found.policies == ("dev",)
        assert found.display_name == "token-ci"
        assert dict(found.meta) == {"team": "a"}
        assert found.ttl == DEFAULT_TTL
        assert found.parent == root.id_hash
        assert not found.orphan

    run(scenario())


@pytest.mark.parametrize("presented", ["", "hvs.nope", "x" * 5000, "\udcff"])
def test_lookup_of_an_unknown_or_malformed_token_returns_none(presented: str) -> None:
    async def scenario() -> None:
        h = harness()
        await h.root()
        assert await h.store.lookup(presented) is None
        assert await h.store.lookup_accessor(presented) is None

    run(scenario())


def test_storage_never_holds_a_raw_token_and_keys_never_hold_an_accessor() -> None:
    async def scenario() -> None:
        h = harness()
        token, root = await h.root()
        minted = [token]
        accessors = [root.accessor]
        for _ in range(5):
            t, e = await h.child(root, policies=("dev",))
            minted.append(t)
            accessors.append(e.accessor)
        renewed_token, renewed = await h.child(root)
        await h.store.renew(renewed, 60, system=h.system)
        minted.append(renewed_token)
        blobs = h.stored_values()
        for secret in minted:
            assert not any(secret.encode() in blob for blob in blobs)
            assert not any(secret[4:].encode() in blob for blob in blobs)
        for accessor in accessors:
            assert not any(accessor in key for key in h.stored_keys())

    run(scenario())


def test_a_second_store_over_the_same_storage_finds_tokens_through_the_persisted_salt() -> None:
    async def scenario() -> None:
        h = harness()
        token, _ = await h.root()
        again = TokenStore(h.storage, clock=h.clock, random_bytes=bytes)
        assert await again.lookup(token) is not None

    run(scenario())


def test_token_and_accessor_hashes_of_the_same_string_differ() -> None:
    hasher = Hasher(bytes(32))
    assert hasher.token("abc") != hasher.accessor("abc")
    assert "abc" not in repr(hasher)


def test_entry_and_spec_reprs_show_no_secrets() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, child = await h.child(root, meta={"secret-ish": "value"})
        text = repr(child)
        for hidden in (child.id_hash, child.accessor, child.parent, "value"):
            assert hidden not in text
        assert "token_id" not in repr(TokenSpec(token_id="custom-secret-id"))
        assert "custom-secret-id" not in repr(TokenSpec(token_id="custom-secret-id"))

    run(scenario())


def test_policies_are_normalised_sorted_and_unique() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, entry = await h.child(root, policies=(" Dev", "dev", "OPS", "ops\u200b", "\uff44\uff45\uff56", ""))
        assert entry.policies == ("dev", "ops")

    run(scenario())


ROOT_SPELLINGS = ["root", "Root", " root", "ROOT\u200b", "\uff52\uff4f\uff4f\uff54", "r\u043eot"]


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_root_policy_is_never_granted_without_a_root_creator(spelling: str) -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, dev = await h.child(root, policies=("dev",))
        with pytest.raises(InvalidRequest, match="parent token being root"):
            await h.store.create(TokenSpec(policies=(spelling,)), creator=dev, system=h.system)
        with pytest.raises(InvalidRequest, match="parent token being root"):
            await h.store.create(TokenSpec(policies=(spelling,)), creator=None, system=h.system)
        auth = Auth(policies=["dev", spelling])
        with pytest.raises(InvalidRequest, match="parent token being root"):
            await h.store.create_from_auth(auth, path="auth/userpass/login", system=h.system)

    run(scenario())


def test_root_creator_can_mint_a_root_child_that_collapses_to_the_root_policy() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, child = await h.child(root, policies=("Root", "dev"))
        assert child.policies == ("root",)
        assert child.expire_time == 0
        assert not child.renewable

    run(scenario())


def test_an_expiring_root_token_cannot_mint_a_non_expiring_root_token() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, expiring = await h.child(root, policies=("root",), ttl=600)
        assert expiring.expire_time == h.clock.now + 600
        with pytest.raises(InvalidRequest, match="expiring root tokens"):
            await h.child(expiring, policies=("root",))

    run(scenario())


def test_requested_ttl_above_the_max_is_capped_with_a_warning() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        warnings: list[str] = []
        _, entry = await h.store.create(
            TokenSpec(policies=("dev",), ttl=MAX_TTL * 10), creator=root, system=h.system, warnings=warnings
        )
        assert entry.ttl == MAX_TTL
        assert any("capped" in w for w in warnings)

    run(scenario())


def test_a_token_is_dead_once_the_clock_reaches_its_expiry_and_is_then_deleted() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, _ = await h.child(root, ttl=60)
        h.clock.advance(59)
        assert await h.alive(token)
        h.clock.advance(1)
        assert not await h.alive(token)
        # The lookup revoked it: only the root's entry and accessor remain, and no parent index.
        assert [k for k in h.stored_keys() if k.startswith("id/")] == [f"id/{root.id_hash}"]
        assert len([k for k in h.stored_keys() if k.startswith("accessor/")]) == 1
        assert not [k for k in h.stored_keys() if k.startswith("parent/")]

    run(scenario())


def test_renewal_extends_the_expiry_by_the_increment_or_the_original_ttl() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, ttl=600)
        h.clock.advance(500)
        renewed = await h.store.renew(entry, 300, system=h.system)
        assert renewed.expire_time == h.clock.now + 300
        assert renewed.last_renewal_time == h.clock.now
        again = await h.store.renew(renewed, 0, system=h.system)
        assert again.expire_time == h.clock.now + 600
        h.clock.advance(599)
        assert await h.alive(token)

    run(scenario())


def test_renewal_never_carries_a_token_past_its_explicit_max_ttl() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, ttl=100, explicit_max_ttl=250)
        created = entry.creation_time
        for _ in range(10):
            h.clock.advance(40)
            current = await h.store.lookup(token)
            if current is None:
                break
            renewed = await h.store.renew(current, 1000, system=h.system)
            assert renewed.expire_time <= created + 250
        h.clock.now = created + 250
        assert not await h.alive(token)

    run(scenario())


def test_renewal_of_a_root_token_with_an_explicit_max_is_still_capped() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, policies=("root",), explicit_max_ttl=100)
        assert entry.ttl == 100
        h.clock.advance(100)
        assert not await h.alive(token)

    run(scenario())


def test_renewal_stops_at_the_mount_max_ttl_measured_from_creation() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, ttl=DEFAULT_TTL)
        h.clock.advance(DEFAULT_TTL - 10)
        warnings: list[str] = []
        renewed = await h.store.renew(entry, 2 * DEFAULT_TTL, system=h.system, warnings=warnings)
        assert renewed.expire_time == entry.creation_time + MAX_TTL
        assert warnings
        h.clock.now = entry.creation_time + MAX_TTL
        assert not await h.alive(token)

    run(scenario())


def test_a_periodic_token_renews_to_its_period_forever_without_an_explicit_max() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, period=600, ttl=5)
        assert entry.ttl == 600
        for _ in range(50):
            h.clock.advance(500)
            entry = await h.store.renew(entry, 5, system=h.system)
            assert entry.expire_time == h.clock.now + 600
        assert h.clock.now - entry.creation_time > 3 * MAX_TTL
        assert await h.alive(token)

    run(scenario())


def test_a_periodic_token_with_an_explicit_max_dies_at_the_explicit_max() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, period=600, explicit_max_ttl=1000)
        h.clock.advance(500)
        entry = await h.store.renew(entry, 0, system=h.system)
        assert entry.expire_time == entry.creation_time + 1000
        h.clock.advance(500)
        assert not await h.alive(token)

    run(scenario())


def test_renewing_a_non_renewable_or_non_expiring_token_fails() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, fixed = await h.child(root, renewable=False)
        assert not fixed.renewable
        with pytest.raises(InvalidRequest, match="not renewable"):
            await h.store.renew(fixed, 10, system=h.system)
        assert not root.renewable
        with pytest.raises(InvalidRequest, match="not renewable"):
            await h.store.renew(root, 10, system=h.system)

    run(scenario())


def test_renewing_a_revoked_token_fails_and_does_not_resurrect_it() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root)
        await h.store.revoke_tree(entry)
        with pytest.raises(InvalidRequest, match="token not found"):
            await h.store.renew(entry, 10, system=h.system)
        assert not await h.alive(token)

    run(scenario())


def test_a_limited_use_token_dies_after_its_last_use_and_refuses_another() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        token, entry = await h.child(root, num_uses=2)
        assert await h.store.use(entry) is False
        current = await h.store.lookup(token)
        assert current is not None
        assert current.num_uses == 1
        assert await h.store.use(current) is True
        assert await h.store.lookup(token) is None
        pending = await h.store.lookup(token, include_pending=True)
        assert pending is not None
        assert pending.revocation_pending
        with pytest.raises(PermissionDenied):
            await h.store.use(current)
        await h.store.revoke_tree(pending)
        assert await h.store.lookup(token, include_pending=True) is None

    run(scenario())


def test_negative_num_uses_is_refused() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        with pytest.raises(InvalidRequest, match="negative"):
            await h.child(root, num_uses=-1)

    run(scenario())


def test_unlimited_tokens_are_not_written_on_use() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        before = dict(h.storage._data)
        assert await h.store.use(root) is False
        assert h.storage._data == before

    run(scenario())


def test_accessor_lookup_and_listing_follow_the_token() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, a = await h.child(root)
        _, b = await h.child(root)
        assert await h.store.lookup_accessor(a.accessor) == a
        assert await h.store.list_accessors() == sorted([root.accessor, a.accessor, b.accessor])
        await h.store.revoke_tree(a)
        assert await h.store.lookup_accessor(a.accessor) is None
        assert await h.store.list_accessors() == sorted([root.accessor, b.accessor])
        assert await h.store.lookup_accessor("0" * 24) is None

    run(scenario())


def test_a_custom_token_id_works_once_and_may_not_contain_a_dot() -> None:
    async def scenario() -> None:
        h = harness()
        token, _ = await h.store.create_root("my-root")
        assert token == "my-root"
        assert await h.alive("my-root")
        with pytest.raises(InvalidRequest, match="duplicate"):
            await h.store.create_root("my-root")
        with pytest.raises(InvalidRequest, match=r"'\.'"):
            await h.store.create_root("hvs.chosen")

    run(scenario())


def test_login_tokens_are_orphans_named_after_their_mount_with_the_default_policy() -> None:
    async def scenario() -> None:
        h = harness()
        auth = Auth(policies=["Dev"], display_name="bob", metadata={"user": "bob"}, ttl=120, max_ttl=300)
        token, entry = await h.store.create_from_auth(auth, path="auth/userpass/login", system=h.system)
        assert entry.orphan
        assert entry.display_name == "userpass-bob"
        assert entry.policies == ("default", "dev")
        assert entry.ttl == 120
        assert entry.path == "auth/userpass/login"
        h.clock.advance(100)
        renewed = await h.store.renew(entry, 1000, system=h.system)
        assert renewed.expire_time == entry.creation_time + 300
        assert await h.alive(token)

    run(scenario())


def test_a_creator_that_was_revoked_cannot_mint_children() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, parent = await h.child(root)
        await h.store.revoke_tree(parent)
        with pytest.raises(InvalidRequest, match="no parent found"):
            await h.child(parent)

    run(scenario())

