"""Which public keys may verify a token: configured PEM keys, a JWKS, or the JWKS an OIDC issuer names.

Fetched documents are cached per worker process, keyed by URL *and* CA, so a
config change never serves keys fetched under the old config. A JWKS is kept
for its ``Cache-Control: max-age``, clamped to between :data:`REFETCH_INTERVAL` and
:data:`MAX_AGE` (:data:`MAX_AGE` when absent): an issuer answering ``max-age=0``
cannot make every login a fetch. A token whose ``kid`` is not in the cached set makes the cache
refetch at once (the issuer may have rotated), but not more than once per
:data:`REFETCH_INTERVAL` per set, so a stream of tokens with made-up ``kid``
values cannot turn the server into a request amplifier against the issuer.

A discovery document is accepted only if its ``issuer`` equals the configured
``oidc_discovery_url`` exactly (OpenID Connect Discovery 1.0, section 4.3) and it
names a ``jwks_uri``; that URL passes the same egress check as any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from strongroom.auth.jwt.config import JwtConfig
from strongroom.auth.jwt.fetch import DocumentUnavailable, Fetcher
from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import split_url
from strongroom.sdk.jwt import ParsedToken, PublicKey, TokenRejected, key_from_jwk

log = logging.getLogger("strongroom.auth.jwt")

#: Longest time (seconds) a fetched JWKS or discovery document is used before it is fetched again.
MAX_AGE = 3600
#: Shortest time (seconds) between two fetches of one JWKS caused by unknown ``kid`` values.
REFETCH_INTERVAL = 60
#: A JWKS with more keys than this is refused.
MAX_KEYS = 256
WELL_KNOWN = "/.well-known/openid-configuration"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One usable key of a JWKS: its ``kid`` and ``alg`` (empty when the JWK names none)."""

    kid: str
    alg: str
    key: PublicKey


@dataclass(frozen=True, slots=True)
class Discovery:
    issuer: str
    jwks_uri: str


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    fetched_at: float
    expires_at: float


def parse_jwks(body: dict[str, object]) -> tuple[SigningKey, ...]:
    """The signing keys of a JWKS document; keys for encryption or of unsupported types are skipped."""
    entries = body.get("keys")
    if not isinstance(entries, list):
        raise DocumentUnavailable("the JWKS has no 'keys' list")
    if len(entries) > MAX_KEYS:
        raise DocumentUnavailable(f"the JWKS has more than {MAX_KEYS} keys")
    found: list[SigningKey] = []
    for jwk in entries:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = key_from_jwk(jwk)
        except InvalidRequest as skipped:
            log.info("JWKS entry skipped: %s", skipped.message)
            continue
        kid, alg = jwk.get("kid"), jwk.get("alg")
        found.append(SigningKey(kid if isinstance(kid, str) else "", alg if isinstance(alg, str) else "", key))
    if not found:
        raise DocumentUnavailable("the JWKS holds no usable signing key")
    return tuple(found)


def parse_discovery(body: dict[str, object], url: str) -> Discovery:
    """The issuer and JWKS URL of a discovery document fetched for issuer ``url``."""
    issuer, jwks_uri = body.get("issuer"), body.get("jwks_uri")
    if issuer != url:
        raise DocumentUnavailable("the discovery document's issuer does not match oidc_discovery_url")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise DocumentUnavailable("the discovery document names no jwks_uri")
    try:
        split_url(jwks_uri)
    except InvalidRequest:
        raise DocumentUnavailable("the discovery document's jwks_uri is not an http(s) URL") from None
    return Discovery(url, jwks_uri)


class KeyCache:
    """Verification keys for a mount's tokens, fetching and caching remote documents (see module docstring)."""

    def __init__(self, fetcher: Fetcher, clock: Callable[[], float]) -> None:
        self.fetcher = fetcher
        self.clock = clock
        self._jwks: dict[tuple[str, str], _Entry[tuple[SigningKey, ...]]] = {}
        self._discovery: dict[tuple[str, str], _Entry[Discovery]] = {}

    def _lifetime(self, max_age: int | None) -> int:
        return MAX_AGE if max_age is None else max(REFETCH_INTERVAL, min(max_age, MAX_AGE))

    async def discovery(self, config: JwtConfig, *, fresh: bool = False) -> Discovery:
        """The mount's validated discovery document (``fresh`` skips the cache)."""
        cache_key = (config.oidc_discovery_url, config.oidc_discovery_ca_pem)
        now = self.clock()
        entry = self._discovery.get(cache_key)
        if entry is None or fresh or now >= entry.expires_at:
            url = config.oidc_discovery_url.rstrip("/") + WELL_KNOWN
            document = await self.fetcher.get_json(url, config.oidc_discovery_ca_pem, "OIDC discovery document")
            entry = _Entry(parse_discovery(document.body, config.oidc_discovery_url), now,
                           now + self._lifetime(document.max_age))
            self._discovery[cache_key] = entry
        return entry.value

    async def _fetch_jwks(self, url: str, ca_pem: str) -> _Entry[tuple[SigningKey, ...]]:
        now = self.clock()
        document = await self.fetcher.get_json(url, ca_pem, "JWKS")
        entry = _Entry(parse_jwks(document.body), now, now + self._lifetime(document.max_age))
        self._jwks[(url, ca_pem)] = entry
        return entry

    async def jwks_location(self, config: JwtConfig) -> tuple[str, str]:
        """(URL, CA PEM) of the mount's JWKS: configured directly or named by the discovery document."""
        if config.jwks_url:
            return config.jwks_url, config.jwks_ca_pem
        return (await self.discovery(config)).jwks_uri, config.oidc_discovery_ca_pem

    async def check_jwks(self, url: str, ca_pem: str) -> None:
        """Fetch and parse the JWKS now (for a config write); raises :class:`DocumentUnavailable`."""
        await self._fetch_jwks(url, ca_pem)

    async def keys_for(self, config: JwtConfig, token: ParsedToken) -> list[PublicKey]:
        """The keys that may verify ``token`` (never empty: an unknown ``kid`` is a 403)."""
        if config.jwt_validation_pubkeys:
            return config.public_keys()
        url, ca_pem = await self.jwks_location(config)
        entry = self._jwks.get((url, ca_pem))
        now = self.clock()
        if entry is None or now >= entry.expires_at:
            entry = await self._fetch_jwks(url, ca_pem)
        keys = _matching(entry.value, token)
        if not keys and token.key_id and now - entry.fetched_at >= REFETCH_INTERVAL:
            entry = await self._fetch_jwks(url, ca_pem)
            keys = _matching(entry.value, token)
        if not keys:
            raise TokenRejected("JWT key id (kid) was not found in the JWKS" if token.key_id
                                else "no key in the JWKS can verify the JWT's algorithm")
        return keys


def _matching(keys: tuple[SigningKey, ...], token: ParsedToken) -> list[PublicKey]:
    return [k.key for k in keys
            if (not token.key_id or k.kid == token.key_id) and (not k.alg or k.alg == token.algorithm)]
