"""What a wrapped answer carries instead of its data (Vault's ``wrap_info``)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The only policy a response-wrapping token carries (Vault's name). It grants nothing through
#: the ACL: the core refuses such a token everywhere except the unwrap and lookup paths.
WRAPPING_POLICY = "response-wrapping"


@dataclass(frozen=True, slots=True)
class WrapInfo:
    """The handle of one wrapped response.

    ``token`` is the single-use wrapping token (shown once, never stored and
    never in ``repr``); ``accessor`` is its accessor; ``ttl`` is its lifetime
    in seconds from ``creation_time`` (epoch seconds); ``creation_path`` is the
    request path whose answer was wrapped; ``wrapped_accessor`` is the accessor
    of the token inside the wrapped answer (a login, a token creation), else "".
    """

    token: str = field(repr=False)
    accessor: str
    ttl: int
    creation_time: float
    creation_path: str
    wrapped_accessor: str = ""
