"""What every API command shares: Vault's global flags, the resolved settings,
the API client, the output format, and one place that turns errors into exit codes.

A command is declared with :func:`api_command`; its callback receives a
:class:`Session` first and its own parameters after. Expected failures are
raised as :class:`CliError` and printed by the entry point as one line.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from strongroom.cli import output
from strongroom.cli.client import ApiClient, ApiResponse
from strongroom.cli.settings import FORMATS, Settings, env, resolve, warn
from strongroom.cli.token_helper import read_token, token_path

F = TypeVar("F", bound=Callable[..., Any])

_GLOBAL_PARAMS = (
    "address",
    "namespace",
    "ca_cert",
    "client_cert",
    "client_key",
    "tls_skip_verify",
    "output_format",
)


def _global_options(func: F) -> F:
    decorators = [
        click.option("--address", metavar="URL", help="Server address (STRONGROOM_ADDR / VAULT_ADDR)."),
        click.option("--namespace", "--ns", "namespace", metavar="NS", help="Namespace (VAULT_NAMESPACE)."),
        click.option("--ca-cert", metavar="FILE", help="CA bundle to verify the server (VAULT_CACERT)."),
        click.option("--client-cert", metavar="FILE", help="Client certificate for mTLS (VAULT_CLIENT_CERT)."),
        click.option("--client-key", metavar="FILE", help="Client key for mTLS (VAULT_CLIENT_KEY)."),
        click.option("--tls-skip-verify", is_flag=True, default=False, help="Do not verify TLS (VAULT_SKIP_VERIFY)."),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(FORMATS, case_sensitive=False),
            default=None,
            help="Output format: table (default), json or yaml (VAULT_FORMAT).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


class Session:
    """Settings, a lazily opened API client, and output helpers for one command run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: ApiClient | None = None

    @property
    def format(self) -> str:
        return self.settings.format

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = ApiClient(self.settings)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.__exit__(None, None, None)
            self._client = None

    # Shorthands for the four Vault verbs plus the ones some endpoints need.
    def read(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.client.request("GET", path, **kwargs)

    def write(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> ApiResponse:
        return self.client.request("PUT", path, json_body=body if body is not None else {}, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> ApiResponse:
        return self.client.request("POST", path, json_body=body if body is not None else {}, **kwargs)

    def list(self, path: str, **kwargs: Any) -> ApiResponse:
        # Like Vault's own client: LIST goes out as GET ?list=true, which every
        # HTTP parser and proxy accepts (some reject unknown verbs outright).
        params = {**(kwargs.pop("params", None) or {}), "list": "true"}
        return self.client.request("GET", path, params=params, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.client.request("DELETE", path, **kwargs)

    def show(self, structured: Any, table: Callable[[], str]) -> None:
        """Print ``structured`` as JSON/YAML, or the ``table()`` text in table format."""
        if self.format == "table":
            output.emit(table())
        else:
            output.emit(output.dump(structured, self.format))


def current_token() -> str | None:
    """The token to send: STRONGROOM_TOKEN / VAULT_TOKEN, else the token helper's file."""
    return env("TOKEN") or read_token(token_path())


def api_command(group: click.Group, name: str, **attrs: Any) -> Callable[[F], F]:
    """Register ``func(session, **params)`` as subcommand ``name`` of ``group`` with the global flags."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def callback(**params: Any) -> Any:
            flags = {key: params.pop(key) for key in _GLOBAL_PARAMS}
            settings = resolve(
                address=flags["address"],
                namespace=flags["namespace"],
                ca_cert=flags["ca_cert"],
                client_cert=flags["client_cert"],
                client_key=flags["client_key"],
                skip_verify=flags["tls_skip_verify"],
                output_format=flags["output_format"],
                token=current_token(),
            )
            if settings.skip_verify and settings.address.startswith("https://"):
                warn("TLS certificate verification is disabled")
            session = Session(settings)
            try:
                return func(session, **params)
            finally:
                session.close()

        command = group.command(name, **attrs)(_global_options(callback))
        # Show the command's own options in --help before the shared ones.
        command.params.sort(key=lambda param: param.name in _GLOBAL_PARAMS)
        return func

    return decorate


def stdin_text() -> str:
    """All of stdin as text (for ``-`` arguments)."""
    return sys.stdin.read()


def ask_secret(prompt: str, given: str | None) -> str:
    """A secret argument: as given, ``-`` for one line of stdin, else a prompt that does not echo.

    When stdin is not a terminal there is nobody to prompt, so one line is
    read from it (``echo "$KEY" | strongroom operator unseal`` works, and no
    "input may be echoed" warning is printed).
    """
    if given and given != "-":
        return given.strip()
    if given == "-" or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return str(click.prompt(prompt, hide_input=True, err=True)).strip()
