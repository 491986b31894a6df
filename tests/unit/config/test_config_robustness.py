"""Whatever the text, parsing answers a ServerConfig or a ConfigError, nothing else."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.config import ServerConfig, parse_config
from strongroom.errors import ConfigError

HCL_PIECES = st.sampled_from(
    [
        *'{}[]"=:,#\n ab1.-$/*',
        "storage",
        "listener",
        '"tcp"',
        '"inmem"',
        "tls_disable",
        "true",
        "<<EOF\n",
        "EOF\n",
    ]
)
KEYS = st.sampled_from(
    [
        "storage",
        "backend",
        "listener",
        "tcp",
        "inmem",
        "sqlite",
        "path",
        "address",
        "tls_disable",
        "seal",
        "telemetry",
        "workers",
        "log_level",
        "default_lease_ttl",
        "max_request_size",
        "tls_min_version",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["1h", "127.0.0.1:80", "[::1]:1", "tls13", "true", "-1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


def outcome(text: str) -> type:
    try:
        parse_config(text, "fuzz.hcl")
    except ConfigError:
        return ConfigError
    return ServerConfig


@settings(max_examples=300, deadline=None)
@given(st.lists(HCL_PIECES, max_size=30).map("".join))
def test_arbitrary_hcl_like_text_gives_config_or_config_error(text: str) -> None:
    assert outcome(text) in (ConfigError, ServerConfig)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_arbitrary_json_documents_give_config_or_config_error(document: dict[str, object]) -> None:
    assert outcome(json.dumps(document)) in (ConfigError, ServerConfig)
