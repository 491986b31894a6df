"""The hash chain every audit line belongs to, and the signed checkpoints (format: docs/audit.md).

One :class:`Chain` per process and device. The writer thread renders a batch of
entry bodies into final lines with :meth:`Chain.render`, writes them, then tells
the chain how many made it with :meth:`Chain.commit`: the chain's state moves
only past lines really recorded, so a failed write leaves no gap in ``seq``.

This module is also what ``strongroom audit verify`` checks against, so it
imports nothing of the server.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
SIGNATURE_LABEL = "strongroom-audit-checkpoint/1"
CHECKPOINT_KINDS = ("open", "periodic", "rotate", "close")


def line_hash(line: bytes) -> str:
    """The hex SHA-256 a successor's ``prev`` names: the line as written, without its final newline."""
    return hashlib.sha256(line[:-1] if line.endswith(b"\n") else line).hexdigest()


def checkpoint_message(chain_id: str, seq: int, prev: str, kind: str, time: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return f"{SIGNATURE_LABEL}\n{chain_id}\n{seq}\n{prev}\n{kind}\n{time}".encode()


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_bytes(public)).hexdigest()[:16]


def public_bytes(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_text(public: Ed25519PublicKey) -> str:
    """How the public key is shown (``sys/audit``) and passed to ``audit verify --public-key``."""
    return base64.b64encode(public_bytes(public)).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """The inverse of :func:`public_key_text`; ValueError when it is not a 32-byte Ed25519 key."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ValueError("the public key is not base64") from None
    if len(raw) != 32:
        raise ValueError("the public key must be 32 bytes (base64 of a raw Ed25519 key)")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass
class Chain:
    """One writer's chain on one device: its id, the next ``seq`` and the hash of its last line.

    Not thread-safe: owned by the device's writer thread.
    """

    chain_id: str
    device: str
    prefix: bytes
    signer: Ed25519PrivateKey
    clock: Callable[[], str]
    checkpoint_every: int
    seq: int = 0
    prev: str = GENESIS
    since_checkpoint: int = 0
    _pending: list[tuple[int, str, bool]] | None = None

    @property
    def opened(self) -> bool:
        return self.seq > 0

    def render(self, bodies: Sequence[bytes], *, closing: str = "") -> list[bytes]:
        """Final lines for ``bodies`` (each a JSON object without ``chain``), with the checkpoints due.

        An ``open`` checkpoint comes first on a fresh chain; a ``periodic`` one follows the
        line that completes ``checkpoint_every`` lines; ``closing`` (``rotate`` or ``close``)
        appends that checkpoint at the end. Nothing changes until :meth:`commit`.
        """
        seq, prev, since = self.seq, self.prev, self.since_checkpoint
        lines: list[bytes] = []
        pending: list[tuple[int, str, bool]] = []

        def add(body: bytes, checkpoint: bool) -> None:
            nonlocal seq, prev, since
            seq += 1
            line = self._line(body, seq, prev)
            lines.append(line)
            prev = line_hash(line)
            since = 0 if checkpoint else since + 1
            pending.append((seq, prev, checkpoint))

        if seq == 0:
            add(self._checkpoint_body("open", seq + 1, prev), True)
        for body in bodies:
            add(body, False)
            if since >= self.checkpoint_every:
                add(self._checkpoint_body("periodic", seq + 1, prev), True)
        if closing:
            add(self._checkpoint_body(closing, seq + 1, prev), True)
        self._pending = pending
        return lines

    def last_layout(self) -> list[bool]:
        """For each line of the last :meth:`render`: True for an entry body, False for a checkpoint."""
        return [not checkpoint for _, _, checkpoint in self._pending or []]

    def commit(self, recorded: int) -> None:
        """Advance past the first ``recorded`` lines of the last :meth:`render`."""
        pending = self._pending or []
        self._pending = None
        if recorded <= 0:
            return
        seq, prev, _ = pending[recorded - 1]
        since = self.since_checkpoint
        for _, _, checkpoint in pending[:recorded]:
            since = 0 if checkpoint else since + 1
        self.seq, self.prev, self.since_checkpoint = seq, prev, since

    def _line(self, body: bytes, seq: int, prev: str) -> bytes:
        chain = orjson.dumps({"id": self.chain_id, "seq": seq, "prev": prev})
        return self.prefix + body[:-1] + b',"chain":' + chain + b"}\n"

    def _checkpoint_body(self, kind: str, seq: int, prev: str) -> bytes:
        time = self.clock()
        signature = self.signer.sign(checkpoint_message(self.chain_id, seq, prev, kind, time))
        return orjson.dumps({
            "type": "checkpoint",
            "time": time,
            "checkpoint": {
                "kind": kind,
                "device": self.device,
                "key_id": key_id(self.signer.public_key()),
                "signature": base64.b64encode(signature).decode(),
            },
        })
