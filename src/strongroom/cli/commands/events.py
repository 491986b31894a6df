"""``strongroom events subscribe TYPE``: print each event of ``sys/events/subscribe`` as one JSON line.

Vault's CLI speaks WebSocket; this one reads the same stream as server-sent events
over the CLI's ordinary HTTP client, so TLS, CA and client-certificate settings apply
unchanged. It runs until interrupted, the server ends the stream, or ``-timeout`` passes.
"""

from __future__ import annotations

import json
import sys

import click

from strongroom.cli.errors import LocalError, doing
from strongroom.cli.session import Session, api_command
from strongroom.sdk.fields import parse_duration


def register(cli: click.Group) -> None:
    @cli.group("events")
    def events() -> None:
        """Subscribe to events (KV changes, rotations) as they happen."""

    @api_command(events, "subscribe", help="Print events of TYPE (a glob such as kv*), one JSON line each.")
    @click.argument("event_type", metavar="TYPE")
    @click.option("--path-prefix", metavar="PREFIX", help="Only events about paths under PREFIX.")
    @click.option("--filter", "filter_text", metavar="EXPR", help='Filter, e.g. \'operation != "data-write"\'.')
    @click.option("--timeout", metavar="DURATION", help="Stop after this long (e.g. 30s); default: run until stopped.")
    def subscribe(
        session: Session, *, event_type: str, path_prefix: str | None, filter_text: str | None, timeout: str | None
    ) -> int:
        params = {"json": "true"}
        if path_prefix:
            params["path_prefix"] = path_prefix
        if filter_text:
            params["filter"] = filter_text
        seconds: float | None = None
        if timeout:
            try:
                seconds = float(parse_duration(timeout, "timeout"))
            except Exception as exc:
                raise LocalError(f"invalid -timeout: {timeout!r}") from exc
        kind = ""
        with doing(f"subscribing to {event_type}"):
            for line in session.client.stream_lines(f"sys/events/subscribe/{event_type}", params, timeout=seconds):
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    payload = line[5:].strip()
                    if kind == "close":
                        reason = json.loads(payload).get("reason", "")
                        click.echo(f"the server ended the subscription: {reason}", err=True)
                        return 1
                    click.echo(json.dumps(json.loads(payload), separators=(",", ":")))
                    sys.stdout.flush()
        return 0
