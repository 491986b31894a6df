"""The storage conformance suite every backend runs (test-only: imports pytest).

Use it by subclassing :class:`StorageConformance` in a test module::

    class TestSQLiteStorage(StorageConformance):
        shared_store = True

        def make_backend(self) -> StorageBackend:
            return SQLiteBackend(str(self.workdir / "store.db"))

        def make_second_instance(self) -> StorageBackend:
            return SQLiteBackend(str(self.workdir / "store.db"))

Design:

* The test methods are ordinary synchronous pytest tests. Each runs its
  scenario with ``asyncio.run``: the suite opens a fresh backend from
  :meth:`StorageConformance.make_backend` (unopened; the suite calls
  ``open`` and ``close``), so tests never share state.
* ``self.workdir`` is a fresh empty directory per test (pytest's
  ``tmp_path``) for backends that need files. Backends on a server
  (PostgreSQL, etcd) isolate tests by a unique table or key prefix instead.
* ``shared_store`` is an explicit capability flag every concrete subclass must
  set. ``True`` means two instances can open the same underlying store (a file,
  a database) and :meth:`StorageConformance.make_second_instance` returns
  another instance on the store that ``make_backend`` used; the cross-instance
  tests then run. ``False`` (in-memory storage) means the notion does not
  apply, and those tests are not collected at all: nothing is skipped.
* Conditional transactions: a precondition carries the version token
  ``get_with_version`` returned. The suite only relies on what every backend
  promises: a token stops matching once a *different* value is written or
  the key is deleted (a verbatim store may keep matching after a rewrite of
  identical bytes; the barrier does not, and tests that itself).
* To make a transaction fail midway in a backend-independent way, the suite
  puts a value that is not bytes-like between valid ops. A backend must
  answer with ``TypeError`` (checked up front) or ``StorageError`` (failed
  while applying), and must apply none of the ops.

Beyond the module contract in :mod:`strongroom.sdk.storage`, the suite pins:
values come back as ``bytes``; empty values are stored (distinct from a
missing key); ops in one transaction apply in order (a later op on the same
key wins); ``list`` sorts by code point; ``close`` waits for writes in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar, cast

import pytest

from strongroom.errors import StorageConflict, StorageError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

Scenario = Callable[[StorageBackend], Awaitable[None]]

# Tests that need two instances on one store; not collected when shared_store is False.
_SHARED_STORE_TESTS = (
    "test_second_instance_sees_acknowledged_writes",
    "test_revision_moves_when_another_instance_writes",
    "test_writes_persist_after_close_and_reopen",
    "test_concurrent_writes_through_two_instances_all_land",
    "test_conditional_transactions_through_two_instances_let_exactly_one_win",
)

KIB = 1024
MIB = 1024 * KIB


class _NotBytes:
    """A value no backend can store: the backend-independent way to fail a transaction."""


def _poison() -> bytes:
    return cast(bytes, _NotBytes())


class StorageConformance:
    """Base class of a backend's conformance tests. See the module docstring."""

    #: Capability flag; every concrete subclass sets it explicitly.
    shared_store: ClassVar[bool]
    workdir: Path

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.make_backend is StorageConformance.make_backend:
            return  # an intermediate base class; its concrete subclasses are checked
        flag = getattr(cls, "shared_store", None)
        if not isinstance(flag, bool):
            raise TypeError(f"{cls.__name__} must set shared_store = True or False")
        if flag and cls.make_second_instance is StorageConformance.make_second_instance:
            raise TypeError(f"{cls.__name__} has shared_store = True but no make_second_instance()")
        if not flag:
            for name in _SHARED_STORE_TESTS:
                setattr(cls, name, None)  # not callable, so pytest does not collect it

    # --- what a backend's test class provides -------------------------------------------

    def make_backend(self) -> StorageBackend:
        """A new, unopened backend on an empty store. Every backend's test class defines it."""
        raise TypeError(f"{type(self).__name__} must define make_backend()")

    def make_second_instance(self) -> StorageBackend:
        """Another unopened instance on the store :meth:`make_backend` used (shared_store only)."""
        raise TypeError(f"{type(self).__name__} has shared_store = True but no make_second_instance()")

    # --- plumbing ------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _conformance_workdir(self, tmp_path: Path) -> None:
        self.workdir = tmp_path

    def run(self, scenario: Scenario) -> None:
        """Run ``scenario`` against a freshly opened backend, closing it afterwards."""

        async def main() -> None:
            store = self.make_backend()
            await store.open()
            try:
                await scenario(store)
            finally:
                await store.close()

        asyncio.run(main())

    # --- get / put / delete --------------------------------------------------------------

    def test_get_of_missing_key_returns_none(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            assert await store.get("missing") is None
            assert await store.get("no/such/path") is None

        self.run(scenario)

    def test_put_then_get_returns_the_same_bytes(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("a/b", b"value")
            got = await store.get("a/b")
            assert got == b"value"
            assert type(got) is bytes

        self.run(scenario)

    def test_put_overwrites_the_previous_value(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("k", b"first")
            await store.put("k", b"second, longer")
            assert await store.get("k") == b"second, longer"
            await store.put("k", b"3")
            assert await store.get("k") == b"3"
            assert await store.list("") == ["k"]

        self.run(scenario)

    def test_delete_removes_the_key(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("k", b"v")
            await store.put("k2", b"v2")
            await store.delete("k")
            assert await store.get("k") is None
            assert await store.get("k2") == b"v2"

        self.run(scenario)

    def test_delete_of_missing_key_is_not_an_error(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.delete("never/written")
            await store.put("once", b"v")
            await store.delete("once")
            await store.delete("once")
            assert await store.get("once") is None

        self.run(scenario)

    def test_get_of_a_folder_name_returns_none(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("folder/leaf", b"v")
            assert await store.get("folder") is None
            assert await store.get("folder/") is None

        self.run(scenario)

    # --- list ----------------------------------------------------------------------------

    def test_list_returns_immediate_children_sorted_with_each_folder_once(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            for key in ("p/zeta", "p/alpha", "p/sub/x", "p/sub/y", "p/sub/deeper/z", "p/mid/q", "top"):
                await store.put(key, b"v")
            assert await store.list("p/") == ["alpha", "mid/", "sub/", "zeta"]
            assert await store.list("p/sub/") == ["deeper/", "x", "y"]
            assert await store.list("") == ["p/", "top"]

        self.run(scenario)

    def test_list_of_empty_store_returns_empty_list(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            assert await store.list("") == []

        self.run(scenario)

    def test_list_of_prefix_without_entries_returns_empty_list(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("a/b", b"v")
            assert await store.list("nothing/") == []
            assert await store.list("a/b/") == []

        self.run(scenario)

    def test_list_excludes_keys_that_only_share_leading_characters(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            # '.' and '0' sort right before and after '/': the edges of a prefix range.
            for key in ("a.x", "a0", "ab/c", "a", "a/in", "a/deep/er"):
                await store.put(key, b"v")
            assert await store.list("a/") == ["deep/", "in"]

        self.run(scenario)

    def test_list_shows_a_name_both_as_leaf_and_as_folder(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("x", b"leaf")
            await store.put("x/child", b"v")
            assert await store.list("") == ["x", "x/"]

        self.run(scenario)

    def test_list_drops_a_folder_once_its_last_key_is_deleted(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("f/one", b"1")
            await store.put("f/two", b"2")
            await store.delete("f/one")
            assert await store.list("") == ["f/"]
            await store.delete("f/two")
            assert await store.list("") == []
            assert await store.list("f/") == []

        self.run(scenario)

    def test_list_sorts_names_by_code_point(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            # UTF-16 order or a locale collation would place these differently.
            names = ["\U0001f600", "\uffff", "\u00e9", "Z", "a", "\ue000", "\ud7ff", "\U0010ffff"]
            for name in names:
                await store.put(f"u/{name}", b"v")
            assert await store.list("u/") == sorted(names)

        self.run(scenario)

    def test_list_under_folders_named_with_high_code_points(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            for folder in ("\ud7ff", "\U0010ffff", "\uffff"):
                await store.put(f"{folder}/inside", b"v")
                await store.put(f"{folder}x/outside", b"v")
                assert await store.list(f"{folder}/") == ["inside"]

        self.run(scenario)

    # --- awkward keys and values ---------------------------------------------------------

    def test_keys_with_unicode_spaces_and_percent_round_trip(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            keys = ["sp ace/na me", "pct/100%", "pct/%2F%00", "uni/\u00fcber/\u5bc6\u94a5"]
            keys.append("emoji/\U0001f511")
            for index, key in enumerate(keys):
                await store.put(key, str(index).encode())
            for index, key in enumerate(keys):
                assert await store.get(key) == str(index).encode()
            assert await store.list("sp ace/") == ["na me"]
            assert await store.list("pct/") == ["%2F%00", "100%"]
            assert await store.list("uni/") == ["\u00fcber/"]
            assert await store.list("uni/\u00fcber/") == ["\u5bc6\u94a5"]

        self.run(scenario)

    def test_one_kibibyte_key_round_trips(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            segment = "k" * (KIB - len("long/"))
            await store.put(f"long/{segment}", b"v")
            assert await store.get(f"long/{segment}") == b"v"
            assert await store.list("long/") == [segment]

        self.run(scenario)

    def test_every_byte_value_round_trips(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            value = bytes(range(256)) * 4
            await store.put("binary", value)
            assert await store.get("binary") == value

        self.run(scenario)

    def test_empty_value_is_stored_and_distinct_from_missing(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("empty", b"")
            assert await store.get("empty") == b""
            assert await store.list("") == ["empty"]

        self.run(scenario)

    def test_one_mebibyte_value_round_trips(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            value = bytes(range(256)) * (MIB // 256)
            await store.put("big", value)
            assert await store.get("big") == value

        self.run(scenario)

    # --- transactions --------------------------------------------------------------------

    def test_transaction_applies_puts_and_deletes_together(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("t/old", b"old")
            await store.put("t/kept", b"kept")
            await store.transaction([TxnOp("t/new", b"new"), TxnOp("t/old", None), TxnOp("t/x/y", b"")])
            assert await store.get("t/new") == b"new"
            assert await store.get("t/old") is None
            assert await store.get("t/x/y") == b""
            assert await store.list("t/") == ["kept", "new", "x/"]

        self.run(scenario)

    def test_transaction_applies_ops_in_order(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.transaction(
                [TxnOp("gone", b"1"), TxnOp("gone", None), TxnOp("back", None), TxnOp("back", b"2")]
            )
            assert await store.get("gone") is None
            assert await store.get("back") == b"2"
            await store.transaction([TxnOp("twice", b"a"), TxnOp("twice", b"b")])
            assert await store.get("twice") == b"b"

        self.run(scenario)

    def test_empty_transaction_changes_nothing(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("k", b"v")
            await store.transaction([])
            assert await store.list("") == ["k"]

        self.run(scenario)

    def test_transaction_that_fails_midway_leaves_nothing_behind(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("t/existing", b"before")
            await store.put("t/doomed", b"still here")
            ops = [
                TxnOp("t/existing", b"after"),
                TxnOp("t/doomed", None),
                TxnOp("t/fresh", b"fresh"),
                TxnOp("t/poison", _poison()),
                TxnOp("t/late", b"late"),
            ]
            with pytest.raises((TypeError, StorageError)):
                await store.transaction(ops)
            assert await store.get("t/existing") == b"before"
            assert await store.get("t/doomed") == b"still here"
            assert await store.list("t/") == ["doomed", "existing"]

        self.run(scenario)

    def test_failed_transaction_does_not_fail_concurrent_writes(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            doomed = store.transaction([TxnOp("c/bad", b"x"), TxnOp("c/poison", _poison())])
            results = await asyncio.gather(
                *(store.put(f"c/good{i}", b"ok") for i in range(10)), doomed, return_exceptions=True
            )
            assert all(result is None for result in results[:10])
            assert isinstance(results[10], (TypeError, StorageError))
            assert await store.list("c/") == sorted(f"good{i}" for i in range(10))

        self.run(scenario)

    # --- conditional transactions (preconditions) ---------------------------------------

    def test_get_with_version_of_a_missing_key_returns_none_twice(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            assert await store.get_with_version("missing") == (None, None)

        self.run(scenario)

    def test_get_with_version_returns_the_stored_value_and_a_token(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("k", b"value")
            value, version = await store.get_with_version("k")
            assert value == b"value"
            assert type(value) is bytes
            assert isinstance(version, bytes)
            await store.put("empty", b"")
            assert (await store.get_with_version("empty"))[0] == b""

        self.run(scenario)

    def test_transaction_whose_preconditions_hold_applies(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("cas/k", b"one")
            for step in (b"two", b"three", b"four"):
                _, version = await store.get_with_version("cas/k")
                await store.transaction(
                    [TxnOp("cas/k", step), TxnOp("cas/log/" + step.decode(), b"")],
                    preconditions=[Precondition("cas/k", version)],
                )
                assert await store.get("cas/k") == step
            assert await store.list("cas/log/") == ["four", "three", "two"]

        self.run(scenario)

    def test_stale_precondition_applies_nothing_and_raises_storage_conflict(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("cas/k", b"read")
            await store.put("cas/other", b"kept")
            _, stale = await store.get_with_version("cas/k")
            await store.put("cas/k", b"written by someone else")
            with pytest.raises(StorageConflict):
                await store.transaction(
                    [TxnOp("cas/k", b"mine"), TxnOp("cas/other", None), TxnOp("cas/new", b"n")],
                    preconditions=[Precondition("cas/k", stale)],
                )
            assert await store.get("cas/k") == b"written by someone else"
            assert await store.list("cas/") == ["k", "other"]

        self.run(scenario)

    def test_precondition_on_a_key_deleted_since_it_was_read_fails(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("cas/k", b"v")
            _, version = await store.get_with_version("cas/k")
            await store.delete("cas/k")
            with pytest.raises(StorageConflict):
                await store.transaction([TxnOp("cas/k", b"back")], preconditions=[Precondition("cas/k", version)])
            assert await store.get("cas/k") is None

        self.run(scenario)

    def test_precondition_of_absence_holds_only_while_the_key_is_missing(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            absent = [Precondition("cas/new", None)]
            await store.transaction([TxnOp("cas/new", b"first")], preconditions=absent)
            with pytest.raises(StorageConflict):
                await store.transaction([TxnOp("cas/new", b"second")], preconditions=absent)
            assert await store.get("cas/new") == b"first"
            await store.put("cas/empty", b"")  # an empty value is present, not absent
            with pytest.raises(StorageConflict):
                await store.transaction([TxnOp("cas/x", b"x")], preconditions=[Precondition("cas/empty", None)])
            await store.delete("cas/new")
            await store.transaction([TxnOp("cas/new", b"again")], preconditions=absent)
            assert await store.get("cas/new") == b"again"
            assert await store.get("cas/x") is None

        self.run(scenario)

    def test_one_failed_precondition_among_several_applies_nothing(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("cas/a", b"a")
            await store.put("cas/b", b"b")
            _, version_a = await store.get_with_version("cas/a")
            _, version_b = await store.get_with_version("cas/b")
            await store.put("cas/b", b"changed")
            with pytest.raises(StorageConflict):
                await store.transaction(
                    [TxnOp("cas/a", b"A"), TxnOp("cas/b", b"B")],
                    preconditions=[
                        Precondition("cas/a", version_a),
                        Precondition("cas/missing", None),
                        Precondition("cas/b", version_b),
                    ],
                )
            assert await store.get("cas/a") == b"a"
            assert await store.get("cas/b") == b"changed"

        self.run(scenario)

    def test_preconditions_without_ops_only_check(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("cas/k", b"v")
            _, version = await store.get_with_version("cas/k")
            await store.transaction([], preconditions=[Precondition("cas/k", version)])
            await store.put("cas/k", b"w")
            with pytest.raises(StorageConflict):
                await store.transaction([], preconditions=[Precondition("cas/k", version)])
            assert await store.list("") == ["cas/"]
            assert await store.get("cas/k") == b"w"

        self.run(scenario)

    def test_concurrent_conditional_transactions_on_one_version_let_exactly_one_win(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("race/k", b"start")
            _, version = await store.get_with_version("race/k")

            async def attempt(n: int) -> int:
                await store.transaction(
                    [TxnOp("race/k", f"writer {n}".encode()), TxnOp(f"race/won/{n}", b"")],
                    preconditions=[Precondition("race/k", version)],
                )
                return n

            results = await asyncio.gather(*(attempt(n) for n in range(10)), return_exceptions=True)
            winners = [result for result in results if isinstance(result, int)]
            assert len(winners) == 1
            assert all(isinstance(result, StorageConflict) for result in results if result is not winners[0])
            assert await store.get("race/k") == f"writer {winners[0]}".encode()
            assert await store.list("race/won/") == [str(winners[0])]

        self.run(scenario)

    def test_a_refused_conditional_transaction_does_not_fail_the_writes_around_it(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await store.put("c/k", b"now")
            doomed = store.transaction([TxnOp("c/bad", b"x")], preconditions=[Precondition("c/k", None)])
            results = await asyncio.gather(
                *(store.put(f"c/good{i}", b"ok") for i in range(10)), doomed, return_exceptions=True
            )
            assert all(result is None for result in results[:10])
            assert isinstance(results[10], StorageConflict)
            assert await store.list("c/") == sorted([f"good{i}" for i in range(10)] + ["k"])

        self.run(scenario)

    # --- concurrency and lifecycle -------------------------------------------------------

    def test_concurrent_puts_all_land(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            await asyncio.gather(*(store.put(f"many/{i:03}", f"value {i}".encode()) for i in range(200)))
            assert await store.list("many/") == [f"{i:03}" for i in range(200)]
            for i in range(200):
                assert await store.get(f"many/{i:03}") == f"value {i}".encode()

        self.run(scenario)

    def test_concurrent_mixed_writes_all_land(self) -> None:
        async def scenario(store: StorageBackend) -> None:
            for i in range(50):
                await store.put(f"mix/del{i}", b"x")
            writes = [store.delete(f"mix/del{i}") for i in range(50)]
            writes += [
                store.transaction([TxnOp(f"mix/a{i}", b"a"), TxnOp(f"mix/b{i}", b"b")]) for i in range(50)
            ]
            await asyncio.gather(*writes)
            expected = sorted([f"a{i}" for i in range(50)] + [f"b{i}" for i in range(50)])
            assert await store.list("mix/") == expected

        self.run(scenario)

    def test_close_waits_for_writes_in_flight(self) -> None:
        async def main() -> None:
            store = self.make_backend()
            await store.open()
            pending = [asyncio.create_task(store.put(f"flight/{i}", b"v")) for i in range(20)]
            await asyncio.sleep(0)  # let every put start and queue its write
            await store.close()
            await asyncio.gather(*pending)

        asyncio.run(main())

    # --- two instances on one store (shared_store only) ----------------------------------

    def test_revision_moves_with_every_write_or_is_not_offered(self) -> None:
        async def scenario(backend: StorageBackend) -> None:
            seen = [backend.revision()]
            await backend.put("rev/a", b"1")
            seen.append(backend.revision())
            await backend.transaction([TxnOp("rev/b", b"2")])
            seen.append(backend.revision())
            await backend.delete("rev/a")
            seen.append(backend.revision())
            assert await backend.get("rev/b") == b"2"
            seen.append(backend.revision())  # reads do not move it
            if seen[0] is None:
                assert all(value is None for value in seen)
                return
            assert len(set(seen[:4])) == 4
            assert seen[3] == seen[4]

        self.run(scenario)

    def test_revision_moves_when_another_instance_writes(self) -> None:
        async def scenario(first: StorageBackend) -> None:
            second = self.make_second_instance()
            await second.open()
            try:
                before = first.revision()
                await second.put("rev/other", b"x")
                after = first.revision()
                assert before is None or after != before
            finally:
                await second.close()

        self.run(scenario)

    def test_second_instance_sees_acknowledged_writes(self) -> None:
        async def scenario(first: StorageBackend) -> None:
            second = self.make_second_instance()
            await second.open()
            try:
                await first.put("shared/a", b"1")
                assert await second.get("shared/a") == b"1"
                await second.put("shared/a", b"2")
                assert await first.get("shared/a") == b"2"
                await first.transaction([TxnOp("shared/b", b"b"), TxnOp("shared/a", None)])
                assert await second.get("shared/a") is None
                assert await second.list("shared/") == ["b"]
                await second.delete("shared/b")
                assert await first.list("") == []
            finally:
                await second.close()

        self.run(scenario)

    def test_writes_persist_after_close_and_reopen(self) -> None:
        async def write(store: StorageBackend) -> None:
            await store.put("kept/one", b"1")
            await store.transaction([TxnOp("kept/two", b"2")])

        async def reread() -> None:
            again = self.make_second_instance()
            await again.open()
            try:
                assert await again.get("kept/one") == b"1"
                assert await again.get("kept/two") == b"2"
            finally:
                await again.close()

        self.run(write)
        asyncio.run(reread())

    def test_conditional_transactions_through_two_instances_let_exactly_one_win(self) -> None:
        async def scenario(first: StorageBackend) -> None:
            second = self.make_second_instance()
            await second.open()
            try:
                await first.put("shared/k", b"0")
                for round_number in range(1, 6):
                    _, seen_by_first = await first.get_with_version("shared/k")
                    _, seen_by_second = await second.get_with_version("shared/k")
                    results = await asyncio.gather(
                        first.transaction(
                            [TxnOp("shared/k", f"{round_number} first".encode())],
                            preconditions=[Precondition("shared/k", seen_by_first)],
                        ),
                        second.transaction(
                            [TxnOp("shared/k", f"{round_number} second".encode())],
                            preconditions=[Precondition("shared/k", seen_by_second)],
                        ),
                        return_exceptions=True,
                    )
                    won = [name for name, result in zip(("first", "second"), results, strict=True) if result is None]
                    assert len(won) == 1, results
                    assert any(isinstance(result, StorageConflict) for result in results)
                    assert await second.get("shared/k") == f"{round_number} {won[0]}".encode()
            finally:
                await second.close()

        self.run(scenario)

    def test_concurrent_writes_through_two_instances_all_land(self) -> None:
        async def scenario(first: StorageBackend) -> None:
            second = self.make_second_instance()
            await second.open()
            try:
                await asyncio.gather(
                    *(first.put(f"both/first{i:02}", b"1") for i in range(50)),
                    *(second.put(f"both/second{i:02}", b"2") for i in range(50)),
                )
                expected = sorted([f"first{i:02}" for i in range(50)] + [f"second{i:02}" for i in range(50)])
                assert await first.list("both/") == expected
                assert await second.list("both/") == expected
            finally:
                await second.close()

        self.run(scenario)
