"""Response wrapping: an answer handed over once, through a single-use token (Vault's model).

* :mod:`.info` -- :class:`WrapInfo`, what a wrapped answer carries instead of its data;
* :mod:`.payload` -- which answers are wrapped, and their stored JSON form;
* :mod:`.store` -- :class:`WrappingStore`: wrap, lookup, unwrap, rewrap, single use;
* :mod:`.paths` -- the ``sys/wrapping/*`` endpoints.
"""

from strongroom.core.wrapping.info import WRAPPING_POLICY, WrapInfo
from strongroom.core.wrapping.payload import is_wrappable
from strongroom.core.wrapping.store import NOT_VALID, WrappedRecord, WrappingStore, is_wrapping_token

__all__ = [
    "NOT_VALID",
    "WRAPPING_POLICY",
    "WrapInfo",
    "WrappedRecord",
    "WrappingStore",
    "is_wrappable",
    "is_wrapping_token",
]
