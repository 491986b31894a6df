"""Key material leaving and entering the engine: ``export``, ``backup`` and ``restore``.

Private material leaves only from keys created (or configured) with
``exportable``; a backup also needs ``allow_plaintext_backup``. Both flags are
one-way. A backup is ``base64(JSON {"format", "version", "key"})`` with the key
in the serial form of :mod:`.codec`; ``restore`` runs it through the same strict
parser as storage, so a malformed or hostile backup is one fixed 400.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import replace
from typing import Any

import orjson

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response

from .codec import MalformedKey, policy_from_dict, policy_to_dict, valid_name
from .encoding import b64
from .engine import Engine
from .keytypes import Family
from .material import load_private, private_key_text, public_key_text
from .policy import KeyPolicy, Stamp

EXPORT_TYPES = ("encryption-key", "signing-key", "hmac-key", "public-key")
BACKUP_FORMAT = "strongroom-transit-backup"
BACKUP_VERSION = 1
INVALID_BACKUP = "invalid backup: not a transit key backup this server can restore"


def _export_value(policy: KeyPolicy, kind: str, version: int) -> str:
    entry = policy.versions[version]
    family = policy.spec.family
    if kind == "hmac-key":
        key = policy.mac_key(version)
        assert key is not None
        return b64(key)
    if family is Family.AEAD:
        return b64(entry.material)
    # Derived Ed25519 keys export their base seed, as Vault does: derivation happens per context.
    private = load_private(policy.key_type, entry.material)
    return public_key_text(private.public_key()) if kind == "public-key" else private_key_text(private)


def _check_export_kind(policy: KeyPolicy, kind: str) -> None:
    info = policy.spec
    allowed = {
        "encryption-key": info.encryption,
        "signing-key": info.signing,
        "hmac-key": True,
        "public-key": info.asymmetric,
    }
    if not allowed[kind]:
        raise InvalidRequest(f"{kind} export is not supported by keys of type {policy.key_type}")
    if kind != "public-key" and not policy.exportable:
        raise InvalidRequest("private key material is not exportable")


def _export_versions(policy: KeyPolicy, raw: str) -> list[int]:
    if not raw:
        return [n for n in sorted(policy.versions) if n >= policy.min_decryption_version]
    if raw == "latest":
        return [policy.latest_version]
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidRequest("invalid key version: use a number or 'latest'")
    version = int(raw)
    if version < policy.min_decryption_version:
        raise InvalidRequest("version for export is below minimum decryption version")
    if version not in policy.versions:
        raise InvalidRequest("version does not exist or cannot be found")
    return [version]


def parse_backup(text: str) -> KeyPolicy:
    """The key inside a backup, validated in full; :class:`MalformedKey` for anything else."""
    try:
        decoded = base64.b64decode(text, validate=True)
        document = orjson.loads(decoded)
    except (binascii.Error, ValueError):
        raise MalformedKey("not base64 JSON") from None
    if (
        not isinstance(document, dict)
        or document.get("format") != BACKUP_FORMAT
        or document.get("version") != BACKUP_VERSION
    ):
        raise MalformedKey("not a backup")
    return policy_from_dict(document.get("key"))


class PortabilityHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def export(self, req: Request, fd: FieldData) -> Response:
        kind: str = fd.get("type")
        if kind not in EXPORT_TYPES:
            raise InvalidRequest(f"invalid export type: use one of {', '.join(EXPORT_TYPES)}")
        policy = await self.engine.store(req).get(fd.get("name"))
        if policy is None:
            raise NotFound()
        _check_export_kind(policy, kind)
        keys = {str(v): _export_value(policy, kind, v) for v in _export_versions(policy, fd.get("version") or "")}
        return Response(data={"name": policy.name, "type": policy.key_type.value, "keys": keys})

    async def backup(self, req: Request, fd: FieldData) -> Response:
        store = self.engine.store(req)
        now = self.engine.now()

        def stamp(policy: KeyPolicy) -> KeyPolicy:
            if not policy.exportable:
                raise InvalidRequest("exporting is disallowed on the policy")
            if not policy.allow_plaintext_backup:
                raise InvalidRequest("plaintext backup is disallowed on the policy")
            return replace(policy, backup_info=Stamp(time=now, version=policy.latest_version))

        stamped = await store.update(fd.get("name"), stamp)
        if stamped is None:
            raise NotFound()
        document: dict[str, Any] = {"format": BACKUP_FORMAT, "version": BACKUP_VERSION, "key": policy_to_dict(stamped)}
        return Response(data={"backup": b64(orjson.dumps(document))})

    async def restore(self, req: Request, fd: FieldData) -> None:
        text: str = fd.get("backup")
        try:
            # Parsing loads every asymmetric version to validate it: off the event loop.
            policy = await asyncio.to_thread(parse_backup, text)
        except MalformedKey:
            raise InvalidRequest(INVALID_BACKUP) from None
        name = fd.get("name") or policy.name
        if not valid_name(name):
            raise InvalidRequest("invalid key name")
        force: bool = fd.get("force")
        restored = replace(policy, name=name, restore_info=Stamp(time=self.engine.now(), version=policy.latest_version))

        def decide(current: KeyPolicy | None) -> KeyPolicy:
            if current is not None and not force:
                raise InvalidRequest(f"key {name!r} already exists; use force to overwrite it")
            return restored

        await self.engine.store(req).put_over(name, decide)
