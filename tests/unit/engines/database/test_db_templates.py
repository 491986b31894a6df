"""Statement splitting (MySQL runs one statement per call) and the per-plugin username rules."""

from __future__ import annotations

import os

from strongroom.engines.database.mysql import LEGACY, MODERN, parse_dsn
from strongroom.engines.database.postgres import Postgres
from strongroom.engines.database.templates import render_username, split_statements


def test_semicolons_inside_quotes_do_not_split() -> None:
    text = "CREATE USER 'a;b'@'%' IDENTIFIED BY 'p;w'; GRANT SELECT ON `t;x`.* TO \"q;\" ;; "
    assert split_statements(text) == ["CREATE USER 'a;b'@'%' IDENTIFIED BY 'p;w'", 'GRANT SELECT ON `t;x`.* TO "q;"']


def test_username_rules_cut_as_vault_does_per_plugin() -> None:
    def name(rules: object) -> str:
        return render_username("", rules, display_name="token-with-long-name",  # type: ignore[arg-type]
                               role="role-with-long-name", now=1_800_000_000, random_bytes=os.urandom)

    assert name(Postgres.username_rules).startswith("v-token-wi-role-wit-")
    modern = name(MODERN)
    assert modern.startswith("v-token-with-role-with-")
    assert len(modern) == 32
    legacy = name(LEGACY)
    assert legacy.startswith("v-role-")
    assert len(legacy) == 16


def test_the_go_dsn_form_is_parsed_with_placeholders_left_in() -> None:
    assert parse_dsn("{{username}}:{{password}}@tcp(db.example:3307)/app?tls=true") == (
        "{{username}}", "{{password}}", "db.example", 3307, "app")
    assert parse_dsn("root@tcp([::1])/") == ("root", "", "::1", 3306, "")
