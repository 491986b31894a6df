"""Password policies through hvac against a real dev server process.

hvac 2.4 has no password-policy methods (hvac/hvac#1204 proposes them), so these
tests drive the endpoints the way hvac users do today: ``Client.write_data``,
``read``, ``list``, ``delete`` and the adapter for error cases.
"""

from __future__ import annotations

import base64

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import unique

ALNUM = """length = 24
rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 2
}
rule "charset" {
  charset = "0123456789"
  min-chars = 3
}
"""


def path(name: str) -> str:
    return f"sys/policies/password/{name}"


def test_a_policy_round_trips_and_generates_passwords_that_meet_it(root: hvac.Client) -> None:
    name = unique("alnum")
    root.write_data(path(name), data={"policy": ALNUM})
    assert root.read(path(name))["data"] == {"policy": ALNUM}
    assert name in root.list("sys/policies/password")["data"]["keys"]
    for _ in range(20):
        password = root.read(path(name) + "/generate")["data"]["password"]
        assert len(password) == 24
        assert set(password) <= set("abcdefghijklmnopqrstuvwxyz0123456789")
        assert sum(c.isdigit() for c in password) >= 3
        assert sum(c.isalpha() for c in password) >= 2
    root.delete(path(name))
    assert root.read(path(name)) is None
    assert root.read(path(name) + "/generate") is None


def test_a_base64_encoded_policy_is_accepted_and_read_back_decoded(root: hvac.Client) -> None:
    name = unique("b64")
    root.write_data(path(name), data={"policy": base64.b64encode(ALNUM.encode()).decode()})
    assert root.read(path(name))["data"]["policy"] == ALNUM
    root.delete(path(name))


@pytest.mark.parametrize(
    ("policy", "wording"),
    [
        ('length = 4\nrule "charset" {\n  charset = "ab"\n  min-chars = 5\n}\n', "require at least 5 characters"),
        ('length = 2\nrule "charset" { charset = "ab" }\n', "between 4 and 1024"),
        ('length = 8\nrule "charset" { charset = "" }\n', "must not be empty"),
        ('length = 8\nrule "wordlist" { words = ["a"] }\n', "unknown rule type"),
        ('length = 8\nlength = 9\nrule "charset" { charset = "ab" }\n', "more than once"),
    ],
)
def test_an_unsatisfiable_or_malformed_policy_is_refused_and_not_stored(
    root: hvac.Client, policy: str, wording: str
) -> None:
    name = unique("bad")
    with pytest.raises(hvac.exceptions.InvalidRequest, match=wording):
        root.write_data(path(name), data={"policy": policy})
    assert root.read(path(name)) is None


def test_generating_from_a_missing_policy_is_not_found(root: hvac.Client) -> None:
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.adapter.get(f"/v1/{path(unique('missing'))}/generate")
