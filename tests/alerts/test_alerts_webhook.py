"""The webhook sink against a real receiver on 127.0.0.1: signature, retries, egress refusals, no URL in logs."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from strongroom.core.alerts.webhook import SIGNATURE_HEADER, WebhookSettings, WebhookSink, sign, verify
from strongroom.sdk.egress import EgressPolicy
from tests.alerts.receiver import receiver

SECRET = b"webhook-secret-for-tests"
ALERT: dict[str, Any] = {"id": "0b6f4c8e-2f0e-4a51-9d59-1d1f5a7e6b21", "kind": "canary_read", "count": 1}
LOOPBACK = EgressPolicy(allow_loopback=True)


def sink(url: str, sleeps: list[float], **kwargs: Any) -> WebhookSink:
    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    settings = WebhookSettings(url=url, secret=SECRET, **{"egress": LOOPBACK, "timeout": 5.0, **kwargs})
    return WebhookSink(settings, sleep=record_sleep, clock=lambda: 1_800_000_000.0)


def deliver(hook: WebhookSink, alert: dict[str, Any] = ALERT) -> bool:
    async def go() -> bool:
        try:
            return await hook.deliver(alert)
        finally:
            await hook.aclose()

    return asyncio.run(go())


def test_an_alert_arrives_signed_over_its_exact_body() -> None:
    with receiver() as rx:
        assert deliver(sink(rx.url, []))
    (got,) = rx.deliveries
    assert got.headers["content-type"] == "application/json"
    assert verify(SECRET, got.body, got.headers[SIGNATURE_HEADER.lower()])
    assert not verify(b"another secret entirely", got.body, got.headers[SIGNATURE_HEADER.lower()])
    assert not verify(SECRET, got.body + b" ", got.headers[SIGNATURE_HEADER.lower()])
    body = json.loads(got.body)
    assert body == {"alert": ALERT, "sent_at": "2027-01-15T08:00:00.000000Z", "type": "strongroom.alert",
                    "version": 1}
    assert got.body == json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    # The published HMAC-SHA256 example ("key", the quick brown fox).
    body = b"The quick brown fox jumps over the lazy dog"
    assert sign(b"key", body) == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"


def test_server_errors_are_retried_with_growing_backoff() -> None:
    sleeps: list[float] = []
    with receiver(fail_first=2, fail_status=503) as rx:
        assert deliver(sink(rx.url, sleeps))
    assert rx.attempts == 3
    assert len(rx.deliveries) == 1
    assert sleeps == [0.5, 1.0]


def test_delivery_gives_up_after_max_attempts(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    with receiver(fail_first=99, fail_status=500) as rx:
        assert not deliver(sink(rx.url, sleeps, max_attempts=3, max_backoff=0.75))
    assert rx.attempts == 3
    assert sleeps == [0.5, 0.75]
    assert "failed 3 times" in caplog.text


def test_a_client_error_is_final() -> None:
    sleeps: list[float] = []
    with receiver(fail_first=99, fail_status=400) as rx:
        assert not deliver(sink(rx.url, sleeps))
    assert (rx.attempts, sleeps) == (1, [])


def test_rate_limited_answers_are_retried() -> None:
    with receiver(fail_first=1, fail_status=429) as rx:
        assert deliver(sink(rx.url, []))
    assert rx.attempts == 2


def test_loopback_is_refused_by_default_and_nothing_is_sent(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    with receiver() as rx:
        assert not deliver(sink(rx.url, sleeps, egress=EgressPolicy()))
    assert rx.attempts == 0
    assert sleeps == []
    assert "refused: it resolves to a loopback address" in caplog.text


def test_a_host_name_is_checked_then_connected_to_by_address_with_its_name_kept() -> None:
    with receiver() as rx:
        by_name = rx.url.replace("127.0.0.1", "localhost")
        assert deliver(sink(by_name, []))
    (got,) = rx.deliveries
    assert got.headers["host"] == by_name.split("/")[2]
    assert got.path == "/hook"


def test_connection_failures_are_retried_and_the_url_path_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    with receiver() as rx:
        dead = rx.url.rsplit(":", 1)[0] + ":1/services/T0KEN-IN-PATH"
    sleeps: list[float] = []
    with caplog.at_level(logging.DEBUG):
        assert not deliver(sink(dead, sleeps, max_attempts=2))
    assert sleeps == [0.5]
    assert "ConnectError" in caplog.text
    assert "T0KEN-IN-PATH" not in caplog.text


def test_a_webhook_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookSink(WebhookSettings(url="https://hooks.example.com/x", secret=b""))


def test_the_secret_is_not_in_the_settings_repr() -> None:
    assert "webhook-secret" not in repr(WebhookSettings(url="https://h.example/x", secret=SECRET))
