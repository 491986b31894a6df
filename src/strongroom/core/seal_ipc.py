"""Serving a worker's key-ceremony call on the node's seal (the supervisor side of RemoteSealManager).

Kept apart from the supervisor so the mapping from IPC operation names to
:class:`~strongroom.core.seal.SealManager` methods lives in one place, next to
nothing else.
"""

from __future__ import annotations

from typing import Any

from strongroom.core.seal import SealManager

CEREMONY_OPS = frozenset(
    {
        "generate_root_status",
        "generate_root_start",
        "generate_root_update",
        "generate_root_cancel",
        "rekey_status",
        "rekey_start",
        "rekey_update",
        "rekey_cancel",
        "rekey_verify_status",
        "rekey_verify_update",
        "rekey_verify_cancel",
    }
)


def _text(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    return value if isinstance(value, str) else None


async def ceremony_call(seal: SealManager, op: str, args: dict[str, Any]) -> Any:
    """Run ``op`` (one of :data:`CEREMONY_OPS`) with the worker's ``args``; ValueError for another op."""
    if op == "generate_root_status":
        return await seal.generate_root_status()
    if op == "generate_root_start":
        return await seal.generate_root_start(_text(args, "otp"), _text(args, "pgp_key"))
    if op == "generate_root_update":
        return await seal.generate_root_update(_text(args, "key"), _text(args, "nonce"))
    if op == "generate_root_cancel":
        await seal.generate_root_cancel(_text(args, "nonce"))
        return True
    recovery = args.get("recovery") is True
    if op == "rekey_status":
        return await seal.rekey_status(recovery)
    if op == "rekey_start":
        return await seal.rekey_start(
            int(args["secret_shares"]), int(args["secret_threshold"]), args.get("require_verification") is True,
            recovery,
        )
    if op == "rekey_update":
        return await seal.rekey_update(_text(args, "key"), _text(args, "nonce"), recovery)
    if op == "rekey_cancel":
        await seal.rekey_cancel(_text(args, "nonce"), recovery)
        return True
    if op == "rekey_verify_status":
        return await seal.rekey_verify_status(recovery)
    if op == "rekey_verify_update":
        return await seal.rekey_verify_update(_text(args, "key"), _text(args, "nonce"), recovery)
    if op == "rekey_verify_cancel":
        return await seal.rekey_verify_cancel(_text(args, "nonce"), recovery)
    raise ValueError(f"not a key-ceremony operation: {op}")
