"""Which answers are wrapped, how they are stored, and that nothing secret shows in a repr."""

from __future__ import annotations

import pytest

from strongroom.core.wrapping import WrapInfo, WrappedRecord, is_wrappable
from strongroom.core.wrapping.payload import dump_response, load_response
from strongroom.sdk.logical import Auth, LeaseOptions, RawResponse, Response


@pytest.mark.parametrize(
    ("response", "wrapped"),
    [
        (None, False),
        (Response(), False),
        (Response(warnings=["only a warning"]), False),
        (Response(data={}), True),
        (Response(data={"k": "v"}), True),
        (Response(auth=Auth(client_token="t")), True),
        (Response(secret=LeaseOptions(ttl=5)), True),
        (Response(raw=RawResponse(200, "application/pkix-crl", b"crl")), False),
        (Response(data={"versions": {}}, status=404), False),
    ],
)
def test_only_answers_with_data_auth_or_a_lease_are_wrapped(response: Response | None, wrapped: bool) -> None:
    assert is_wrappable(response) is wrapped


def test_a_stored_answer_round_trips_without_backend_internal_state() -> None:
    original = Response(
        data={"n": 1, "nested": {"a": [1, 2]}},
        auth=Auth(policies=["p"], client_token="hvs.x", accessor="acc", metadata={"m": "1"},
                  internal_data={"secret_state": "kept by the backend"}),
        secret=LeaseOptions(ttl=10, max_ttl=20, renewable=False, internal={"db_user": "u"}, lease_id="db/creds/r/abc"),
        warnings=["careful"],
    )
    loaded = load_response(dump_response(original))
    assert loaded.data == original.data
    assert loaded.warnings == ["careful"]
    assert loaded.auth is not None
    assert loaded.auth.internal_data == {}
    assert (loaded.auth.client_token, loaded.auth.accessor, loaded.auth.metadata) == ("hvs.x", "acc", {"m": "1"})
    assert loaded.secret is not None
    assert loaded.secret.internal == {}
    assert (loaded.secret.ttl, loaded.secret.max_ttl, loaded.secret.renewable) == (10, 20, False)
    assert loaded.secret.lease_id == "db/creds/r/abc"
    assert "kept by the backend" not in repr(dump_response(original))


def test_repr_of_wrap_info_and_records_shows_no_token_and_no_data() -> None:
    info = WrapInfo(token="hvs.wrapping-secret", accessor="acc", ttl=60, creation_time=0.0, creation_path="p")
    assert "hvs.wrapping-secret" not in repr(info)
    record = WrappedRecord(response={"data": {"pw": "canary-pw"}}, creation_ttl=60, creation_time=0.0,
                           creation_path="p", wrapped_accessor="")
    assert "canary-pw" not in repr(record)
    assert WrappedRecord.from_bytes(record.to_bytes()) == record
