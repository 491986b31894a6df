"""A separate process driving SQLiteBackend, for the crash and multi-process tests.

Usage:
    sqlite_child.py writer DB ROUND
        Writes forever from 8 concurrent coroutines (puts and two-key
        transactions) and prints every key on stdout once its write is
        acknowledged. Meant to be killed with SIGKILL.
    sqlite_child.py peer DB NAME COUNT
        Opens the backend, prints "ready", waits for a line on stdin, writes
        COUNT keys under peer/NAME/, prints "written", waits for another line,
        then prints one JSON object: for each peer folder, how many keys hold
        exactly the expected value.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys

from strongroom.sdk.storage import TxnOp
from strongroom.storage.sqlite import SQLiteBackend

WRITERS = 8


def expected_value(key: str) -> bytes:
    """The value stored under ``key``: varied lengths, every byte value, derived from the key."""
    return (key.encode() + bytes(range(256))) * (1 + len(key) % 7)


def acknowledge(key: str) -> None:
    sys.stdout.write(key + "\n")
    sys.stdout.flush()


async def write_forever(db: str, round_id: str) -> None:
    store = SQLiteBackend(db)
    await store.open()

    async def worker(index: int) -> None:
        for n in itertools.count():
            key = f"round{round_id}/w{index}/{n:07}"
            if n % 5 == 4:
                pair = [key + "a", key + "b"]
                await store.transaction([TxnOp(k, expected_value(k)) for k in pair])
                for k in pair:
                    acknowledge(k)
            else:
                await store.put(key, expected_value(key))
                acknowledge(key)

    await asyncio.gather(*(worker(i) for i in range(WRITERS)))


async def peer(db: str, name: str, count: int) -> None:
    store = SQLiteBackend(db)
    await store.open()
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        keys = [f"peer/{name}/{i:05}" for i in range(count)]
        for start in range(0, count, 25):
            await asyncio.gather(*(store.put(k, expected_value(k)) for k in keys[start : start + 25]))
        print("written", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        seen: dict[str, int] = {}
        for folder in await store.list("peer/"):
            children = await store.list(f"peer/{folder}")
            good = 0
            for child in children:
                key = f"peer/{folder}{child}"
                if await store.get(key) == expected_value(key):
                    good += 1
            seen[folder.rstrip("/")] = good
        print(json.dumps(seen), flush=True)
    finally:
        await store.close()


def main(argv: list[str]) -> None:
    mode, db, *rest = argv
    if mode == "writer":
        asyncio.run(write_forever(db, rest[0]))
    elif mode == "peer":
        asyncio.run(peer(db, rest[0], int(rest[1])))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
