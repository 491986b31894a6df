"""SECURITY.md "policy path matching": a grant on ``secret/data/team/*`` reaches nothing else,
however the path is spelled on the wire.

Requests are built as raw ASGI scopes (see ``raw_request``) because HTTP clients
normalise ``..`` and ``.`` before sending; a hostile client does not. The scope
carries the path percent-decoded exactly once, as uvicorn hands it over.
"""

from __future__ import annotations

import pytest
from tests.api.api_support import RawReply, create_token, raw_request, storage_snapshot, write_policy
from tests.support.inprocess import InProcessServer

TEAM_POLICY = """
path "secret/data/team/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }
path "secret/metadata/team/*" { capabilities = ["read", "list"] }
"""
OTHER_VALUE = "other-team-secret-value"

#: Spellings that, decoded and canonicalised, address something outside team/.
OUTSIDE = [
    b"/v1/secret/data/other",
    b"/v1/secret/data/team/../other",
    b"/v1/secret/data/team/x/../../other",
    b"/v1/secret/data/team/../../data/other",
    b"/v1/secret/data/team/./../other",
    b"/v1/secret/data/team/%2e%2e/other",
    b"/v1/secret/data/team/%2E%2E/other",
    b"/v1/secret/data/team/.%2e/other",
    b"/v1/secret/data/team/%2e./other",
    b"/v1/secret/data/team/..%2Fother",
    b"/v1/secret/data/team/%2e%2e%2fother",
    b"/v1/secret/data/team%2F..%2Fother",
    b"/v1/secret/data/team%2f%2e%2e%2fother",
    b"/v1/secret//data/other",
    b"/v1//secret/data/other",
    b"/v1/secret/./data/other",
    b"/v1/secret/data/./other",
    b"/v1/secret/data//other",
    b"/v1/secret/data/other/",
    b"/v1/secret/data/other//",
    b"/v1/secret%2Fdata%2Fother",
    b"/v1/secret/data/team%00/../other",
    b"/v1/secret/data/team/%00/../other",
    b"/v1/SECRET/data/other",
    b"/v1/secret/data/Team/x",
    b"/v1/secret/metadata/other",
    b"/v1/secret/metadata/team/../other",
    b"/v1/secret/destroy/team/../other",
    b"/v1/sys/policies/acl/team",
    b"/v1/sys/../secret/data/other",
    b"/v1/auth/../secret/data/other",
]

#: Spellings that stay inside team/ once decoded exactly once: names that merely look like escapes.
INSIDE = [
    b"/v1/secret/data/team/%252e%252e/other",
    b"/v1/secret/data/team/..%252Fother",
    b"/v1/secret/data/team/..%5Cother",
    b"/v1/secret/data/team/...",
    b"/v1/secret/data/team/.../other",
    b"/v1/secret/data/team/x",
]


@pytest.fixture
def team_token(server: InProcessServer) -> str:
    write_policy(server, "team", TEAM_POLICY)
    for path, value in (("secret/data/other", OTHER_VALUE), ("secret/data/team/x", "team-value")):
        assert server.request("POST", path, json={"data": {"v": value}}).status_code == 200
    return create_token(server, policies=["team"])


def send_each_method(server: InProcessServer, token: str, target: bytes) -> list[tuple[str, RawReply]]:
    replies = []
    for method in ("GET", "LIST", "DELETE"):
        replies.append((method, raw_request(server, method, target, token=token)))
    body = b'{"data": {"v": "overwritten-by-team"}}'
    for method in ("POST", "PUT", "PATCH"):
        headers = [(b"content-type", b"application/merge-patch+json")] if method == "PATCH" else []
        replies.append((method, raw_request(server, method, target, token=token, headers=headers, body=body)))
    return replies


def other_is_untouched(server: InProcessServer) -> None:
    current = server.request("GET", "secret/data/other").json()["data"]
    assert current["data"] == {"v": OTHER_VALUE}
    assert current["metadata"]["version"] == 1


@pytest.mark.parametrize("target", OUTSIDE, ids=[t.decode() for t in OUTSIDE])
def test_team_grant_reaches_no_other_path_in_any_spelling(
    server: InProcessServer, team_token: str, target: bytes
) -> None:
    before = storage_snapshot(server)
    for method, reply in send_each_method(server, team_token, target):
        assert reply.status in (400, 403), (method, reply.status, reply.body)
        assert OTHER_VALUE.encode() not in reply.body
    assert storage_snapshot(server) == before
    other_is_untouched(server)


@pytest.mark.parametrize("target", INSIDE, ids=[t.decode() for t in INSIDE])
def test_names_that_only_look_like_escapes_stay_inside_the_grant(
    server: InProcessServer, team_token: str, target: bytes
) -> None:
    for method, reply in send_each_method(server, team_token, target):
        assert reply.status not in (403, 500), (method, reply.status, reply.body)
        assert OTHER_VALUE.encode() not in reply.body
    other_is_untouched(server)


def test_dot_dot_segments_are_refused_with_a_message_that_does_not_echo_the_path(
    server: InProcessServer, team_token: str
) -> None:
    reply = raw_request(server, "GET", b"/v1/secret/data/team/%2e%2e/other-xyz", token=team_token)
    assert reply.status == 400
    assert reply.json() == {"errors": ["invalid path: '..' segments are not allowed"]}


def test_the_folder_name_without_its_slash_is_not_inside_the_grant(server: InProcessServer, team_token: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        body = b'{"data": {"v": "x"}}' if method == "POST" else None
        assert raw_request(server, method, b"/v1/secret/data/team", token=team_token, body=body).status == 403


def test_root_token_is_refused_dot_dot_spellings_too(server: InProcessServer, team_token: str) -> None:
    # Not a permission question: a path with '..' has no meaning, even for root.
    for target in (b"/v1/secret/data/team/../other", b"/v1/secret/data/team/%2e%2e/other"):
        assert raw_request(server, "GET", target).status == 400


def test_capabilities_answer_agrees_with_enforcement(server: InProcessServer, team_token: str) -> None:
    reply = server.request(
        "POST", "sys/capabilities-self", token=team_token,
        json={"paths": ["secret/data/team/x", "secret/data/other", "secret//data/other", "secret/data/team/"]},
    )
    assert reply.status_code == 200, reply.text
    caps = reply.json()["data"]
    assert "read" in caps["secret/data/team/x"]
    assert caps["secret/data/other"] == ["deny"]
    assert caps["secret//data/other"] == ["deny"]
