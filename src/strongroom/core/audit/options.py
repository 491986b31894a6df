"""The options every audit device shares, split from the device type's own options.

==========================  =========  =========================================================
option                      default    meaning
==========================  =========  =========================================================
``hmac_accessor``           ``true``   HMAC token accessors (``false``: accessors in clear)
``log_raw``                 ``false``  write secrets in clear (no HMAC at all; see docs/audit.md)
``elide_list_responses``    ``false``  replace a list answer's ``keys`` by their count
``prefix``                  ``""``     text written before every line
``format``                  ``json``   the only format (``jsonx`` is refused)
``write_deadline``          ``3s``     how long a request waits for this device to record an entry
``checkpoint_entries``      ``1000``   lines of a chain between two signed checkpoints
==========================  =========  =========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from strongroom.errors import InvalidRequest
from strongroom.sdk.audit import option_bool, option_seconds

COMMON_OPTIONS = (
    "hmac_accessor", "log_raw", "elide_list_responses", "prefix", "format", "write_deadline", "checkpoint_entries",
)
DEFAULT_DEADLINE = 3.0
DEFAULT_CHECKPOINT_ENTRIES = 1000
MAX_PREFIX = 256


@dataclass(frozen=True, slots=True)
class CommonOptions:
    hmac_accessor: bool = True
    log_raw: bool = False
    elide_list_responses: bool = False
    prefix: str = ""
    write_deadline: float = DEFAULT_DEADLINE
    checkpoint_entries: int = DEFAULT_CHECKPOINT_ENTRIES


def split_options(options: Mapping[str, str]) -> tuple[CommonOptions, dict[str, str]]:
    """(the shared options parsed, the device type's own options); InvalidRequest for bad values."""
    fmt = (options.get("format") or "json").strip().lower()
    if fmt != "json":
        raise InvalidRequest(f"audit format {fmt!r} is not supported: use format=json")
    prefix = options.get("prefix") or ""
    if len(prefix) > MAX_PREFIX or any(c in prefix for c in "\r\n\x00"):
        raise InvalidRequest(f"prefix must be one line of at most {MAX_PREFIX} characters")
    raw_entries = (options.get("checkpoint_entries") or "").strip()
    if raw_entries:
        if not raw_entries.isdigit() or not 1 <= int(raw_entries) <= 1_000_000:
            raise InvalidRequest("checkpoint_entries must be a whole number between 1 and 1000000")
        entries = int(raw_entries)
    else:
        entries = DEFAULT_CHECKPOINT_ENTRIES
    common = CommonOptions(
        hmac_accessor=option_bool(options, "hmac_accessor", True),
        log_raw=option_bool(options, "log_raw", False),
        elide_list_responses=option_bool(options, "elide_list_responses", False),
        prefix=prefix,
        write_deadline=option_seconds(options, "write_deadline", DEFAULT_DEADLINE),
        checkpoint_entries=entries,
    )
    own = {k: v for k, v in options.items() if k not in COMMON_OPTIONS}
    return common, own
