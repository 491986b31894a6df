"""Building one process's Core, and serving it over HTTP on inherited or fresh sockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import sys
import time
from collections.abc import Generator

import uvicorn

from strongroom.core.core import Core, CoreConfig
from strongroom.core.lockout import LockoutDefaults
from strongroom.core.scheduler.runner import run_ticks
from strongroom.core.seal import KeyEvent, KeyListener, LocalSealManager, SealManager
from strongroom.core.tokens.store import TokenStore
from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.http.app import VaultApp
from strongroom.http.limits import RequestLimits
from strongroom.sdk.seal import Seal
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import Clock
from strongroom.server.audit_setup import close_audit, install_audit, reopen_audit
from strongroom.server.http_protocol import VaultHttpProtocol
from strongroom.server.metrics_setup import install_metrics
from strongroom.server.registry import builtin_registry
from strongroom.server.settings import ListenerSettings, NodeSettings
from strongroom.server.tls import ListenerTLS, reload_all, watch_files

log = logging.getLogger("strongroom.server")


async def mint_root_token(barrier: Barrier, token_id: str | None) -> str:
    """Create the initial root token (during init, while the barrier is briefly open)."""
    store = TokenStore(StorageView(barrier, "sys/token/"), clock=time.time, random_bytes=os.urandom)
    token, _ = await store.create_root(token_id)
    return token


def local_seal_manager(
    barrier: Barrier,
    on_key: KeyListener,
    storage_type: str,
    auto_seal: Seal | None = None,
    old_seal: Seal | None = None,
) -> LocalSealManager:
    """The node's authoritative seal, with real time and randomness (and the configured auto seal, if any;
    ``old_seal``: the disabled seal a migration moves away from)."""
    return LocalSealManager(
        barrier,
        mint_root_token=mint_root_token,
        on_key=on_key,
        random_bytes=os.urandom,
        clock=time.time,
        storage_type=storage_type,
        auto_seal=auto_seal,
        old_seal=old_seal,
    )


def build_core(
    settings: NodeSettings,
    physical: StorageBackend,
    seal: SealManager,
    barrier: Barrier,
    *,
    clock: Clock = time.time,
) -> Core:
    """The Core of one process. ``clock`` is injectable so tests can move time instead of sleeping."""
    config = CoreConfig(
        default_lease_ttl=settings.default_lease_ttl,
        max_lease_ttl=settings.max_lease_ttl,
        storage_type=settings.storage_type,
        dev=settings.dev,
        user_lockout=LockoutDefaults.from_config(settings.user_lockout),
    )
    core = Core(barrier, seal, builtin_registry(), config, clock=clock, random_bytes=os.urandom)
    install_metrics(core, settings)
    install_audit(core)
    return core


async def apply_key_event(core: Core, event: KeyEvent) -> None:
    """Bring this process's barrier and core in line with the node's seal state."""
    if event.kind == "unsealed":
        assert event.root_key is not None
        if core.barrier.sealed:
            await core.barrier.unseal(event.root_key)
        if core.sealed:
            await core.post_unseal()
    elif event.kind == "sealed":
        await core.pre_seal()
        core.barrier.seal()
    elif event.kind == "keyring" and not core.barrier.sealed:
        await core.barrier.reload_keyring()


def bind_listener(listener: ListenerSettings, *, reuse_port: bool = False) -> socket.socket:
    """A listening socket for ``listener``. With ``reuse_port`` several sockets share the
    port and the kernel spreads new connections evenly across them (one per worker)."""
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((listener.host, listener.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process owns SIGTERM/SIGINT and
    stops every listener together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def uvicorn_server(
    app: VaultApp, listener: ListenerSettings, log_level: str, tls: ListenerTLS | None = None
) -> uvicorn.Server:
    """A uvicorn server for ``listener``. Its TLS context is ``tls.context`` (see server.tls),
    kept by the caller so SIGHUP can reload the certificate on that same context."""
    kwargs: dict[str, object] = {}
    if not listener.tls_disable:
        live = tls or ListenerTLS.create(listener)

        def context_factory(_config: uvicorn.Config, _default: object) -> ssl.SSLContext:
            return live.context

        kwargs["ssl_context_factory"] = context_factory
    config = uvicorn.Config(
        app,
        loop="none",
        http=VaultHttpProtocol,
        # WebSocket upgrades (sys/events/subscribe) go to the websockets library's sans-I/O protocol.
        ws="websockets-sansio",
        ws_max_size=64 * 1024,
        lifespan="off",
        access_log=False,
        log_level="warning" if log_level in ("info", "warn", "warning") else log_level,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=10,
        **kwargs,  # type: ignore[arg-type]
    )
    return _Server(config)


#: The interpreter's thread switch interval in a serving process (Python's default is 5 ms).
#: The SQLite writer thread needs the GIL back after every wait: for its queue, for the
#: cross-process write lock, for the COMMIT's fsync. While the event loop thread runs
#: Python, a waiting thread gets the GIL only when the interval expires, so each batch of
#: writes lost up to three intervals, holding the write lock meanwhile. Measured beside a
#: busy main thread, a thread running small write batches with a 1 ms pause between them
#: finished 48-79 batches a second at 5 ms, 324-366 at 0.5 ms and 519-593 at 0.2 ms (and
#: about 300-670 with an idle main thread, whatever the interval). docs/benchmarks.md.
SWITCH_INTERVAL = 0.0002


async def serve(core: Core, settings: NodeSettings, sockets: list[socket.socket], *, jobs: bool = True) -> None:
    """Serve every listener until SIGTERM or SIGINT, then shut down gracefully.

    With ``jobs`` this process also runs the node's background loop (lease expiry and
    scheduled jobs): the single process does, and of a supervisor's workers only worker 0.
    """
    sys.setswitchinterval(SWITCH_INTERVAL)
    tls = {i: ListenerTLS.create(item) for i, item in enumerate(settings.listeners) if not item.tls_disable}
    servers = [
        uvicorn_server(make_app(core, listener), listener, settings.log_level, tls.get(i))
        for i, listener in enumerate(settings.listeners)
    ]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True
        # Event streams never end by themselves: end them, or shutdown waits out its grace period.
        core.events.close_all("server shutting down")

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)

    def hangup() -> None:
        reopen_audit(core)
        reload_all(list(tls.values()))

    loop.add_signal_handler(signal.SIGHUP, hangup)
    watcher = asyncio.create_task(watch_files(list(tls.values()))) if tls else None
    jobs_stop = asyncio.Event()
    expiry = asyncio.create_task(run_background(core, jobs_stop)) if jobs else None
    try:
        await asyncio.gather(*(srv.serve(sockets=[sock]) for srv, sock in zip(servers, sockets, strict=True)))
    finally:
        if watcher is not None:
            watcher.cancel()
        jobs_stop.set()
        if expiry is not None:
            await expiry
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        await close_audit(core)


async def run_background(core: Core, stop: asyncio.Event) -> None:
    """The node's one background loop: lease expiry and every mount's scheduled jobs (docs/rotation.md)."""

    async def jobs_tick() -> bool:
        return await core.scheduler.run_due() >= core.scheduler.config.batch

    # Every namespace's leases: each namespace keeps its own expiration manager.
    ticks = [("lease expiry", core.namespaces.expire_due), ("scheduled jobs", jobs_tick)]
    await run_ticks(ticks, stop, ready=lambda: not core.sealed)


def make_app(core: Core, listener: ListenerSettings) -> VaultApp:
    return VaultApp(
        core.handle, RequestLimits(max_request_size=listener.max_request_size), subscribe=core.subscribe_events
    )
