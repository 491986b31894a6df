"""The server side of TLS: one ``ssl.SSLContext`` per listener, and its reload on SIGHUP.

Contract:

* Protocols: TLS 1.2 and 1.3 only (``tls_min_version = "tls13"`` drops 1.2). SSLv3, TLS 1.0 and
  1.1 are refused at the handshake whatever the system OpenSSL policy says.
* TLS 1.2 cipher suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only, so every
  session has forward secrecy and an AEAD; no CBC, no static-RSA key exchange, no SHA-1 MACs.
  TLS 1.3 suites are fixed by OpenSSL and are all AEAD.
* Client certificates: with ``tls_client_ca_file`` set, a client certificate is requested and,
  when one is sent, verified against that file at the handshake (an unverifiable or expired one
  ends the handshake). ``tls_require_and_verify_client_cert`` makes the certificate mandatory.
  Python's ``ssl`` module cannot ask for a certificate without verifying it, so the ``cert``
  auth method needs the listener's ``tls_client_ca_file`` to list the CAs it trusts too.
* Reload (on SIGHUP, and when :func:`watch_files` sees the files replaced):
  :meth:`ListenerTLS.reload` reads the certificate and key files again and installs them
  on the *same* context, so connections accepted afterwards present the new certificate while
  open ones keep theirs. A pair that does not load (missing file, key not matching) is refused
  before anything changes: the listener keeps serving the previous certificate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

from strongroom.server.settings import ListenerSettings

log = logging.getLogger("strongroom.server.tls")

#: ECDHE key exchange with AEAD ciphers only (TLS 1.2); OpenSSL's TLS 1.3 suites are added implicitly.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"

#: How often the certificate files are checked for replacement (seconds).
WATCH_INTERVAL = 5.0

_MIN_VERSIONS = {"tls12": ssl.TLSVersion.TLSv1_2, "tls13": ssl.TLSVersion.TLSv1_3}


class TLSConfigError(ValueError):
    """The listener's TLS files or options cannot be used (message names the file, never key bytes)."""


def _load_pair(context: ssl.SSLContext, listener: ListenerSettings) -> None:
    try:
        context.load_cert_chain(listener.tls_cert_file, listener.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        raise TLSConfigError(
            f"cannot load the TLS certificate {listener.tls_cert_file!r} with key {listener.tls_key_file!r}: "
            f"{getattr(exc, 'reason', None) or exc.__class__.__name__}"
        ) from None


def build_server_context(listener: ListenerSettings) -> ssl.SSLContext:
    """A fresh server context for ``listener`` (which must not have ``tls_disable``)."""
    if listener.tls_disable:
        raise TLSConfigError("the listener has tls_disable set")
    minimum = _MIN_VERSIONS.get(listener.tls_min_version)
    if minimum is None:
        raise TLSConfigError(f'tls_min_version {listener.tls_min_version!r} is not supported; use "tls12" or "tls13"')
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = minimum
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers(TLS12_CIPHERS)
    # Renegotiation and compression are attack surface a secrets API never needs.
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_alpn_protocols(["http/1.1"])
    _load_pair(context, listener)
    if listener.tls_client_ca_file:
        try:
            context.load_verify_locations(cafile=listener.tls_client_ca_file)
        except (OSError, ssl.SSLError):
            raise TLSConfigError(f"cannot load tls_client_ca_file {listener.tls_client_ca_file!r}") from None
        context.verify_mode = ssl.CERT_REQUIRED if listener.tls_require_and_verify_client_cert else ssl.CERT_OPTIONAL
    elif listener.tls_require_and_verify_client_cert:
        raise TLSConfigError("tls_client_ca_file is required with tls_require_and_verify_client_cert")
    return context


def check_listeners(listeners: Iterable[ListenerSettings]) -> None:
    """Build (and drop) every TLS listener's context: TLSConfigError names the first unusable file."""
    for listener in listeners:
        if not listener.tls_disable:
            build_server_context(listener)


def _files_state(listener: ListenerSettings) -> tuple[tuple[int, int, int], ...]:
    """(inode, size, mtime) of the certificate and key files; zeros for a missing file."""
    state = []
    for path in (listener.tls_cert_file, listener.tls_key_file):
        try:
            info = os.stat(path)
        except OSError:
            state.append((0, 0, 0))
        else:
            state.append((info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(state)


@dataclass
class ListenerTLS:
    """A listener's live context and the settings it was built from."""

    listener: ListenerSettings
    context: ssl.SSLContext
    #: The files' state when last loaded (or last refused), to notice replaced files.
    seen: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def create(cls, listener: ListenerSettings) -> ListenerTLS:
        seen = _files_state(listener)
        return cls(listener, build_server_context(listener), seen)

    def reload_if_changed(self) -> bool | None:
        """Reload when the files changed since last looked at; None when they did not."""
        state = _files_state(self.listener)
        if state == self.seen:
            return None
        self.seen = state
        return self.reload("files replaced")

    def reload(self, reason: str = "SIGHUP") -> bool:
        """Install the certificate and key files again on the live context.

        Returns True when the new pair is in use. The pair is first loaded into a scratch context,
        so a broken pair (which could leave a context half-updated) never touches the live one.
        """
        try:
            _load_pair(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), self.listener)
        except TLSConfigError as exc:
            problem = str(exc)
        else:
            _load_pair(self.context, self.listener)
            log.info("TLS certificate reloaded for %s:%d (%s)", self.listener.host, self.listener.port, reason)
            return True
        log.error("TLS reload refused for %s:%d (%s), keeping the current certificate: %s",
                  self.listener.host, self.listener.port, reason, problem)
        return False


def reload_all(listeners: list[ListenerTLS]) -> None:
    """SIGHUP: reload every listener's certificate (each on its own; one failure spares the rest)."""
    for item in listeners:
        item.seen = _files_state(item.listener)
        item.reload("SIGHUP")


async def watch_files(listeners: list[ListenerTLS], interval: float = WATCH_INTERVAL) -> None:
    """Reload a listener whose certificate or key file was replaced, every ``interval`` seconds.

    A renewer that writes the files (``operator tls renew``, certbot, an agent template) needs no
    signal. A pair caught half-replaced is refused and retried when the second file lands.
    """
    while True:
        await asyncio.sleep(interval)
        for item in listeners:
            item.reload_if_changed()
