"""The key range behind SQLite's list(): exact for any prefix, including the edges of Unicode."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.sdk.storage import list_children
from strongroom.storage.sqlite import SQLiteBackend, prefix_upper_bound

# Characters at the edges that matter: around '/', the surrogate gap, the BMP end, the last code point.
EDGES = ["\x00", ".", "/", "0", "a", "\x7f", "\x80", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0010fffe"]
ALPHABET = st.sampled_from([*EDGES, "\U0010ffff"]) | st.characters(exclude_categories=["Cs"])


def test_bound_of_common_prefixes() -> None:
    assert prefix_upper_bound("a/") == "a0"
    assert prefix_upper_bound("secret/") == "secret0"
    assert prefix_upper_bound("") is None
    assert prefix_upper_bound("\U0010ffff\U0010ffff") is None
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("x\ud7ff") == "x\ue000"


@given(prefix=st.text(ALPHABET, max_size=4), key=st.text(ALPHABET, max_size=6))
@settings(max_examples=500)
def test_range_holds_exactly_the_keys_that_start_with_the_prefix(prefix: str, key: str) -> None:
    bound = prefix_upper_bound(prefix)
    in_range = key >= prefix and (bound is None or key < bound)
    assert in_range == key.startswith(prefix)


@given(first=st.text(ALPHABET, max_size=4), second=st.text(ALPHABET, max_size=4))
@settings(max_examples=300)
def test_utf8_byte_order_is_code_point_order(first: str, second: str) -> None:
    # SQLite compares TEXT by its UTF-8 bytes; the range above relies on this.
    assert (first < second) == (first.encode() < second.encode())


@given(
    keys=st.lists(st.text(st.sampled_from([*EDGES, "\U0010ffff", "b"]), min_size=1, max_size=5), max_size=12),
    prefix=st.text(st.sampled_from([*EDGES, "\U0010ffff"]), max_size=3),
)
@settings(max_examples=40, deadline=None)
def test_sqlite_list_matches_a_reference_scan(keys: list[str], prefix: str) -> None:
    if not prefix.endswith("/") and prefix:
        prefix += "/"
    with tempfile.TemporaryDirectory() as workdir:

        async def main() -> list[str]:
            store = SQLiteBackend(str(Path(workdir) / "range.db"), synchronous="NORMAL")
            await store.open()
            try:
                await asyncio.gather(*(store.put(key, b"v") for key in keys))
                return await store.list(prefix)
            finally:
                await store.close()

        listed = asyncio.run(main())
    expected = list_children(sorted(k for k in set(keys) if k.startswith(prefix)), prefix)
    assert listed == expected
