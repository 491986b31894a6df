"""The namespace table under two workers interleaved at the worst step (``tests/integration/two_cores``)."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.two_cores import two_workers

from strongroom.core.namespaces.model import TABLE_KEY
from strongroom.errors import InvalidRequest


async def create_through_both_with_a_between_bs_read_and_write() -> list[str]:
    workers = await two_workers()
    await workers.unseal_b()

    async def create_through_a() -> None:
        await workers.a.namespaces.create(workers.a.root, "from-a", {})

    workers.racing.before_write(TABLE_KEY, create_through_a)
    await workers.b.namespaces.create(workers.b.root, "from-b", {})
    workers.racing.assert_raced()
    await workers.a.namespaces.load()
    return sorted(scope.path for scope in workers.a.namespaces.scopes())


def test_namespaces_created_at_once_through_two_workers_both_exist() -> None:
    assert asyncio.run(create_through_both_with_a_between_bs_read_and_write()) == ["", "from-a/", "from-b/"]


async def delete_while_a_child_is_created_through_the_other_worker() -> list[str]:
    workers = await two_workers()
    await workers.unseal_b()
    await workers.b.namespaces.create(workers.b.root, "team", {})
    await workers.a.namespaces.load()

    async def child_through_a() -> None:
        await workers.a.namespaces.create(workers.a.root, "team/app", {})

    workers.racing.before_write(TABLE_KEY, child_through_a)
    with pytest.raises(InvalidRequest, match="containing child namespaces"):
        await workers.b.namespaces.delete(workers.b.root, "team")
    workers.racing.assert_raced()
    await workers.b.namespaces.load()
    return sorted(scope.path for scope in workers.b.namespaces.scopes())


def test_a_namespace_is_not_deleted_from_under_a_child_created_meanwhile() -> None:
    assert asyncio.run(delete_while_a_child_is_created_through_the_other_worker()) == ["", "team/", "team/app/"]
