"""One process serving everything: dev mode and in-memory storage (whose data lives in
that one process's memory), or ``workers = 1``."""

from __future__ import annotations

import asyncio
import logging

from strongroom.config.alerts import AlertsConfig
from strongroom.core.alerts import report
from strongroom.core.alerts.signals import SEALED
from strongroom.core.seal import KeyEvent
from strongroom.crypto.barrier import Barrier
from strongroom.sdk.seal import Seal
from strongroom.server.alerts_setup import single_process_service
from strongroom.server.banner import print_dev_banner
from strongroom.server.metrics_setup import metrics_running, timed_storage
from strongroom.server.node import apply_key_event, bind_listener, build_core, local_seal_manager, serve
from strongroom.server.registry import make_storage
from strongroom.server.settings import NodeSettings

log = logging.getLogger("strongroom.server")
AUTO_UNSEAL_WAIT = 60


async def run_single(
    settings: NodeSettings,
    alerts: AlertsConfig | None = None,
    auto_seal: Seal | None = None,
    old_seal: Seal | None = None,
) -> int:
    sockets = [bind_listener(listener) for listener in settings.listeners]
    physical = timed_storage(make_storage(settings.storage_type, settings.storage_options), settings.storage_type)
    await physical.open()
    barrier = Barrier(physical)

    async def on_key(event: KeyEvent) -> None:
        if event.kind == "sealed":
            report(SEALED)
        await apply_key_event(core, event)

    seal = local_seal_manager(barrier, on_key, settings.storage_type, auto_seal, old_seal)
    core = build_core(settings, physical, seal, barrier)
    alert_service = single_process_service(alerts or AlertsConfig(), core)
    try:
        if settings.dev:
            result = await seal.initialize_with_token(1, 1, settings.dev_root_token)
            await seal.unseal_with_keys(result.keys)
            print_dev_banner(settings, result.keys[0], result.root_token)
        else:
            # Logs why when it cannot (the server stays up, sealed); a hung HSM does not keep it from serving.
            unsealing = asyncio.ensure_future(seal.auto_unseal())  # referenced until serve() returns
            done, _ = await asyncio.wait([unsealing], timeout=AUTO_UNSEAL_WAIT)
            if not done:
                log.error("auto-unseal did not finish within %ss; serving sealed meanwhile", AUTO_UNSEAL_WAIT)
        async with metrics_running(core):
            await serve(core, settings, sockets)
        await alert_service.flush(5)
    finally:
        await physical.close()
        for sock in sockets:
            sock.close()
    return 0
