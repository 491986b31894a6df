"""The ``strongroom`` command: a Vault-compatible CLI over the HTTP API.

``main()`` is the console entry point. Every expected failure ends as one line
on stderr and Vault's exit code (1 local, 2 remote); Python tracebacks are for
bugs only. Only the ``server`` subcommand imports server code, lazily.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from strongroom import __version__
from strongroom.cli.commands import (
    audit,
    audit_search,
    events,
    generic,
    kv,
    lease,
    login,
    namespace,
    operator,
    policy,
    secrets,
    server,
    status,
    tls_bootstrap,
    tls_renew,
    token,
)
from strongroom.cli.errors import LOCAL_ERROR, CliError
from strongroom.cli.flags import VaultGroup


class RootGroup(VaultGroup):
    """The top-level group: maps every outcome to an exit code, whether or not click is standalone."""

    def main(  # type: ignore[override]  # click's signature, narrowed to what we use
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> int:
        try:
            result = super().main(args, prog_name or "strongroom", complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except CliError as exc:
            click.echo(exc.line(), err=True)
            code = exc.exit_code
        except click.UsageError as exc:
            exc.show()
            code = LOCAL_ERROR
        except click.ClickException as exc:
            exc.show()
            code = LOCAL_ERROR
        except click.Abort:
            click.echo("Aborted!", err=True)
            code = LOCAL_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=RootGroup, name="strongroom")
@click.version_option(__version__, "--version", prog_name="Strongroom", message="%(prog)s v%(version)s")
def cli() -> None:
    """Strongroom: a Vault-compatible secrets manager.

    Flags take one dash or two (-format=json, --format=json). The server is
    STRONGROOM_ADDR or VAULT_ADDR (default https://127.0.0.1:8200); the token is
    STRONGROOM_TOKEN or VAULT_TOKEN, else the one stored by "strongroom login".
    """


for module in (status, operator, login, token, policy, secrets, kv, lease, events, namespace, generic, server):
    module.register(cli)
audit_search.register(audit.register(cli))
tls_renew.register(tls_bootstrap.register(cli))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    return cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
