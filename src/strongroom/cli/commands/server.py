"""``strongroom server``: start a server from a configuration file, or in dev mode.

This is the only command that imports server code, and only when it runs
(``strongroom.server.main.run_server``), so the rest of the CLI stays a plain
HTTP client.
"""

from __future__ import annotations

import click

from strongroom.cli.errors import LocalError
from strongroom.cli.settings import env
from strongroom.config import load_config
from strongroom.errors import ConfigError

DEFAULT_DEV_LISTEN = "127.0.0.1:8200"


def register(cli: click.Group) -> None:
    @cli.command("server")
    @click.option("--config", "configs", multiple=True, metavar="FILE", help="Configuration file (HCL or JSON).")
    @click.option("--dev", is_flag=True, help="In-memory, unsealed, root token printed: for development only.")
    @click.option("--dev-root-token-id", metavar="TOKEN", help="Root token ID in dev mode (VAULT_DEV_ROOT_TOKEN_ID).")
    @click.option(
        "--dev-listen-address",
        metavar="HOST:PORT",
        help=f"Dev mode listen address (VAULT_DEV_LISTEN_ADDRESS, default {DEFAULT_DEV_LISTEN}).",
    )
    def server(
        configs: tuple[str, ...], dev: bool, dev_root_token_id: str | None, dev_listen_address: str | None
    ) -> int:
        """Run a server: strongroom server -config FILE, or strongroom server -dev."""
        if dev and configs:
            raise LocalError("-dev and -config cannot be combined")
        if not dev and not configs:
            raise LocalError("a configuration file is required: strongroom server -config FILE (or -dev)")
        if len(configs) > 1:
            raise LocalError("only one -config file is supported")
        if not dev and (dev_root_token_id or dev_listen_address):
            raise LocalError("-dev-root-token-id and -dev-listen-address need -dev")
        config = None
        if configs:
            try:
                config = load_config(configs[0])
            except ConfigError as exc:
                raise LocalError(exc.message) from None
        # Imported here so that every other command stays a plain HTTP client.
        from strongroom.server.main import run_server

        return run_server(
            config,
            dev=dev,
            dev_root_token=dev_root_token_id or (env("DEV_ROOT_TOKEN_ID") if dev else None),
            dev_listen_address=dev_listen_address or env("DEV_LISTEN_ADDRESS") or DEFAULT_DEV_LISTEN,
        )
