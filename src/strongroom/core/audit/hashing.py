"""Which parts of an audit entry are secret, and turning them into HMACs for one device.

The formatter builds an entry once per event with its secret parts wrapped in
markers; each device then serialises it with its own :class:`Renderer`, whose
``default`` hook (called by orjson only for the markers) replaces them:

* :class:`Hashed`: any JSON value; every string in it, map keys included, becomes
  ``hmac-sha256:<hex>``; numbers, booleans and null stay as they are.
* :class:`Fields`: a map whose keys are field names (clear) and whose values are
  hashed as :class:`Hashed`, except the keys listed as clear (a mount's
  ``audit_non_hmac_*_keys``), which stay entirely clear.
* :class:`Accessor`: a token accessor, hashed unless the device has ``hmac_accessor=false``.

With ``log_raw`` the markers are unwrapped and nothing is hashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

HMAC_PREFIX = "hmac-sha256:"


class Hashed:
    __slots__ = ("memo", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        #: (renderer, rendered): a marker used twice (the token in ``auth`` and in ``request``,
        #: or in the request and the response entry) is hashed once per device.
        self.memo: tuple[Renderer, Any] | None = None

    def __repr__(self) -> str:
        return "Hashed(...)"


class Fields:
    __slots__ = ("clear", "value")

    def __init__(self, value: Mapping[str, Any], clear: frozenset[str] = frozenset()) -> None:
        self.value = value
        self.clear = clear

    def __repr__(self) -> str:
        return f"Fields({sorted(self.value)!r})"


class Accessor:
    __slots__ = ("memo", "value")

    def __init__(self, value: str) -> None:
        self.value = value
        self.memo: tuple[Renderer, Any] | None = None

    def __repr__(self) -> str:
        return "Accessor(...)"


class Renderer:
    """The orjson ``default`` hook of one device: see the module docstring."""

    def __init__(self, salt: bytes, *, log_raw: bool = False, hmac_accessor: bool = True) -> None:
        # Keyed once; each value hashes on a copy (the key schedule is not redone per value).
        self._keyed = crypto_hmac.HMAC(salt, hashes.SHA256())
        self.log_raw = log_raw
        self.hmac_accessor = hmac_accessor

    def __repr__(self) -> str:
        return f"Renderer(log_raw={self.log_raw}, hmac_accessor={self.hmac_accessor})"

    def hash(self, value: str) -> str:
        """``hmac-sha256:<hex>`` of ``value`` (UTF-8; lone surrogates kept as they came) under the salt."""
        mac = self._keyed.copy()
        mac.update(value.encode("utf-8", "surrogatepass"))
        return HMAC_PREFIX + mac.finalize().hex()

    def default(self, obj: Any) -> Any:
        if isinstance(obj, Hashed | Accessor):
            memo = obj.memo
            if memo is not None and memo[0] is self:
                return memo[1]
            if isinstance(obj, Hashed):
                rendered = obj.value if self.log_raw else self._tree(obj.value)
            else:
                rendered = obj.value if self.log_raw or not self.hmac_accessor else self.hash(obj.value)
            obj.memo = (self, rendered)
            return rendered
        if isinstance(obj, Fields):
            if self.log_raw:
                return obj.value
            return {k: (v if k in obj.clear else self._tree(v)) for k, v in obj.value.items()}
        raise TypeError(f"cannot write a {type(obj).__name__} into an audit entry")

    def _tree(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.hash(value)
        if isinstance(value, Mapping):
            return {(self.hash(k) if isinstance(k, str) else k): self._tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._tree(item) for item in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        raise TypeError(f"cannot write a {type(value).__name__} into an audit entry")
