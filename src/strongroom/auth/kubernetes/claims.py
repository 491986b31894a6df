"""What a service-account token claims, and the checks its claims must pass.

Two token shapes exist. Projected (bound) tokens carry a ``kubernetes.io``
object (``namespace``, ``serviceaccount.name``, ``serviceaccount.uid``,
optionally ``pod``) plus ``exp``/``nbf``/``aud``; legacy secret-based tokens
carry flat ``kubernetes.io/serviceaccount/*`` claims and no expiry. Claims are
only believed after the token's signature was verified or the cluster's
TokenReview authenticated it; the checks here run in either case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from strongroom.auth.kubernetes.jws import TokenRejected

#: Seconds of clock skew tolerated between the cluster and this server for ``exp`` and ``nbf``.
LEEWAY = 60
#: The issuer of legacy (secret-based) service-account tokens, expected when no issuer is configured.
LEGACY_ISSUER = "kubernetes/serviceaccount"
_LEGACY = "kubernetes.io/serviceaccount/"
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """The service account a token names."""

    namespace: str
    name: str
    uid: str
    secret_name: str = ""

    @property
    def username(self) -> str:
        """The user name Kubernetes gives this service account (``system:serviceaccount:NS:NAME``)."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def service_account(claims: dict[str, Any]) -> ServiceAccount:
    """The service account named by projected or legacy claims; 403 when either name is missing."""
    k8s = claims.get("kubernetes.io")
    if isinstance(k8s, dict):
        account = k8s.get("serviceaccount")
        account = account if isinstance(account, dict) else {}
        secret = k8s.get("secret")
        found = ServiceAccount(_text(k8s.get("namespace")), _text(account.get("name")), _text(account.get("uid")),
                               _text(secret.get("name")) if isinstance(secret, dict) else "")
    else:
        found = ServiceAccount(_text(claims.get(_LEGACY + "namespace")),
                               _text(claims.get(_LEGACY + "service-account.name")),
                               _text(claims.get(_LEGACY + "service-account.uid")),
                               _text(claims.get(_LEGACY + "secret.name")))
    if not found.namespace or not found.name:
        raise TokenRejected("JWT does not name a service account and namespace")
    # Kubernetes names are DNS labels (namespaces) and subdomains (service accounts); anything else
    # (a "/" or "..", say) is no real service account and must not reach a URL path or an alias.
    if not _DNS_LABEL.fullmatch(found.namespace) or not _DNS_SUBDOMAIN.fullmatch(found.name):
        raise TokenRejected("JWT names a service account or namespace that is not a valid Kubernetes name")
    return found


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"JWT claim {name!r} is not a number")
    return float(value)


def check_times(claims: dict[str, Any], now: float) -> None:
    """Refuse a token past ``exp`` or before ``nbf`` (each with :data:`LEEWAY`)."""
    expires = _number(claims, "exp")
    if expires is not None and now > expires + LEEWAY:
        raise TokenRejected("JWT has expired")
    not_before = _number(claims, "nbf")
    if not_before is not None and now < not_before - LEEWAY:
        raise TokenRejected("JWT is not valid yet")


def check_issuer(claims: dict[str, Any], issuer: str) -> None:
    """Refuse a token whose ``iss`` is not ``issuer`` (or the legacy issuer when none is configured)."""
    if _text(claims.get("iss")) != (issuer or LEGACY_ISSUER):
        raise TokenRejected("JWT issuer is not the configured issuer")


def audiences(claims: dict[str, Any]) -> tuple[str, ...]:
    """The ``aud`` claim as a tuple (a single string is one audience)."""
    value = claims.get("aud")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(a for a in value if isinstance(a, str))
    return ()


def check_audience(found: tuple[str, ...], audience: str) -> None:
    """Refuse unless ``audience`` (the role's, when set) is among ``found``."""
    if audience and audience not in found:
        raise TokenRejected("JWT audience does not match the role's audience")
