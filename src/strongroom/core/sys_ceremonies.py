"""HTTP-shaped handling of ``sys/generate-root/*``, ``sys/rekey/*`` and ``sys/rekey-recovery-key/*``.

Vault's paths and bodies; the recovery-key twin takes the same bodies as ``sys/rekey/*``.

Unauthenticated, like Vault's: the shares are the credential. Served before
the sealed check (the seal manager answers 503 itself while sealed) and always
through the node's :class:`~strongroom.core.seal.SealManager`, so in
multi-process mode progress lives in the supervisor whichever worker a call
reaches.

Cancelling (DELETE) needs the attempt's ``nonce`` in the JSON body or the
query string: an unauthenticated caller cannot end an attempt blindly. The
same holds for restarting a rekey verification (``DELETE sys/rekey/verify``),
which needs the verification nonce.
"""

from __future__ import annotations

from typing import Any

from strongroom.core.seal import SealManager
from strongroom.errors import InvalidRequest, UnsupportedOperation
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.fields import coerce
from strongroom.sdk.logical import Operation

_WRITE = (Operation.UPDATE, Operation.CREATE)
#: Methods each path serves; any other is a 405, whatever the seal state.
OPERATIONS: dict[str, tuple[Operation, ...]] = {
    "sys/generate-root/attempt": (Operation.READ, *_WRITE, Operation.DELETE),
    "sys/generate-root/update": _WRITE,
    "sys/rekey/init": (Operation.READ, *_WRITE, Operation.DELETE),
    "sys/rekey/update": _WRITE,
    "sys/rekey/verify": (Operation.READ, *_WRITE, Operation.DELETE),
    "sys/rekey-recovery-key/init": (Operation.READ, *_WRITE, Operation.DELETE),
    "sys/rekey-recovery-key/update": _WRITE,
    "sys/rekey-recovery-key/verify": (Operation.READ, *_WRITE, Operation.DELETE),
}

#: ``None`` means "answer 204 with no body".
Answer = dict[str, Any] | None


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string")
    return value


async def handle(seal: SealManager, op: Operation, path: str, data: dict[str, Any]) -> Answer:
    """Serve one of :data:`OPERATIONS`' paths (the caller checked ``op`` against it)."""
    if path == "sys/generate-root/attempt":
        if op is Operation.READ:
            return await seal.generate_root_status()
        if op is Operation.DELETE:
            await seal.generate_root_cancel(_text(data, "nonce"))
            return None
        return await seal.generate_root_start(_text(data, "otp"), _text(data, "pgp_key"))
    if path == "sys/generate-root/update":
        return await seal.generate_root_update(_text(data, "key"), _text(data, "nonce"))
    if path.startswith(("sys/rekey/", "sys/rekey-recovery-key/")):
        return await _rekey(seal, op, path, data)
    raise UnsupportedOperation()


async def _rekey(seal: SealManager, op: Operation, path: str, data: dict[str, Any]) -> Answer:
    """``sys/rekey/*`` and its twin ``sys/rekey-recovery-key/*`` (same bodies, the recovery key instead)."""
    recovery = path.startswith("sys/rekey-recovery-key/")
    step = path.rsplit("/", 1)[1]
    if step == "init":
        if op is Operation.READ:
            return await seal.rekey_status(recovery)
        if op is Operation.DELETE:
            await seal.rekey_cancel(_text(data, "nonce"), recovery)
            return None
        return await _rekey_start(seal, data, recovery)
    if step == "update":
        return await seal.rekey_update(_text(data, "key"), _text(data, "nonce"), recovery)
    if op is Operation.READ:
        return await seal.rekey_verify_status(recovery)
    if op is Operation.DELETE:
        return await seal.rekey_verify_cancel(_text(data, "nonce"), recovery)
    return await seal.rekey_verify_update(_text(data, "key"), _text(data, "nonce"), recovery)


async def _rekey_start(seal: SealManager, data: dict[str, Any], recovery: bool) -> Answer:
    if data.get("pgp_keys"):
        raise InvalidRequest("pgp_keys is not supported: rekey returns the new shares in plain text")
    if coerce(T.BOOL, data.get("backup", False), "backup"):
        raise InvalidRequest("backup is not supported (it only applies to PGP-encrypted shares)")
    stored = coerce(T.INT, data.get("stored_shares", 0), "stored_shares")
    if stored and (recovery or stored != 1 or not (await seal.status())["recovery_seal"]):
        # Only an auto seal stores a share (exactly one, its unseal key); recovery keys are never stored.
        raise InvalidRequest("stored_shares is 1 under an auto seal and 0 otherwise")
    if "secret_shares" not in data or "secret_threshold" not in data:
        raise InvalidRequest("secret_shares and secret_threshold are required")
    shares = coerce(T.INT, data["secret_shares"], "secret_shares")
    threshold = coerce(T.INT, data["secret_threshold"], "secret_threshold")
    verify = coerce(T.BOOL, data.get("require_verification", False), "require_verification")
    return await seal.rekey_start(shares, threshold, verify, recovery)
