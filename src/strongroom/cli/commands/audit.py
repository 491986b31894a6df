"""``strongroom audit enable|disable|list|verify``: audit devices under ``sys/audit``, and log verification.

``audit verify`` works on files (it needs the server only to fetch the checkpoint
public key when ``-public-key`` is not given). Exit status: 0 when every chain
in the log is intact and closed (or only open, with ``-allow-open-tail``), 1
when a line was changed, deleted, inserted or reordered, or a tail is unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import LocalError, RemoteError, doing
from strongroom.cli.kvargs import parse_pairs, read_file
from strongroom.cli.kvpaths import clean
from strongroom.cli.session import Session, api_command

NO_DEVICES = 2  # Vault's exit status for "audit list" with nothing enabled


def device_path(path: str) -> str:
    """``file`` / ``/file/`` -> ``file/``."""
    return clean(path) + "/"


def devices_table(devices: Mapping[str, Any], detailed: bool) -> str:
    headers = ["Path", "Type", "Description"]
    if detailed:
        headers += ["Replication", "Options"]
    rows = []
    for path in sorted(devices):
        info = devices[path]
        row = [path, str(info.get("type", "")), str(info.get("description") or "n/a")]
        if detailed:
            options = info.get("options") or {}
            row += [
                "local" if info.get("local") else "replicated",
                " ".join(f"{key}={options[key]}" for key in sorted(options)),
            ]
        rows.append(row)
    return output.columns(rows, headers)


def listed_devices(session: Session) -> dict[str, Any]:
    answer = session.read("sys/audit")
    data = answer.data if isinstance(answer.data, Mapping) else (answer.body or {})
    return {key: value for key, value in data.items() if isinstance(value, Mapping) and "type" in value}


def register(cli: click.Group) -> click.Group:
    """Add the ``audit`` group and its commands; returns the group (``audit search`` attaches to it)."""

    @cli.group("audit")
    def audit() -> None:
        """Enable, disable and list audit devices; verify audit logs."""

    @api_command(audit, "enable", help="Enable an audit device of TYPE with options K=V (file_path=..., ...).")
    @click.argument("device_type", metavar="TYPE")
    @click.argument("options", nargs=-1, metavar="[K=V...]")
    @click.option("--path", metavar="PATH", help="Where to enable it (default: the type's name).")
    @click.option("--description", metavar="TEXT", default="", help="Human-readable description.")
    @click.option("--local", is_flag=True, help="Mark the device local (kept for Vault compatibility).")
    def enable(session: Session, *, device_type: str, options: tuple[str, ...], path: str | None,
               description: str, local: bool) -> int:
        target = device_path(path or device_type)
        body = {"type": device_type, "description": description, "options": parse_pairs(options, "option"),
                "local": local}
        with doing(f"enabling audit device at {target}"):
            session.write(f"sys/audit/{target}", body)
        output.emit(f"Success! Enabled the {device_type} audit device at: {target}")
        return 0

    @api_command(audit, "disable", help="Disable the audit device at PATH.")
    @click.argument("path")
    def disable(session: Session, *, path: str) -> int:
        target = device_path(path)
        with doing(f"disabling audit device at {target}"):
            session.delete(f"sys/audit/{target}")
        output.emit(f"Success! Disabled audit device (if it was enabled) at: {target}")
        return 0

    @api_command(audit, "list", help="List the enabled audit devices.")
    @click.option("--detailed", is_flag=True, help="Also show replication and options.")
    def list_devices(session: Session, *, detailed: bool) -> int:
        with doing("listing audit devices"):
            devices = listed_devices(session)
        if not devices and session.format == "table":
            click.echo("No audit devices are enabled.", err=True)
            return NO_DEVICES
        session.show(devices, lambda: devices_table(devices, detailed))
        return 0

    @api_command(audit, "verify", help="Prove the audit log made of FILE... intact (rotated files in any order).")
    @click.argument("files", nargs=-1, required=True, metavar="FILE...")
    @click.option("--public-key", metavar="KEY|@FILE",
                  help="The checkpoint public key (base64, as sys/audit lists it). Default: fetched from the server.")
    @click.option("--prefix", default="", metavar="TEXT", help="The device's prefix option, if it had one.")
    @click.option("--allow-open-tail", is_flag=True,
                  help="Accept chains still being written (lines after their last checkpoint).")
    def verify(session: Session, *, files: tuple[str, ...], public_key: str | None, prefix: str,
               allow_open_tail: bool) -> int:
        from strongroom.core.audit.chain import load_public_key
        from strongroom.core.audit.verify import verify_logs

        text = _key_text(session, public_key)
        try:
            key = load_public_key(text)
        except ValueError as exc:
            raise LocalError(f"invalid public key: {exc}") from None
        for name in files:
            if not Path(name).is_file():
                raise LocalError(f"cannot read {name}: no such file")
        try:
            report = verify_logs(list(files), key, prefix=prefix)
        except OSError as exc:
            raise LocalError(f"cannot read the log: {exc.strerror or exc}") from None
        failures = report.failures(allow_open_tail)
        structured = {
            "intact": not failures,
            "files": report.files,
            "chains": report.chains,
            "entries": report.entries,
            "checkpoints": report.checkpoints,
            "problems": [{"kind": p.kind, "file": p.file, "line": p.line, "message": p.message}
                         for p in report.problems],
        }
        session.show(structured, lambda: _verify_text(report.files, structured, failures, allow_open_tail))
        return 0 if not failures else 1

    return audit


def _key_text(session: Session, given: str | None) -> str:
    if given:
        return read_file(given[1:]).strip() if given.startswith("@") else given
    with doing("fetching the checkpoint public key from sys/audit"):
        devices = listed_devices(session)
    keys = {str(info["checkpoint_public_key"]) for info in devices.values() if info.get("checkpoint_public_key")}
    if not keys:
        raise RemoteError("the server lists no checkpoint public key (no audit device is enabled): "
                          "pass -public-key")
    return keys.pop()


def _verify_text(files: list[str], summary: Mapping[str, Any], failures: list[Any], allow_open_tail: bool) -> str:
    lines = [
        f"Files: {len(files)} ({', '.join(files)})",
        f"Chains: {summary['chains']}, lines: {summary['entries']}, checkpoints: {summary['checkpoints']}",
    ]
    if not failures:
        tails = [p for p in summary["problems"] if p["kind"] == "open-tail"]
        note = f" ({len(tails)} open tail(s) accepted)" if tails and allow_open_tail else ""
        lines.append(f"Intact: every line is in its chain and covered by a valid checkpoint{note}.")
        return "\n".join(lines)
    first = failures[0]
    lines.append(f"NOT VERIFIED: {len(failures)} problem(s); the first:")
    lines.append(f"  {first}")
    for problem in failures[1:20]:
        lines.append(f"  also: {problem}")
    if len(failures) > 20:
        lines.append(f"  ... and {len(failures) - 20} more")
    return "\n".join(lines)
