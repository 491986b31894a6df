"""``strongroom kv ...``: the KV secrets engine, with Vault's path rewriting for version 2.

The mount and its version are found with ``sys/internal/ui/mounts/<path>``
(any token may ask; the server answers for paths the token can reach), and
with ``sys/mounts`` when that endpoint is unavailable. ``-mount`` names the
mount explicitly; the path argument is then relative to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.commands.kv_rotation import register_rotation
from strongroom.cli.errors import ApiError, LocalError, RemoteError, doing
from strongroom.cli.kvargs import parse_kv_args, parse_pairs
from strongroom.cli.kvpaths import (
    KvMount,
    Operation,
    api_path,
    clean,
    longest_mount,
    mount_from_info,
    relative,
)
from strongroom.cli.session import Session, api_command, stdin_text

MERGE_PATCH = "application/merge-patch+json"


def find_mount(session: Session, path: str, mount: str | None) -> tuple[KvMount, str]:
    """The KV mount for ``path`` (or the ``-mount`` named one) and the secret path inside it."""
    probe = clean(mount) if mount is not None else clean(path)
    with doing(f"determining the KV mount of {probe or '/'}"):
        try:
            info = session.read(f"sys/internal/ui/mounts/{probe}").data
        except ApiError as exc:
            if exc.status == 403:
                raise
            info = _mount_from_table(session, probe)
        kv_mount = mount_from_info(info) if isinstance(info, Mapping) else None
        if kv_mount is None:
            kind = info.get("type") if isinstance(info, Mapping) else None
            raise LocalError(f"{probe} is not in a KV secrets engine" + (f" (it is {kind})" if kind else ""))
    if mount is not None:
        if clean(mount) + "/" != kv_mount.path:
            raise LocalError(f"-mount={mount} is not a mount point (the mount is {kv_mount.path})")
        return kv_mount, clean(path)
    return kv_mount, relative(kv_mount, path)


def _mount_from_table(session: Session, probe: str) -> Mapping[str, Any]:
    answer = session.read("sys/mounts")
    table = answer.data if isinstance(answer.data, Mapping) else (answer.body or {})
    found = longest_mount(table, probe)
    if found is None:
        raise LocalError(f"no secrets engine is mounted at {probe}")
    prefix, info = found
    return {**info, "path": prefix}


def _not_found(shown: str) -> RemoteError:
    return RemoteError(f"No value found at {shown}", action="")


def _versions(values: tuple[str, ...]) -> list[int]:
    out: list[int] = []
    for item in values:
        for raw in item.split(","):
            part = raw.strip()
            if not part:
                continue
            if not part.isdigit():
                raise LocalError(f'invalid -versions value "{part}": expected version numbers')
            out.append(int(part))
    if not out:
        raise LocalError("-versions is required")
    return out


def _written(session: Session, kv_mount: KvMount, secret: str, body: Mapping[str, Any] | None) -> None:
    """The output of ``kv put`` / ``kv patch``."""
    shown = api_path(kv_mount, secret)
    if kv_mount.version == 1 or not body or not isinstance(body.get("data"), Mapping):
        output.emit(f"Success! Data written to: {shown}")
        return
    output.emit_warnings(body)
    if session.format != "table":
        output.emit(output.dump(dict(body), session.format))
        return
    metadata = body["data"]
    output.emit("== Secret Path ==\n" + shown + "\n")
    output.emit(output.section("Metadata") + "\n" + output.key_value_table(sorted(metadata.items())))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _print_v2_secret(session: Session, shown: str, body: Mapping[str, Any], field: str | None) -> None:
    outer = _mapping(body.get("data"))
    data = outer.get("data") if isinstance(outer.get("data"), Mapping) else None
    metadata = _mapping(outer.get("metadata"))
    if field:
        if data is None or field not in data:
            raise LocalError(f'field "{field}" not present in secret')
        output.emit_raw_field(data[field])
        return
    output.emit_warnings(body)
    if session.format != "table":
        output.emit(output.dump(dict(body), session.format))
        return
    parts = ["== Secret Path ==\n" + shown]
    if metadata:
        parts.append(output.section("Metadata") + "\n" + output.key_value_table(sorted(metadata.items())))
    if data is None:
        parts.append("(the data of this version is deleted or destroyed)")
    else:
        parts.append("=== Data ===\n" + output.key_value_table(sorted(data.items())))
    output.emit("\n\n".join(parts))


def register(cli: click.Group) -> None:
    @cli.group("kv")
    def kv() -> None:
        """Read and write KV secrets (version 1 and 2 mounts)."""

    mount_option = click.option("--mount", metavar="PATH", help="The KV mount; PATH is then relative to it.")

    @api_command(kv, "put", help="Write a secret: kv put PATH key=value ... (or - for JSON on stdin).")
    @mount_option
    @click.option("--cas", type=click.IntRange(min=0), help="Check-and-set: only write if the version is this.")
    @click.argument("path")
    @click.argument("pairs", nargs=-1, metavar="[K=V...]")
    def put(session: Session, *, mount: str | None, cas: int | None, path: str, pairs: tuple[str, ...]) -> int:
        data = parse_kv_args(pairs, stdin_text)
        if not data:
            raise LocalError("no data given: kv put PATH key=value ...")
        kv_mount, secret = find_mount(session, path, mount)
        shown = api_path(kv_mount, secret)
        with doing(f"writing data to {shown}"):
            if kv_mount.version == 1:
                answer = session.write(shown, data)
            else:
                body: dict[str, Any] = {"data": data}
                if cas is not None:
                    body["options"] = {"cas": cas}
                answer = session.post(shown, body)
        _written(session, kv_mount, secret, answer.body)
        return 0

    @api_command(kv, "patch", help="Update some keys of a version 2 secret: kv patch PATH key=value ...")
    @mount_option
    @click.option("--cas", type=click.IntRange(min=0), help="Check-and-set version.")
    @click.option(
        "--method",
        type=click.Choice(["patch", "rw"]),
        default="patch",
        show_default=True,
        help="patch: HTTP PATCH (merge patch); rw: read, merge, write with check-and-set.",
    )
    @click.argument("path")
    @click.argument("pairs", nargs=-1, metavar="[K=V...]")
    def patch(
        session: Session,
        *,
        mount: str | None,
        cas: int | None,
        method: str,
        path: str,
        pairs: tuple[str, ...],
    ) -> int:
        data = parse_kv_args(pairs, stdin_text)
        if not data:
            raise LocalError("no data given: kv patch PATH key=value ...")
        kv_mount, secret = find_mount(session, path, mount)
        if kv_mount.version != 2:
            raise LocalError("kv patch needs a KV version 2 mount")
        shown = api_path(kv_mount, secret)
        with doing(f"writing data to {shown}"):
            answer = None
            if method == "patch":
                body: dict[str, Any] = {
                    "data": data,
                    **({"options": {"cas": cas}} if cas is not None else {}),
                }
                try:
                    answer = session.client.request("PATCH", shown, json_body=body, content_type=MERGE_PATCH)
                except ApiError as exc:
                    if exc.status != 405:
                        raise
            if answer is None:
                answer = _read_merge_write(session, shown, data, cas)
        _written(session, kv_mount, secret, answer.body)
        return 0

    @api_command(kv, "get", help="Read a secret.")
    @mount_option
    @click.option("--version", "version", type=click.IntRange(min=0), help="Version to read (v2).")
    @click.option("--field", metavar="NAME", help="Print only this key's value.")
    @click.argument("path")
    def get(session: Session, *, mount: str | None, version: int | None, field: str | None, path: str) -> int:
        kv_mount, secret = find_mount(session, path, mount)
        shown = api_path(kv_mount, secret)
        params = {"version": version} if version is not None and kv_mount.version == 2 else None
        with doing(f"reading {shown}"):
            try:
                answer = session.read(shown, params=params)
            except ApiError as exc:
                if exc.status == 404:
                    raise _not_found(shown) from None
                raise
        body = answer.body or {}
        if kv_mount.version == 1:
            output.emit_secret(body, session.format, field)
        else:
            _print_v2_secret(session, shown, body, field)
        return 0

    @api_command(kv, "delete", help="Delete the latest version (or -versions) of a secret.")
    @mount_option
    @click.option("--versions", multiple=True, metavar="N,M", help="Versions to delete (v2).")
    @click.argument("path")
    def delete(session: Session, *, mount: str | None, versions: tuple[str, ...], path: str) -> int:
        kv_mount, secret = find_mount(session, path, mount)
        with doing(f"deleting {api_path(kv_mount, secret)}"):
            if versions:
                shown = api_path(kv_mount, secret, "delete")
                session.post(shown, {"versions": _versions(versions)})
            else:
                shown = api_path(kv_mount, secret)
                session.delete(shown)
        output.emit(f"Success! Data deleted (if it existed) at: {shown}")
        return 0

    @api_command(kv, "undelete", help="Restore deleted versions of a version 2 secret.")
    @mount_option
    @click.option("--versions", multiple=True, metavar="N,M", help="Versions to restore (required).")
    @click.argument("path")
    def undelete(session: Session, *, mount: str | None, versions: tuple[str, ...], path: str) -> int:
        return _versions_operation(session, mount, versions, path, "undelete")

    @api_command(kv, "destroy", help="Permanently erase versions of a version 2 secret.")
    @mount_option
    @click.option("--versions", multiple=True, metavar="N,M", help="Versions to destroy (required).")
    @click.argument("path")
    def destroy(session: Session, *, mount: str | None, versions: tuple[str, ...], path: str) -> int:
        return _versions_operation(session, mount, versions, path, "destroy")

    @api_command(kv, "list", help="List the keys under a path.")
    @mount_option
    @click.argument("path", required=False, default="")
    def list_keys(session: Session, *, mount: str | None, path: str) -> int:
        kv_mount, secret = find_mount(session, path, mount)
        shown = api_path(kv_mount, secret, "metadata" if kv_mount.version == 2 else "data")
        with doing(f"listing {shown}"):
            try:
                keys = list((session.list(shown).data or {}).get("keys") or [])
            except ApiError as exc:
                if exc.status == 404:
                    raise _not_found(shown) from None
                raise
        session.show(keys, lambda: output.columns([[key] for key in keys], ["Keys"]))
        return 0

    register_rotation(kv, mount_option)

    @kv.group("metadata")
    def metadata() -> None:
        """Read, write and delete the metadata of version 2 secrets."""

    @api_command(metadata, "get", help="Print a secret's metadata and its versions.")
    @mount_option
    @click.argument("path")
    def metadata_get(session: Session, *, mount: str | None, path: str) -> int:
        kv_mount, secret = find_mount(session, path, mount)
        shown = api_path(kv_mount, secret, "metadata")
        with doing(f"reading {shown}"):
            try:
                answer = session.read(shown)
            except ApiError as exc:
                if exc.status == 404:
                    raise _not_found(shown) from None
                raise
        body = answer.body or {}
        data = answer.data if isinstance(answer.data, Mapping) else {}
        session.show(body, lambda: _metadata_text(shown, data))
        return 0

    @api_command(metadata, "put", help="Set a secret's metadata (max versions, CAS, custom metadata).")
    @mount_option
    @click.option("--max-versions", type=click.IntRange(min=0), help="Versions to keep (0 = mount default).")
    @click.option("--cas-required/--no-cas-required", default=None, help="Require check-and-set on writes.")
    @click.option("--delete-version-after", metavar="DURATION", help="Delete versions after this long.")
    @click.option("--custom-metadata", multiple=True, metavar="K=V", help="Custom metadata (repeatable).")
    @click.argument("path")
    def metadata_put(
        session: Session,
        *,
        mount: str | None,
        max_versions: int | None,
        cas_required: bool | None,
        delete_version_after: str | None,
        custom_metadata: tuple[str, ...],
        path: str,
    ) -> int:
        kv_mount, secret = find_mount(session, path, mount)
        shown = api_path(kv_mount, secret, "metadata")
        body: dict[str, Any] = {}
        if max_versions is not None:
            body["max_versions"] = max_versions
        if cas_required is not None:
            body["cas_required"] = cas_required
        if delete_version_after is not None:
            body["delete_version_after"] = delete_version_after
        if custom_metadata:
            body["custom_metadata"] = parse_pairs(custom_metadata, "custom-metadata")
        with doing(f"writing {shown}"):
            session.post(shown, body)
        output.emit(f"Success! Data written to: {shown}")
        return 0

    @api_command(metadata, "delete", help="Delete a secret's metadata and every version.")
    @mount_option
    @click.argument("path")
    def metadata_delete(session: Session, *, mount: str | None, path: str) -> int:
        kv_mount, secret = find_mount(session, path, mount)
        shown = api_path(kv_mount, secret, "metadata")
        with doing(f"deleting {shown}"):
            session.delete(shown)
        output.emit(f"Success! Data deleted (if it existed) at: {shown}")
        return 0


def _versions_operation(
    session: Session, mount: str | None, versions: tuple[str, ...], path: str, operation: Operation
) -> int:
    numbers = _versions(versions)
    kv_mount, secret = find_mount(session, path, mount)
    shown = api_path(kv_mount, secret, operation)
    with doing(f"writing to {shown}"):
        session.post(shown, {"versions": numbers})
    output.emit(f"Success! Data written to: {shown}")
    return 0


def _read_merge_write(session: Session, shown: str, data: dict[str, Any], cas: int | None) -> Any:
    """``kv patch -method=rw``: read the current version, merge, write with check-and-set."""
    try:
        current = session.read(shown).data or {}
    except ApiError as exc:
        if exc.status == 404:
            raise _not_found(shown) from None
        raise
    existing = current.get("data") if isinstance(current.get("data"), Mapping) else None
    if existing is None:
        raise _not_found(shown)
    version = (current.get("metadata") or {}).get("version")
    merged = {**existing, **data}
    check = cas if cas is not None else version
    return session.post(shown, {"data": merged, **({"options": {"cas": check}} if check is not None else {})})


def _metadata_text(shown: str, data: Mapping[str, Any]) -> str:
    top = {key: value for key, value in data.items() if key != "versions"}
    parts = [
        "== Metadata Path ==\n" + shown,
        output.section("Metadata") + "\n" + output.key_value_table(sorted(top.items())),
    ]
    versions = _mapping(data.get("versions"))
    for number in sorted(versions, key=lambda v: int(v) if str(v).isdigit() else 0):
        info = versions[number]
        if isinstance(info, Mapping):
            parts.append(f"==== Version {number} ====\n" + output.key_value_table(sorted(info.items())))
    return "\n\n".join(parts)
