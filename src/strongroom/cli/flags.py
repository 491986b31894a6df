"""Vault-style flags on top of click.

Vault's CLI (Go's ``flag`` package) takes long flags with one dash
(``-format=json``) and booleans as ``-orphan=true``. Click wants two dashes
and bare booleans. :class:`VaultCommand` rewrites the arguments of each
command before click parses them, using that command's own option names, so
only real option names are touched (a value such as ``-`` or ``k=-x`` never
is) and ``--format=json`` keeps working. Everything after ``--`` is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def normalize_args(args: Sequence[str], long_names: frozenset[str], flag_names: frozenset[str]) -> list[str]:
    """Rewrite ``-name[=v]`` to ``--name[=v]`` and ``--flag=true|false`` to ``--flag``/nothing.

    ``long_names`` are the command's long option names without dashes;
    ``flag_names`` the subset that are booleans. An unknown name is left as
    written so click reports it.
    """
    out: list[str] = []
    for index, given in enumerate(args):
        arg = given
        if arg == "--":
            out.extend(args[index:])
            break
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            name = arg[1:].partition("=")[0]
            if name in long_names:
                arg = "-" + arg
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if eq and name in flag_names:
                lowered = value.lower()
                if lowered in _TRUE:
                    arg = "--" + name
                elif lowered in _FALSE:
                    if f"no-{name}" in long_names:
                        out.append(f"--no-{name}")
                    continue
        out.append(arg)
    return out


def _names(params: Sequence[click.Parameter]) -> tuple[frozenset[str], frozenset[str]]:
    long_names: set[str] = set()
    flag_names: set[str] = set()
    for param in params:
        if not isinstance(param, click.Option):
            continue
        for opt in (*param.opts, *param.secondary_opts):
            if opt.startswith("--"):
                long_names.add(opt[2:])
                if param.is_flag and not param.count:
                    flag_names.add(opt[2:])
    long_names.add("help")
    return frozenset(long_names), frozenset(flag_names)


class VaultCommand(click.Command):
    """A click command that also accepts Vault's single-dash long flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        long_names, flag_names = _names(self.get_params(ctx))
        return super().parse_args(ctx, normalize_args(args, long_names, flag_names))


class VaultGroup(click.Group):
    """A click group whose subcommands and subgroups are Vault-style too."""

    command_class = VaultCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Only the group's own options (-help) are rewritten here; the chosen
        # subcommand rewrites the rest with its own names.
        if args and args[0] in ("-help", "-version"):
            args = ["-" + args[0], *args[1:]]
        return super().parse_args(ctx, args)


VaultGroup.group_class = VaultGroup
