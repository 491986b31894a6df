"""KV v2 rotation over the API: policies, scheduled and on-demand rotation, history, bad input."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from rotation_support import data, history, run_due, webhook
from tests.api.api_support import started_server, storage_snapshot
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock

DIGITS = 'length = 12\nrule "charset" {\n  charset = "0123456789"\n  min-chars = 12\n}\n'


def _policy(server: InProcessServer, path: str, **fields: object) -> None:
    reply = server.request("POST", f"secret/rotation/{path}", json=fields)
    assert reply.status_code == 204, reply.text


def test_a_policy_reads_back_and_a_scheduled_rotation_writes_a_new_version_keeping_the_rest(
    server: InProcessServer, clock: ManualClock
) -> None:
    server.request("POST", "secret/data/app", json={"data": {"user": "app", "password": "first"}})
    _policy(server, "app", interval="1h", generator="password", key="password")
    body = server.request("GET", "secret/rotation/app").json()["data"]
    assert body["interval"] == 3600
    assert (body["generator"], body["key"], body["last_version"], body["history"]) == ("password", "password", 0, [])
    assert body["next_rotation"] == _stamp(clock() + 3600)
    clock.advance(3599)
    run_due(server)
    assert data(server, "app")["metadata"]["version"] == 1
    clock.advance(1)
    run_due(server)
    rotated = data(server, "app")
    assert rotated["metadata"]["version"] == 2
    assert rotated["data"]["user"] == "app"
    assert rotated["data"]["password"] not in ("first", "")
    assert data(server, "app", version=1)["data"]["password"] == "first"  # the previous version is kept
    body = server.request("GET", "secret/rotation/app").json()["data"]
    assert body["last_version"] == 2
    assert body["last_rotation"] == _stamp(clock())
    assert body["next_rotation"] == _stamp(clock() + 3600)
    assert [(h["trigger"], h["outcome"], h["version"], h["error"]) for h in body["history"]] == [
        ("scheduled", "success", 2, "")
    ]


def test_a_rotation_overdue_by_many_periods_writes_one_version(server: InProcessServer, clock: ManualClock) -> None:
    _policy(server, "svc", interval="10m", generator="random", bytes=16)
    clock.advance(50 * 600)
    run_due(server, ticks=10)
    assert data(server, "svc")["metadata"]["version"] == 1
    assert len(history(server, "svc")) == 1
    clock.advance(600)
    run_due(server)
    assert data(server, "svc")["metadata"]["version"] == 2


def test_a_cron_schedule_rotates_at_its_times(server: InProcessServer, clock: ManualClock) -> None:
    _policy(server, "nightly", cron="30 2 * * *", generator="random")
    due = server.request("GET", "secret/rotation/nightly").json()["data"]["next_rotation"]
    assert due.endswith("T02:30:00Z")
    moment = datetime.datetime.fromisoformat(due.replace("Z", "+00:00")).timestamp()
    clock.advance(moment - clock() - 1)
    run_due(server)
    assert server.request("GET", "secret/data/nightly").status_code == 404  # not yet: no secret written
    clock.advance(1)
    run_due(server)
    assert data(server, "nightly")["metadata"]["version"] == 1  # a missing secret is created by its rotation
    following = server.request("GET", "secret/rotation/nightly").json()["data"]["next_rotation"]
    assert following == _stamp(moment + 86400)


def test_rotate_now_writes_a_version_and_leaves_the_schedule(server: InProcessServer, clock: ManualClock) -> None:
    assert server.request("POST", "secret/rotate/none").status_code == 400  # no policy
    _policy(server, "db", interval="1h", generator="random", encoding="hex", bytes=8)
    before = server.request("GET", "secret/rotation/db").json()["data"]["next_rotation"]
    clock.advance(5)
    reply = server.request("POST", "secret/rotate/db")
    assert reply.status_code == 200
    assert reply.json()["data"]["version"] == 1
    after = server.request("GET", "secret/rotation/db").json()["data"]
    assert after["next_rotation"] == before
    assert [(h["trigger"], h["version"]) for h in after["history"]] == [("manual", 1)]


def test_replacing_a_policy_keeps_history_and_deleting_it_stops_rotation_but_keeps_the_secret(
    server: InProcessServer, clock: ManualClock
) -> None:
    _policy(server, "x", interval="1m", generator="random")
    server.request("POST", "secret/rotate/x")
    _policy(server, "x", interval="2m", generator="random", encoding="hex")
    body = server.request("GET", "secret/rotation/x").json()["data"]
    assert (body["interval"], body["encoding"], len(body["history"])) == (120, "hex", 1)
    assert server.request("DELETE", "secret/rotation/x").status_code == 204
    assert server.request("DELETE", "secret/rotation/x").status_code == 204  # already gone: still 204
    assert server.request("GET", "secret/rotation/x").status_code == 404
    clock.advance(3600)
    run_due(server)
    assert data(server, "x")["metadata"]["version"] == 1
    mount_uuid = server.request("GET", "sys/mounts").json()["data"]["secret/"]["uuid"]
    assert server.run(server.core.scheduler.jobs_of(mount_uuid)) == []


def test_history_keeps_the_last_twenty_attempts(server: InProcessServer) -> None:
    _policy(server, "h", interval="1h", generator="random", bytes=4)
    for _ in range(23):
        assert server.request("POST", "secret/rotate/h").status_code == 200
    entries = history(server, "h")
    assert len(entries) == 20
    assert [e["version"] for e in entries[:2]] == [23, 22]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"generator": "random"}, "exactly one of a rotation interval and a cron schedule"),
        ({"interval": "1h", "cron": "0 * * * *", "generator": "random"}, "exactly one of"),
        ({"cron": "61 * * * *", "generator": "random"}, "invalid cron schedule"),
        ({"cron": "not a cron", "generator": "random"}, "invalid cron schedule"),
        ({"interval": "1h"}, "generator must be one of"),
        ({"interval": "1h", "generator": "magic"}, "generator must be one of"),
        ({"interval": "1h", "generator": "random", "bytes": 5000}, "bytes must be between"),
        ({"interval": "1h", "generator": "random", "encoding": "rot13"}, "encoding must be one of"),
        ({"interval": "1h", "generator": "keypair", "key_type": "dsa"}, "key_type must be one of"),
        ({"interval": "1h", "generator": "keypair", "key_type": "rsa", "key_bits": 1024}, "key_bits for rsa"),
        ({"interval": "1h", "generator": "webhook"}, "url is required"),
        ({"interval": "1h", "generator": "webhook", "url": "ftp://h/x"}, "URL scheme"),
        ({"interval": "1h", "generator": "webhook", "url": "https://u:pw@h/x"}, "user info"),
        ({"interval": "1h", "generator": "password", "password_policy": "missing"}, "does not exist"),
        ({"interval": "1h", "generator": "random", "key": " padded"}, "key must be"),
    ],
)
def test_bad_policies_are_refused_with_a_clear_400_and_store_nothing(
    server: InProcessServer, fields: dict[str, object], message: str
) -> None:
    before = storage_snapshot(server)
    reply = server.request("POST", "secret/rotation/bad", json=fields)
    assert reply.status_code == 400
    assert message in reply.json()["errors"][0]
    assert storage_snapshot(server) == before
    assert server.request("GET", "secret/rotation/bad").status_code == 404


def test_rotation_paths_on_a_kv_v1_mount_are_not_rotation(server: InProcessServer) -> None:
    server.request("POST", "sys/mounts/v1", json={"type": "kv", "options": {"version": "1"}})
    server.request("POST", "v1/rotation/x", json={"interval": "1h", "generator": "random"})
    # On v1 that is just a secret named rotation/x: no schedule.
    assert server.request("GET", "v1/rotation/x").json()["data"]["generator"] == "random"
    mount_uuid = server.request("GET", "sys/mounts").json()["data"]["v1/"]["uuid"]
    assert server.run(server.core.scheduler.jobs_of(mount_uuid)) == []


# -- generators --------------------------------------------------------------------------------


def test_the_password_generator_uses_the_named_password_policy(server: InProcessServer) -> None:
    assert server.request("POST", "sys/policies/password/digits", json={"policy": DIGITS}).status_code == 204
    _policy(server, "pin", interval="1h", generator="password", password_policy="digits", key="pin")
    server.request("POST", "secret/rotate/pin")
    pin = data(server, "pin")["data"]["pin"]
    assert len(pin) == 12
    assert pin.isdigit()


@pytest.mark.parametrize(("encoding", "size"), [("hex", 16), ("base64", 48)])
def test_the_random_generator_gives_that_many_bytes_in_that_encoding(
    server: InProcessServer, encoding: str, size: int
) -> None:
    _policy(server, "r", interval="1h", generator="random", bytes=size, encoding=encoding)
    server.request("POST", "secret/rotate/r")
    first = data(server, "r")["data"]["value"]
    raw = bytes.fromhex(first) if encoding == "hex" else base64.b64decode(first, validate=True)
    assert len(raw) == size
    server.request("POST", "secret/rotate/r")
    assert data(server, "r")["data"]["value"] != first


@pytest.mark.parametrize(
    ("key_type", "bits", "kind"),
    [("rsa", 2048, rsa.RSAPrivateKey), ("ec", 384, ec.EllipticCurvePrivateKey),
     ("ed25519", 0, ed25519.Ed25519PrivateKey)],
)
def test_the_keypair_generator_writes_a_matching_private_and_public_key(
    server: InProcessServer, key_type: str, bits: int, kind: type
) -> None:
    _policy(server, "tls", interval="24h", generator="keypair", key_type=key_type, key_bits=bits, key="key")
    server.request("POST", "secret/rotate/tls")
    fields = data(server, "tls")["data"]
    private = serialization.load_pem_private_key(fields["key"].encode(), password=None)
    assert isinstance(private, kind)
    if isinstance(private, rsa.RSAPrivateKey):
        assert private.key_size == bits
    if isinstance(private, ec.EllipticCurvePrivateKey):
        assert private.curve.key_size == bits
    public = serialization.load_pem_public_key(fields["key_public"].encode())
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public.public_bytes(*fmt) == private.public_key().public_bytes(*fmt)
    body = server.request("GET", "secret/rotation/tls").json()["data"]
    assert (body["key_type"], body["public_key_field"]) == (key_type, "key_public")


@pytest.fixture
def loopback_server(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Iterator[InProcessServer]:
    monkeypatch.setenv("STRONGROOM_KV_ROTATION_ALLOW_LOOPBACK", "true")
    with started_server(clock=clock) as srv:
        yield srv


def test_the_webhook_generator_writes_the_value_its_endpoint_answers(loopback_server: InProcessServer) -> None:
    server = loopback_server
    with webhook() as hook:
        server.request("POST", "secret/data/api", json={"data": {"token": "old", "owner": "team"}})
        _policy(server, "api", interval="1h", generator="webhook", url=hook.url, key="token")
        hook.answers.append({"value": "from-the-hook-1"})
        assert server.request("POST", "secret/rotate/api").status_code == 200
        assert data(server, "api")["data"] == {"token": "from-the-hook-1", "owner": "team"}
        # What the endpoint hears names the secret and never carries a value.
        assert hook.received == [{"mount": "secret/", "path": "api", "key": "token", "current_version": 1}]


def test_a_webhook_on_loopback_is_refused_without_the_operator_switch(server: InProcessServer) -> None:
    with webhook() as hook:
        _policy(server, "api", interval="1h", generator="webhook", url=hook.url)
        reply = server.request("POST", "secret/rotate/api")
        assert reply.status_code == 500
        assert "loopback" in reply.json()["errors"][0]
        assert hook.received == []
        assert history(server, "api")[0]["outcome"] == "failure"


def test_a_failing_rotation_is_recorded_retried_with_backoff_and_then_succeeds(
    loopback_server: InProcessServer, clock: ManualClock
) -> None:
    server = loopback_server
    with webhook() as hook:
        _policy(server, "api", interval="1h", generator="webhook", url=hook.url)
        hook.status = 503
        clock.advance(3600)
        run_due(server)
        body = server.request("GET", "secret/rotation/api").json()["data"]
        assert body["consecutive_failures"] == 1
        assert body["history"][0]["outcome"] == "failure"
        assert "answered HTTP 503" in body["history"][0]["error"]
        run_due(server)
        assert len(hook.received) == 1  # the retry waits for its backoff
        clock.advance(10)
        run_due(server)
        assert len(hook.received) == 2
        hook.status = 200
        hook.answers.append({"value": "recovered"})
        clock.advance(20)
        run_due(server)
        assert data(server, "api")["data"]["value"] == "recovered"
        body = server.request("GET", "secret/rotation/api").json()["data"]
        assert body["consecutive_failures"] == 0
        assert [h["outcome"] for h in body["history"]] == ["success", "failure", "failure"]
        assert body["next_rotation"] == _stamp(clock() + 3600)


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [({"nothing": 1}, 200, 'no "value" string'), ({"value": ""}, 200, 'no "value" string'),
     (["value"], 200, 'no "value" string'), ({"value": "x"}, 404, "answered HTTP 404")],
)
def test_a_webhook_answer_without_a_value_is_a_failure_that_writes_nothing(
    loopback_server: InProcessServer, answer: object, status: int, error: str
) -> None:
    server = loopback_server
    with webhook() as hook:
        _policy(server, "w", interval="1h", generator="webhook", url=hook.url)
        hook.status = status
        hook.answers.append(answer)
        reply = server.request("POST", "secret/rotate/w")
        assert reply.status_code == 500
        assert error in reply.json()["errors"][0]
        assert server.request("GET", "secret/data/w").status_code == 404


def _stamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
