"""The path table of a KV v2 mount (paths relative to the mount, as in Vault's API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strongroom.errors import NotFound
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import BackendContext, Operation, Request
from strongroom.sdk.scheduling import Job

from .config import ConfigHandlers
from .data import DataHandlers
from .engine import Engine
from .metadata import MetadataHandlers
from .rotation import RotationHandlers
from .versions import VersionHandlers

_PATH = Field(FieldType.STRING, default="", description="Location of the secret, relative to the mount.")
_VERSION = Field(FieldType.INT, default=0, description="The version to read; 0 or absent: the latest.")
_SETTINGS: Mapping[str, Field] = {
    "max_versions": Field(FieldType.INT, description="Versions to keep; 0: the default (10)."),
    "cas_required": Field(FieldType.BOOL, description="Require options.cas on every data write."),
    "delete_version_after": Field(FieldType.DURATION, description="Soft-delete versions this long after."),
}
_ROTATION: Mapping[str, Field] = {
    "interval": Field(FieldType.DURATION, description="Rotate this often (or give cron)."),
    "cron": Field(FieldType.STRING, default="", description="Rotate at these times: 5-field cron, UTC."),
    "generator": Field(FieldType.STRING, default="", description="password, random, keypair or webhook."),
    "key": Field(FieldType.STRING, default="value", description="The field of the secret that gets the value."),
    "password_policy": Field(FieldType.STRING, default="", description="password: the policy; empty: default."),
    "bytes": Field(FieldType.INT, default=32, description="random: how many bytes."),
    "encoding": Field(FieldType.STRING, default="base64", description="random: base64 or hex."),
    "key_type": Field(FieldType.STRING, default="ed25519", description="keypair: rsa, ec or ed25519."),
    "key_bits": Field(FieldType.INT, default=0, description="keypair: rsa 2048/3072/4096, ec 256/384/521."),
    "url": Field(FieldType.STRING, default="", description="webhook: where to POST; the JSON answer's value."),
}
_VERSIONS = {"path": _PATH, "versions": Field(FieldType.ANY, description="Version numbers to act on.")}

_INVALID_PATH = (
    "invalid path for a versioned K/V secrets engine: use the data/, metadata/, subkeys/, delete/, "
    "undelete/ and destroy/ endpoints (or 'kv' commands of the CLI)"
)


async def _invalid_path(req: Request, fd: FieldData) -> None:
    raise NotFound(_INVALID_PATH)


class KVv2:
    """Builds the handlers of one v2 mount and declares which path and operation reach each."""

    def __init__(self, ctx: BackendContext, egress: EgressPolicy | None = None) -> None:
        engine = Engine(ctx)
        self.config = ConfigHandlers(engine)
        self.rotation = RotationHandlers(engine, egress or EgressPolicy())
        self.data = DataHandlers(engine)
        self.versions = VersionHandlers(engine)
        self.metadata = MetadataHandlers(engine)

    async def run_job(self, job: Job) -> float | None:
        return await self.rotation.run_job(job)

    def paths(self) -> Sequence[Path]:
        return [
            Path(
                "config",
                {Operation.READ: self.config.read, Operation.UPDATE: self.config.write},
                fields=_SETTINGS,
                help="Mount-wide settings applied to every secret.",
            ),
            Path(
                "data/(?P<path>.*)",
                {
                    Operation.READ: self.data.read,
                    Operation.UPDATE: self.data.write,
                    Operation.PATCH: self.data.patch,
                    Operation.DELETE: self.data.delete,
                },
                fields={
                    "path": _PATH,
                    "version": _VERSION,
                    "options": Field(FieldType.MAP, description='Write options, e.g. {"cas": 3}.'),
                    "data": Field(FieldType.MAP, description="The secret's key/value pairs."),
                },
                existence=self.data.exists,
                help="Write, patch, read and soft-delete the versions of a secret.",
            ),
            Path(
                "subkeys/(?P<path>.*)",
                {Operation.READ: self.data.subkeys},
                fields={
                    "path": _PATH,
                    "version": _VERSION,
                    "depth": Field(FieldType.INT, default=0, description="Deepest level shown; 0: all."),
                },
                help="The structure of a secret with its values replaced by null.",
            ),
            Path(
                "delete/(?P<path>.*)",
                {Operation.UPDATE: self.versions.delete},
                fields=_VERSIONS,
                help="Soft-delete the listed versions.",
            ),
            Path(
                "undelete/(?P<path>.*)",
                {Operation.UPDATE: self.versions.undelete},
                fields=_VERSIONS,
                help="Undo the soft-delete of the listed versions.",
            ),
            Path(
                "destroy/(?P<path>.*)",
                {Operation.UPDATE: self.versions.destroy},
                fields=_VERSIONS,
                help="Permanently remove the data of the listed versions.",
            ),
            Path(
                "metadata(?:/(?P<path>.*))?",
                {
                    Operation.READ: self.metadata.read,
                    Operation.UPDATE: self.metadata.write,
                    Operation.PATCH: self.metadata.patch,
                    Operation.DELETE: self.metadata.delete,
                    Operation.LIST: self.metadata.list,
                    Operation.SCAN: self.metadata.scan,
                },
                fields={
                    "path": _PATH,
                    **_SETTINGS,
                    "custom_metadata": Field(FieldType.MAP, description="Non-secret string pairs."),
                    "after": Field(FieldType.STRING, default="", description="List entries after this one."),
                    "limit": Field(FieldType.INT, default=0, description="At most this many; 0: all."),
                },
                existence=self.metadata.exists,
                help="Read and change a secret's metadata and settings; list and scan folders.",
            ),
            Path(
                "rotation/(?P<path>.+)",
                {Operation.READ: self.rotation.read, Operation.UPDATE: self.rotation.write,
                 Operation.DELETE: self.rotation.delete},
                fields={"path": _PATH, **_ROTATION},
                help="The rotation policy of a secret (a Strongroom extension), its state and recent attempts.",
            ),
            Path(
                "rotate/(?P<path>.+)",
                {Operation.UPDATE: self.rotation.rotate_now},
                fields={"path": _PATH},
                help="Rotate a secret now with its rotation policy (a Strongroom extension).",
            ),
            Path(
                ".*",
                dict.fromkeys(
                    (
                        Operation.READ,
                        Operation.UPDATE,
                        Operation.PATCH,
                        Operation.DELETE,
                        Operation.LIST,
                        Operation.SCAN,
                    ),
                    _invalid_path,
                ),
                help="Anything else: a v1-style path on a v2 mount.",
            ),
        ]
