"""Password hashing with argon2id, off the event loop.

Parameters (chosen deliberately, recorded in every hash in PHC format so they
can change later without breaking stored users):

* argon2id (``argon2-cffi``), memory 19 MiB (19456 KiB), 2 passes, 1 lane,
  16-byte random salt, 32-byte tag: the first of OWASP's recommended argon2id
  configurations. About 25 ms of one core here; the library defaults (64 MiB,
  3 passes, 4 lanes) cost about 0.2 s and four cores per login, which would let
  a handful of unauthenticated requests occupy the whole machine.
* One lane, because a server runs many logins side by side: parallelism inside
  one hash only takes cores from the next login.
* Hashing and verification run in a thread pool of :data:`MAX_CONCURRENT`
  threads per process (the argon2 C code releases the GIL), shared by every
  userpass mount, so a burst of logins queues instead of allocating 19 MiB per
  request without bound.

A verification against a hash made with other parameters (an older setting)
still works, and :meth:`PasswordHashing.needs_rehash` tells the caller to store
a fresh hash after a successful login.

Equal work for every refusal: :meth:`PasswordHashing.verify_dummy` checks the
presented password against a hash of a random password made with the current
parameters, so an unknown or locked user costs exactly one verification, like
a wrong password for a real user.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Hashing jobs allowed to run at once in one process; more wait their turn.
MAX_CONCURRENT = max(2, os.cpu_count() or 1)
#: Longer passwords are refused on write and never match on login.
MAX_PASSWORD_BYTES = 4096


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """This process's hashing threads, made on first use (a pool inherited across fork has no threads)."""
    global _pool  # noqa: PLW0603 - one pool per process is the point
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=MAX_CONCURRENT, thread_name_prefix="argon2"))
    return _pool[1]


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """argon2id cost parameters (see the module docstring for the defaults' reasons)."""

    time_cost: int = 2
    memory_cost: int = 19 * 1024
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


class PasswordHashing:
    """argon2id hashing and verification, run in threads. Never logs or returns a password.

    ``hasher`` may be given (tests count its calls); by default it is built from ``params``.
    """

    def __init__(self, params: Argon2Params | None = None, *, hasher: argon2.PasswordHasher | None = None) -> None:
        p = params or Argon2Params()
        self._hasher = hasher or argon2.PasswordHasher(
            time_cost=p.time_cost, memory_cost=p.memory_cost, parallelism=p.parallelism,
            hash_len=p.hash_len, salt_len=p.salt_len, type=argon2.Type.ID,
        )
        self._dummy: str | None = None

    def __repr__(self) -> str:
        h = self._hasher
        return f"PasswordHashing(argon2id m={h.memory_cost} t={h.time_cost} p={h.parallelism})"

    async def hash(self, password: str) -> str:
        """A PHC-format argon2id hash of ``password`` (random salt)."""
        return await asyncio.get_running_loop().run_in_executor(_executor(), self._hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; False for a mismatch or an unreadable hash."""
        return await asyncio.get_running_loop().run_in_executor(_executor(), self._verify_sync, stored_hash, password)

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def prepare(self) -> None:
        """Make the dummy hash now (at mount setup), so no refused login ever pays for making it."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(32))

    async def verify_dummy(self, password: str) -> bool:
        """The same work as :meth:`verify` for a real user, against a hash nobody knows the password of.

        Always False (the dummy password is 32 random bytes drawn once per process).
        """
        await self.prepare()
        assert self._dummy is not None
        await self.verify(self._dummy, password)
        return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters than the current ones."""
        try:
            return bool(self._hasher.check_needs_rehash(stored_hash))
        except (InvalidHashError, ValueError):
            return True
