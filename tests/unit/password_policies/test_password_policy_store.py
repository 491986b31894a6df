"""The password policy store and its sys endpoints: nothing stored on refusal, the cache follows
the storage generation across processes, and engines reach generation through ``SystemView``."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from tests.support.inprocess import InProcessServer

from strongroom.core.password_policies.store import PasswordPolicyStore
from strongroom.errors import InternalError, InvalidRequest, NotFound
from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")

DIGITS = 'length = 8\nrule "charset" {\n  charset = "0123456789"\n  min-chars = 1\n}\n'
LETTERS = 'length = 6\nrule "charset" {\n  charset = "xyz"\n}\n'
URL = "sys/policies/password/"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def new_store(storage: InmemBackend | None = None) -> PasswordPolicyStore:
    return PasswordPolicyStore(storage or InmemBackend(), random_bytes=os.urandom)


def test_a_stored_policy_reads_back_as_submitted_and_generates_from_its_rules() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = new_store(storage)
        await store.put("pin", DIGITS)
        stored = await store.get("pin")
        assert stored is not None
        assert stored.text == DIGITS
        assert json.loads(await storage.get("pin") or b"") == {"policy": DIGITS}
        password = await store.generate("pin")
        assert len(password) == 8
        assert password.isdigit()
        assert await store.list() == ["pin"]

    run(scenario())


def test_invalid_or_unsatisfiable_text_stores_nothing_and_keeps_the_previous_version() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = new_store(storage)
        with pytest.raises(InvalidRequest, match="require at least 9 characters"):
            await store.put("pin", 'length = 8\nrule "charset" { charset = "01"\nmin-chars = 9 }')
        assert await storage.list("") == []
        await store.put("pin", DIGITS)
        with pytest.raises(InvalidRequest):
            await store.put("pin", "length = 8\n")
        stored = await store.get("pin")
        assert stored is not None
        assert stored.text == DIGITS

    run(scenario())


@pytest.mark.parametrize("name", ["", "a/b", "../x", "-lead", "x" * 129, "sp ace"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidRequest, match="password policy names"):
        run(new_store().put(name, DIGITS))


def test_generation_from_a_missing_policy_is_not_found_and_the_empty_name_means_vaults_default() -> None:
    async def scenario() -> None:
        store = new_store()
        with pytest.raises(NotFound, match="does not exist"):
            await store.generate("nope")
        default = await store.generate("")
        assert len(default) == 20
        assert any(c.isupper() for c in default)
        assert any(c.islower() for c in default)
        assert any(c.isdigit() for c in default)
        assert "-" in default

    run(scenario())


def test_a_change_made_by_another_process_is_seen_after_load() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        mine, theirs = new_store(storage), new_store(storage)
        await mine.put("p", DIGITS)
        assert (await theirs.generate("p")).isdigit()  # now cached in "theirs"
        await mine.put("p", LETTERS)
        await theirs.load()  # what the core does when the storage generation moves
        assert set(await theirs.generate("p")) <= set("xyz")

    run(scenario())


def test_a_stored_entry_that_no_longer_parses_fails_closed() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        await storage.put("p", json.dumps({"policy": "length = 2"}).encode())
        with pytest.raises(InternalError, match="no longer parses"):
            await new_store(storage).get("p")

    run(scenario())


# -- through the sys endpoints of a real core --------------------------------------


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    up = InProcessServer(clock=ManualClock())
    try:
        up.init_and_unseal()
        yield up
    finally:
        up.close()


def test_sys_endpoints_write_read_list_generate_and_delete(server: InProcessServer) -> None:
    assert server.request("PUT", URL + "pin", json={"policy": DIGITS}).status_code == 204
    assert server.request("GET", URL + "pin").json()["data"] == {"policy": DIGITS}
    assert server.request("LIST", "sys/policies/password").json()["data"]["keys"] == ["pin"]
    password = server.request("GET", URL + "pin/generate").json()["data"]["password"]
    assert len(password) == 8
    assert password.isdigit()
    assert server.request("DELETE", URL + "pin").status_code == 204
    assert server.request("GET", URL + "pin").status_code == 404
    assert server.request("GET", URL + "pin/generate").status_code == 404


def test_a_base64_policy_body_is_accepted(server: InProcessServer) -> None:
    encoded = base64.b64encode(DIGITS.encode()).decode()
    assert server.request("POST", URL + "b64", json={"policy": encoded}).status_code == 204
    assert server.request("GET", URL + "b64").json()["data"]["policy"] == DIGITS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "missing password policy"),
        ({"policy": "length = 3\nrule \"charset\" { charset = \"ab\" }"}, "between 4 and 1024"),
        ({"policy": DIGITS, "entropy_source": "platform"}, "entropy_source"),
        ({"policy": 'length = 8\nrule "charset" { charset = "" }'}, "must not be empty"),
    ],
)
def test_a_refused_write_answers_400_and_stores_nothing(
    server: InProcessServer, body: dict[str, str], message: str
) -> None:
    answer = server.request("PUT", URL + "bad", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["errors"][0]
    assert server.request("GET", URL + "bad").status_code == 404


def test_a_change_through_one_worker_reaches_another_sharing_storage(server: InProcessServer) -> None:
    other = InProcessServer(physical=server.physical, clock=server.clock)
    try:
        other.run(other.seal.unseal_with_keys(server.unseal_keys))
        other.root_token = server.root_token
        assert server.request("PUT", URL + "p", json={"policy": DIGITS}).status_code == 204
        assert other.request("GET", URL + "p/generate").json()["data"]["password"].isdigit()
        assert server.request("PUT", URL + "p", json={"policy": LETTERS}).status_code == 204
        assert set(other.request("GET", URL + "p/generate").json()["data"]["password"]) <= set("xyz")
        assert server.request("DELETE", URL + "p").status_code == 204
        assert other.request("GET", URL + "p/generate").status_code == 404
    finally:
        other.close()


def test_mounted_engines_generate_through_their_system_view(server: InProcessServer) -> None:
    assert server.request("PUT", URL + "pin", json={"policy": DIGITS}).status_code == 204
    matched = server.core.mounts.router.match("secret/x")
    assert matched is not None
    generate = matched[0].system.generate_password
    assert generate is not None
    assert server.run(generate("pin")).isdigit()
    assert len(server.run(generate())) == 20


def test_policies_are_encrypted_in_physical_storage(server: InProcessServer) -> None:
    marker = "QQQQWWWWZZZZ"
    policy = f'length = 8\nrule "charset" {{ charset = "{marker}" }}'
    assert server.request("PUT", URL + "m", json={"policy": policy}).status_code == 204

    async def values() -> list[bytes]:
        keys = await server.physical.list("sys/password_policy/")
        return [await server.physical.get("sys/password_policy/" + k) or b"" for k in keys]

    stored = server.run(values())
    assert len(stored) == 1
    assert marker.encode() not in stored[0]
