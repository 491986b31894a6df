"""The token store and the ``auth/token/`` backend.

Public surface: :class:`TokenStore` (mint, look up, use, renew, revoke),
:class:`TokenEntry` / :class:`TokenSpec`, and :func:`sanitize_policies` for
callers that build policy lists themselves. The backend lives in
:mod:`strongroom.core.tokens.backend` (imported by the mount manager).
"""

from strongroom.core.tokens.entry import TokenEntry, TokenSpec
from strongroom.core.tokens.policies import sanitize_policies
from strongroom.core.tokens.store import OnRevoke, TidyReport, TokenStore

__all__ = ["OnRevoke", "TidyReport", "TokenEntry", "TokenSpec", "TokenStore", "sanitize_policies"]
