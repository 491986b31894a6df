"""The ``transit`` seal: a transit key on another Strongroom (or Vault) server wraps the unseal key.

Blob format (stored in untrusted storage, so versioned)::

    b"SRT" | version (1 byte, 1) | the remote's ciphertext, ASCII ("vault:vN:base64...")

Integrity comes from the remote key (AES-256-GCM for the default key type): a
changed ciphertext fails to decrypt there. A changed header, a non-ASCII body or
a body that is not ``vault:v<N>:...`` fails here. Every such failure is the one
opaque :class:`strongroom.errors.DecryptionFailed`.

Calls: ``POST {address}/v1/{mount_path}encrypt/{key_name}`` with
``{"plaintext": base64}`` and ``POST .../decrypt/{key_name}`` with
``{"ciphertext": ...}``, carrying the token in ``X-Vault-Token``.

Egress: every call goes through :mod:`strongroom.sdk.egress` with loopback and
private ranges allowed (the address is operator configuration, not API input,
and a transit server on the same host is a normal layout), link-local and the
always-denied ranges (cloud metadata, ...) refused. The connection goes to the
addresses that were checked; the host name is kept for ``Host`` and for TLS
(SNI and certificate verification, or ``tls_server_name`` when set).

Failure modes: an unreachable server, a refused destination, a 403 (token or
policy), a sealed remote, a missing key or any other unexpected answer raise
:class:`SealUnavailable` with a reason naming the address and the problem, never
the token. ``tls_skip_verify = true`` is refused: the configuration has no switch
that turns security off.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from strongroom.errors import DecryptionFailed, InternalError, InvalidRequest
from strongroom.sdk.egress import EgressPolicy, check_url
from strongroom.sdk.seal import Seal

SEAL_TYPE = "transit"
MAGIC = b"SRT"
VERSION = 1
HEADER = MAGIC + bytes([VERSION])
TIMEOUT_SECONDS = 10.0
#: The transit server is operator configuration; it commonly runs on this host or the internal network.
EGRESS_POLICY = EgressPolicy(allow_loopback=True, allow_link_local=False, allow_private=True)
#: Where the token may come from instead of the config file (first one set wins).
TOKEN_ENVIRONMENT = ("STRONGROOM_TRANSIT_SEAL_TOKEN", "VAULT_TOKEN")
_KNOWN = {
    "address", "token", "key_name", "mount_path", "namespace", "tls_ca_cert", "tls_client_cert",
    "tls_client_key", "tls_server_name", "tls_skip_verify", "disable_renewal",
}
_TRUE, _FALSE = ("true", "1"), ("false", "0", "")


class SealUnavailable(InternalError):
    """The transit server cannot be used right now (unreachable, refused, wrong token, missing key)."""


def _flag(options: Mapping[str, str], name: str) -> bool:
    value = str(options.get(name, "")).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f'seal "transit": {name} must be true or false')


@dataclass(frozen=True)
class TransitOptions:
    """The ``seal "transit"`` block, validated. ``token`` is hidden from ``repr``."""

    address: str
    key_name: str
    token: str = field(repr=False)
    mount_path: str = "transit/"
    tls_ca_cert: str = ""
    tls_client_cert: str = ""
    tls_client_key: str = ""
    tls_server_name: str = ""
    disable_renewal: bool = False
    #: The transit server's namespace holding the mount ("" for its root namespace), sent as X-Vault-Namespace.
    namespace: str = ""

    @staticmethod
    def from_block(options: Mapping[str, str]) -> TransitOptions:
        """Validate a raw config block; raise ValueError naming the first problem (never the token)."""
        unknown = sorted(set(options) - _KNOWN)
        if unknown:
            raise ValueError(f"seal \"transit\": unknown option(s) {', '.join(unknown)}")
        for required in ("address", "token", "key_name"):
            if not options.get(required):
                raise ValueError(f'seal "transit": {required} is required')
        namespace = options.get("namespace", "").strip("/")
        if namespace and any(part in ("", ".", "..") for part in namespace.split("/")):
            raise ValueError('seal "transit": namespace is invalid')
        if _flag(options, "tls_skip_verify"):
            raise ValueError('seal "transit": tls_skip_verify is refused; give tls_ca_cert instead')
        address = options["address"].rstrip("/")
        try:
            # Checked again (with resolution) before each call; this catches typos at startup.
            parsed = httpx.URL(address)
        except httpx.InvalidURL:
            raise ValueError('seal "transit": address is not a valid URL') from None
        if parsed.scheme not in ("http", "https") or not parsed.host or parsed.userinfo:
            raise ValueError('seal "transit": address must be http(s)://host[:port] without user info')
        mount = options.get("mount_path", "transit/").strip("/")
        if not mount or ".." in mount.split("/"):
            raise ValueError('seal "transit": mount_path is invalid')
        client_cert, client_key = options.get("tls_client_cert", ""), options.get("tls_client_key", "")
        if bool(client_cert) != bool(client_key):
            raise ValueError('seal "transit": give both tls_client_cert and tls_client_key, or neither')
        return TransitOptions(
            address=address, key_name=options["key_name"], token=options["token"], mount_path=mount + "/",
            tls_ca_cert=options.get("tls_ca_cert", ""), tls_client_cert=client_cert, tls_client_key=client_key,
            tls_server_name=options.get("tls_server_name", ""), disable_renewal=_flag(options, "disable_renewal"),
            namespace=namespace,
        )


def _ssl_context(options: TransitOptions) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.tls_ca_cert or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if options.tls_client_cert:
        context.load_cert_chain(options.tls_client_cert, options.tls_client_key)
    return context


class TransitSeal(Seal):
    """A :class:`strongroom.sdk.seal.Seal` backed by a named key of a remote transit mount."""

    seal_type = SEAL_TYPE
    recovery_keys = True

    def __init__(self, options: TransitOptions, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._options = options
        self._transport = transport
        self._ssl: ssl.SSLContext | None = None
        self.last_error = ""

    def __repr__(self) -> str:
        return f"TransitSeal(address={self._options.address!r}, key_name={self._options.key_name!r})"

    def _fail(self, problem: str) -> SealUnavailable:
        self.last_error = f"transit seal: {self._options.address}: {problem}"
        return SealUnavailable(self.last_error)

    async def _post(self, operation: str, body: dict[str, str]) -> httpx.Response:
        opts = self._options
        url = f"{opts.address}/v1/{opts.mount_path}{operation}/{quote(opts.key_name, safe='')}"
        try:
            destination = await check_url(url, EGRESS_POLICY)
        except InvalidRequest as exc:
            raise self._fail(str(exc)) from None
        # Connect to the address that was checked (no second resolution), keep the name for Host and TLS.
        target = httpx.URL(url).copy_with(host=destination.addresses[0])
        server_name = opts.tls_server_name or destination.host
        extensions = {"sni_hostname": server_name} if destination.scheme == "https" else {}
        headers = {"X-Vault-Token": opts.token, "Host": httpx.URL(url).netloc.decode("ascii")}
        if opts.namespace:
            headers["X-Vault-Namespace"] = opts.namespace
        if destination.scheme == "https" and self._ssl is None:
            try:
                self._ssl = _ssl_context(opts)
            except (OSError, ssl.SSLError) as exc:
                raise self._fail(f"cannot load the TLS files ({type(exc).__name__})") from None
        try:
            async with httpx.AsyncClient(
                verify=self._ssl or True, timeout=TIMEOUT_SECONDS, transport=self._transport,
                follow_redirects=False, trust_env=False,
            ) as client:
                return await client.post(target, json=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            raise self._fail("timed out") from None
        except httpx.HTTPError as exc:
            raise self._fail(f"cannot reach the transit server ({type(exc).__name__})") from None

    def _refusal(self, response: httpx.Response) -> SealUnavailable:
        status = response.status_code
        if status == 403:
            return self._fail("permission denied (check the token, its policy, and that the key exists)")
        if status == 503:
            return self._fail("the transit server is sealed or unavailable (503)")
        if status == 404:
            return self._fail(f"no transit mount at {self._options.mount_path!r} (404)")
        return self._fail(f"unexpected answer {status}")

    async def encrypt(self, plaintext: bytes) -> bytes:
        response = await self._post("encrypt", {"plaintext": base64.b64encode(plaintext).decode("ascii")})
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            ciphertext = response.json()["data"]["ciphertext"]
        except (ValueError, KeyError, TypeError):
            ciphertext = None
        if not isinstance(ciphertext, str) or not ciphertext.isascii() or not ciphertext.startswith("vault:v"):
            raise self._fail("the encrypt answer has no ciphertext")
        encoded = ciphertext.encode("ascii")
        self.last_error = ""
        return HEADER + encoded

    async def decrypt(self, blob: bytes) -> bytes:
        if blob[: len(HEADER)] != HEADER:
            raise DecryptionFailed()
        try:
            ciphertext = blob[len(HEADER):].decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionFailed() from None
        if not ciphertext.startswith("vault:v"):
            raise DecryptionFailed()
        response = await self._post("decrypt", {"ciphertext": ciphertext})
        if response.status_code == 400:
            if "not found" in response.text:
                raise self._fail(f"the transit key {self._options.key_name!r} does not exist")
            # The remote refused the ciphertext itself: tampered or from another key.
            self.last_error = ""
            raise DecryptionFailed()
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            plaintext = base64.b64decode(response.json()["data"]["plaintext"], validate=True)
        except (ValueError, KeyError, TypeError):
            raise self._fail("the decrypt answer has no plaintext") from None
        self.last_error = ""
        return plaintext

    async def status(self) -> dict[str, object]:
        opts = self._options
        return {"type": SEAL_TYPE, "address": opts.address, "mount_path": opts.mount_path,
                "key_name": opts.key_name, "last_error": self.last_error}


def build(options: Mapping[str, str], random_bytes: object = None,
          environ: Mapping[str, str] | None = None) -> TransitSeal:
    """The composition root's entry point: validate the block and build the seal (no connection yet).

    A block without ``token`` takes it from ``STRONGROOM_TRANSIT_SEAL_TOKEN`` or ``VAULT_TOKEN``
    in ``environ`` (the process environment by default). ``random_bytes`` is unused: the remote
    transit key draws its own nonces.
    """
    env = os.environ if environ is None else environ
    if not options.get("token"):
        from_env = next((env[name] for name in TOKEN_ENVIRONMENT if env.get(name)), "")
        if from_env:
            options = {**options, "token": from_env}
    return TransitSeal(TransitOptions.from_block(options))
