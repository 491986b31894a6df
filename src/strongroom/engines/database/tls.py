"""TLS for the MySQL plugins from Vault's ``tls_ca`` and ``tls_certificate_key`` (PEM text, not paths).

``tls_ca`` is the CA the server's certificate must chain to (without it: the
system's CAs); ``tls_certificate_key`` is a client certificate and its private
key in one PEM, for servers that require one. Either makes TLS required: a
server without TLS, a certificate that does not chain, or one that does not name
the host is a connection error, never a silent plaintext fallback.

Connections go to the address the egress check resolved, so the certificate is
checked against the host name of ``connection_url`` (:class:`_NamedContext`),
not against that address.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from typing import Any

from strongroom.errors import InvalidRequest


class _NamedContext(ssl.SSLContext):
    """A client context that always checks the server's certificate against one fixed host name."""

    server_name = ""

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["server_hostname"] = self.server_name
        return super().wrap_socket(sock, *args, **kwargs)


def client_context(host: str, tls_ca: str, tls_certificate_key: str) -> ssl.SSLContext | None:
    """The context for connections to ``host``, or None when neither option is set (a 400 for bad PEM)."""
    if not tls_ca and not tls_certificate_key:
        return None
    context = _NamedContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    context.server_name = host
    try:
        if tls_ca:
            context.load_verify_locations(cadata=tls_ca)
        else:
            context.load_default_certs()
    except (ssl.SSLError, ValueError):
        raise InvalidRequest("tls_ca must be one or more PEM-encoded CA certificates") from None
    if tls_certificate_key:
        _load_cert_key(context, tls_certificate_key)
    return context


def _load_cert_key(context: ssl.SSLContext, pem: str) -> None:
    # The ssl module reads a key only from a file: a private (0600) temporary one, removed at once.
    fd, path = tempfile.mkstemp(prefix="strongroom-db-", suffix=".pem")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(pem)
        context.load_cert_chain(path)
    except (ssl.SSLError, ValueError):
        raise InvalidRequest("tls_certificate_key must be a PEM certificate and its private key together") from None
    finally:
        os.unlink(path)
