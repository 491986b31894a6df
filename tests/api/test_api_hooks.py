"""The audit and observer seams on the request path: what they see, and that audit fails closed."""

from __future__ import annotations

from tests.support.inprocess import InProcessServer

from strongroom.core.hooks import AuditEvent, RequestRecord


class RecordingBroker:
    def __init__(self, fail_on: str = "") -> None:
        self.events: list[tuple[str, str, str, str]] = []
        self.fail_on = fail_on

    def _note(self, phase: str, event: AuditEvent) -> None:
        if self.fail_on == phase:
            raise OSError("audit device unwritable")
        error = event.error.message if event.error else ""
        self.events.append((phase, event.request.operation.value, event.mount.route_prefix + event.request.path, error))

    async def log_request(self, event: AuditEvent) -> None:
        self._note("request", event)

    async def log_response(self, event: AuditEvent) -> None:
        self._note("response", event)


class RecordingObserver:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def observe(self, record: RequestRecord) -> None:
        self.records.append(record)



def test_every_routed_request_is_audited_before_and_after_it_is_served(server: InProcessServer) -> None:
    broker = RecordingBroker()
    server.core.audit = broker
    assert server.request("POST", "secret/data/a", json={"data": {"k": "v"}}).status_code == 200
    assert broker.events == [
        ("request", "create", "secret/data/a", ""),
        ("response", "create", "secret/data/a", ""),
    ]


def test_denied_requests_are_audited_with_the_error(server: InProcessServer) -> None:
    broker = RecordingBroker()
    server.core.audit = broker
    token = server.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]["client_token"]
    broker.events.clear()
    assert server.request("GET", "secret/data/a", token=token).status_code == 403
    assert broker.events == [
        ("request", "read", "secret/data/a", "permission denied"),
        ("response", "read", "secret/data/a", "permission denied"),
    ]


def test_a_request_no_device_could_record_is_not_served(server: InProcessServer) -> None:
    server.core.audit = RecordingBroker(fail_on="request")
    reply = server.request("POST", "secret/data/never", json={"data": {"k": "v"}})
    assert reply.status_code == 500
    server.core.audit = RecordingBroker()
    assert server.request("GET", "secret/data/never").status_code == 404


def test_an_answer_no_device_could_record_is_not_sent(server: InProcessServer) -> None:
    server.request("POST", "secret/data/held", json={"data": {"secret": "held-canary"}})
    server.core.audit = RecordingBroker(fail_on="response")
    reply = server.request("GET", "secret/data/held")
    assert reply.status_code == 500
    assert "held-canary" not in reply.text


def test_observers_learn_status_mount_accessor_and_denials(server: InProcessServer) -> None:
    observer = RecordingObserver()
    server.core.observers.append(observer)
    token = server.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]
    server.request("GET", "secret/data/a", token=token["client_token"])
    server.request("GET", "sys/health", token="")
    created, denied, health = observer.records
    assert (created.status, created.mount_type, created.path) == (200, "token", "auth/token/create")
    assert (denied.status, denied.permission_denied, denied.accessor) == (403, True, token["accessor"])
    assert denied.mount_point == "secret/"
    assert health.status == 200
    assert all(r.duration >= 0 for r in observer.records)
