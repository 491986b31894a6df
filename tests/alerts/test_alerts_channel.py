"""The supervisor side of alerts: fire-and-forget notifications on the worker channel and the alert calls."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from strongroom.core.alerts import signals as k
from strongroom.core.alerts.detector import Detector, DetectorSettings
from strongroom.core.alerts.service import AlertService
from strongroom.server.alerts_setup import count_in_a_worker, supervisor_call
from strongroom.server.ipc import Channel

T0 = 1_800_000_000.0


async def pair(handler: Any) -> tuple[Channel, Channel, list[asyncio.Task[None]]]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    async def refuse(op: str, args: dict[str, Any]) -> Any:
        raise ValueError(op)

    caller = await Channel.open(left, refuse)
    answerer = await Channel.open(right, handler)
    tasks = [asyncio.create_task(caller.serve()), asyncio.create_task(answerer.serve())]
    return caller, answerer, tasks


async def shut(channels: list[Channel], tasks: list[asyncio.Task[None]]) -> None:
    for channel in channels:
        channel.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.01)  # let the transports finish closing


def test_a_notification_runs_on_the_other_side_and_nothing_answers_it(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def handler(op: str, args: dict[str, Any]) -> Any:
        if op == "boom":
            raise RuntimeError("handler failed")
        seen.append((op, args))
        return "ignored"

    async def scenario() -> None:
        caller, answerer, tasks = await pair(handler)
        await caller.notify("alert_signals", {"signals": [1, 2]})
        await caller.notify("boom")
        assert await caller.call("ping") == "ignored"  # calls still get their answers, in order
        assert caller._pending == {}
        await shut([caller, answerer], tasks)

    asyncio.run(scenario())
    assert seen == [("alert_signals", {"signals": [1, 2]}), ("ping", {})]
    assert "IPC handler for 'boom' failed" in caplog.text


def test_the_supervisor_takes_signal_batches_and_lists_alerts() -> None:
    service = AlertService(Detector(DetectorSettings()), [], notify_delay=0)

    async def scenario() -> list[dict[str, Any]]:
        taken = supervisor_call(service, "alert_signals", {"signals": [{"kind": k.SEALED, "at": T0}, {"x": 1}]})
        assert taken == 1
        await service.flush(5)
        result: list[dict[str, Any]] = supervisor_call(service, "alerts_list", {"kind": k.SEALED, "limit": 5})
        assert supervisor_call(service, "alerts_list", {"kind": 7, "limit": "many"}) == result
        return result

    assert [a["kind"] for a in asyncio.run(scenario())] == [k.SEALED]


def test_an_alert_is_counted_by_the_first_worker_that_answers() -> None:
    counted: list[str] = []

    async def worker(op: str, args: dict[str, Any]) -> Any:
        counted.append(args["kind"])
        return True

    async def scenario() -> None:
        dead_caller, dead_answerer, dead_tasks = await pair(worker)
        await shut([dead_caller, dead_answerer], dead_tasks)
        caller, answerer, tasks = await pair(worker)
        await count_in_a_worker([None, dead_caller, caller], k.CANARY_READ)
        with pytest.raises(RuntimeError, match="no worker could count"):
            await count_in_a_worker([dead_caller], k.SEALED)
        await shut([caller, answerer], tasks)

    asyncio.run(scenario())
    assert counted == [k.CANARY_READ]
