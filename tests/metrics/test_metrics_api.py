"""``sys/metrics`` through the real Core and ASGI edge, in process (single-process metrics)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strongroom.core.metrics.endpoint import METRICS_PATH, PUBLIC_STATE_TTL, MetricsExporter
from strongroom.sdk.system import ManualClock
from tests.api.api_support import started_server
from tests.metrics.samples import parse, value
from tests.support.inprocess import InProcessServer

CANARY = "canary-metrics-9f3e21"


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    with started_server(clock=ManualClock()) as srv:
        yield srv


def scrape(server: InProcessServer, token: str | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = server.request("GET", "sys/metrics", token=token, params={"format": "prometheus"})
    assert response.status_code == 200, response.text
    return parse(response.text)


def token_with_policy(server: InProcessServer, name: str, body: str) -> str:
    assert server.request("PUT", f"sys/policies/acl/{name}", json={"policy": body}).status_code == 204
    created = server.request("POST", "auth/token/create", json={"policies": [name]})
    assert created.status_code == 200, created.text
    return str(created.json()["auth"]["client_token"])


def test_prometheus_format_answers_the_text_exposition_with_its_content_type(server: InProcessServer) -> None:
    response = server.request("GET", "sys/metrics", params={"format": "prometheus"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE strongroom_core_requests_total counter" in response.text
    assert value(parse(response.text), "strongroom_core_unsealed") == 1


def test_without_a_format_the_answer_is_vaults_json_shape(server: InProcessServer) -> None:
    server.request("GET", "secret/data/missing")
    response = server.request("GET", "sys/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"Timestamp", "Gauges", "Counters", "Samples", "Points"}
    assert body["Timestamp"].endswith("+0000 UTC")
    gauges = {entry["Name"]: entry for entry in body["Gauges"]}
    assert gauges["strongroom_core_unsealed"] == {"Name": "strongroom_core_unsealed", "Value": 1, "Labels": {}}
    counter = next(
        entry for entry in body["Counters"]
        if entry["Name"] == "strongroom_core_requests_total"
        and entry["Labels"] == {"mount_type": "kv", "mount_point": "secret/", "operation": "read", "status": "404"}
    )
    assert counter["Count"] >= 1
    assert counter["Sum"] == counter["Count"]
    sample = next(
        entry for entry in body["Samples"]
        if entry["Name"] == "strongroom_core_handle_request_seconds"
        and entry["Labels"] == {"mount_type": "kv", "operation": "read"}
    )
    assert sample["Count"] >= 1
    assert sample["Mean"] == pytest.approx(sample["Sum"] / sample["Count"])


def test_an_unknown_format_is_a_bad_request(server: InProcessServer) -> None:
    response = server.request("GET", "sys/metrics", params={"format": "statsd"})
    assert response.status_code == 400
    assert response.json() == {"errors": ["metric response format 'statsd' unknown"]}


def test_a_format_that_is_not_a_plain_word_is_not_echoed(server: InProcessServer) -> None:
    response = server.request("GET", "sys/metrics", params={"format": CANARY + "<script>"})
    assert response.status_code == 400
    assert CANARY not in response.text


def test_writing_to_sys_metrics_is_not_supported(server: InProcessServer) -> None:
    assert server.request("PUT", "sys/metrics", json={}).status_code == 405


def test_metrics_need_a_token(server: InProcessServer) -> None:
    response = server.request("GET", "sys/metrics", token="", params={"format": "prometheus"})
    assert response.status_code == 403


def test_the_default_policy_does_not_grant_metrics(server: InProcessServer) -> None:
    token = token_with_policy(server, "nothing", 'path "secret/*" { capabilities = ["read"] }')
    assert server.request("GET", "sys/metrics", token=token).status_code == 403


def test_a_policy_granting_read_on_sys_metrics_is_enough(server: InProcessServer) -> None:
    token = token_with_policy(server, "scraper", 'path "sys/metrics" { capabilities = ["read"] }')
    assert server.request("GET", "sys/metrics", token=token, params={"format": "prometheus"}).status_code == 200


def test_a_sealed_server_answers_503_on_the_token_protected_path(server: InProcessServer) -> None:
    assert server.request("PUT", "sys/seal").status_code == 204
    assert server.request("GET", "sys/metrics").status_code == 503


def test_policy_denials_are_counted(server: InProcessServer) -> None:
    token = token_with_policy(server, "narrow", 'path "secret/data/allowed" { capabilities = ["read"] }')
    labels = {"mount_type": "kv", "operation": "read"}
    before = value(scrape(server), "strongroom_policy_denials_total", **labels)
    assert server.request("GET", "secret/data/forbidden", token=token).status_code == 403
    assert server.request("GET", "secret/data/forbidden", token=token).status_code == 403
    assert value(scrape(server), "strongroom_policy_denials_total", **labels) == before + 2


def test_tokens_outstanding_follow_creation_and_revocation(server: InProcessServer) -> None:
    start = value(scrape(server), "strongroom_token_count")
    created = server.request("POST", "auth/token/create", json={"policies": ["default"]})
    token = created.json()["auth"]["client_token"]
    assert value(scrape(server), "strongroom_token_count") == start + 1
    assert server.request("POST", "auth/token/revoke", json={"token": token}).status_code == 204
    assert value(scrape(server), "strongroom_token_count") == start


def test_leases_outstanding_are_reported_as_zero_until_anything_issues_leases(server: InProcessServer) -> None:
    samples = scrape(server)
    assert ("strongroom_expire_num_leases", ()) in samples
    assert value(samples, "strongroom_expire_num_leases") == 0


def test_the_keyring_gauges_follow_a_rotation(server: InProcessServer) -> None:
    before = scrape(server)
    assert value(before, "strongroom_barrier_keyring_term") == 1
    assert value(before, "strongroom_barrier_max_encryptions") == 2**31
    assert value(before, "strongroom_barrier_estimated_encryptions") > 0
    assert server.request("PUT", "sys/rotate").status_code == 204
    after = scrape(server)
    assert value(after, "strongroom_barrier_keyring_term") == 2
    name = "strongroom_barrier_estimated_encryptions"
    assert value(after, name) < value(before, name), "the new term's count starts afresh"


def test_a_canary_written_everywhere_never_appears_in_the_metrics(server: InProcessServer) -> None:
    assert server.request("PUT", f"secret/data/{CANARY}", json={"data": {"password": CANARY}}).status_code == 200
    assert server.request("GET", f"secret/data/{CANARY}").status_code == 200
    assert server.request("GET", f"secret/data/{CANARY}-missing").status_code == 404
    created = server.request("POST", "auth/token/create", json={
        "policies": ["default"], "meta": {"owner": CANARY}, "display_name": CANARY,
    })
    assert created.status_code == 200
    canary_token = created.json()["auth"]["client_token"]
    assert server.request("GET", f"secret/data/{CANARY}", token=canary_token).status_code == 403
    assert server.request("GET", f"{CANARY}/anything").status_code == 404
    assert server.request("PUT", f"secret/data/{CANARY}", json={"data": CANARY}).status_code == 400
    assert server.request("GET", "sys/metrics", token=CANARY).status_code == 403
    for params in ({"format": "prometheus"}, {}):
        body = server.request("GET", "sys/metrics", params=params).text
        assert CANARY not in body
        assert canary_token not in body
        assert server.root_token not in body


def test_a_bearer_token_works_as_prometheus_sends_it(server: InProcessServer) -> None:
    headers = {"Authorization": f"Bearer {server.root_token}"}
    response = server.request("GET", "sys/metrics", token="", headers=headers, params={"format": "prometheus"})
    assert response.status_code == 200


def test_unauthenticated_scrapes_reread_the_node_state_at_most_once_a_second(server: InProcessServer) -> None:
    assert server.core.metrics is not None
    now = [100.0]
    exporter = MetricsExporter(server.core, server.core.metrics.usage, unauthenticated=True, monotonic=lambda: now[0])
    server.core.public_endpoints[METRICS_PATH] = exporter.serve_public
    start = value(scrape(server, token=""), "strongroom_token_count")
    assert server.request("POST", "auth/token/create", json={"policies": ["default"]}).status_code == 200
    assert value(scrape(server, token=""), "strongroom_token_count") == start, "an anonymous flood reuses the state"
    now[0] += PUBLIC_STATE_TTL
    assert value(scrape(server, token=""), "strongroom_token_count") == start + 1
    assert server.request("PUT", "sys/seal").status_code == 204
    assert value(scrape(server, token=""), "strongroom_core_unsealed") == 0, "a seal is reported at once"
