"""Policy names: one canonical spelling, and the reserved names.

Part of the plug-in contract: an auth method that stores policy lists (a
userpass user, an AppRole role) validates them here when they are written, so
the same rules hold at the API where they are set and in the core where
tokens are minted (``strongroom.core.policy.names`` re-exports this module).

Vault lower-cases policy names. We go further, because a name that *looks*
like ``root`` must never be created or attached (CVE-2025-5999 attached the
root policy through a case/whitespace variant):

* :func:`normalize_policy_name` gives the canonical spelling: NFKC (fullwidth
  and compatibility forms become ASCII), invisible format characters removed
  (zero-width space/joiner, BOM, soft hyphen), surrounding whitespace trimmed,
  lower-cased; then it must fit a conservative charset
  (``[a-z0-9_][a-z0-9_.-]{0,127}``), otherwise :class:`InvalidRequest`.
* :func:`is_reserved` answers True for every spelling of ``root`` that the
  normaliser maps to ``root`` and, as defence in depth, for look-alikes the
  charset would refuse anyway (inner whitespace, accents, Cyrillic/Greek
  letters shaped like r, o, t). It never raises.

``root`` cannot be created, updated or deleted; ``default`` cannot be deleted.
"""

from __future__ import annotations

import re
import unicodedata

from strongroom.errors import InvalidRequest

ROOT_POLICY_NAME = "root"
DEFAULT_POLICY_NAME = "default"

_VALID_NAME = re.compile(r"[a-z0-9_][a-z0-9_.\-]{0,127}")

#: Letters that render like the ones in "root" but that NFKC leaves alone.
_LOOKALIKES = str.maketrans(
    {
        "\u043e": "o",  # Cyrillic small o
        "\u03bf": "o",  # Greek small omicron
        "\u0585": "o",  # Armenian small oh
        "\u1d0f": "o",  # Latin letter small capital O
        "\u2c9f": "o",  # Coptic small o
        "\u0280": "r",  # Latin letter small capital R
        "\u0433": "r",  # Cyrillic small ghe (italic form looks like r)
        "\u1d26": "r",  # Greek letter small capital gamma
        "\u0442": "t",  # Cyrillic small te
        "\u03c4": "t",  # Greek small tau
        "\u1d1b": "t",  # Latin letter small capital T
    }
)


def _fold(name: str) -> str:
    """NFKC, invisible characters removed, trimmed, lower-cased."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip().lower()


def normalize_policy_name(name: str) -> str:
    """The canonical spelling of a policy name, or :class:`InvalidRequest`.

    The error message describes the rule and never echoes the name (it may
    hold control characters meant for a log line).
    """
    folded = _fold(name)
    if not _VALID_NAME.fullmatch(folded):
        raise InvalidRequest(
            "invalid policy name: use 1 to 128 characters from a-z, 0-9, '_', '.' and '-', "
            "starting with a letter, digit or '_'"
        )
    return folded


def _skeleton(name: str) -> str:
    """A deliberately lossy form used only to recognise look-alikes of reserved names."""
    text = _fold(name).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if unicodedata.category(ch) != "Mn")
    text = text.translate(_LOOKALIKES)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def is_reserved(name: str) -> bool:
    """True for any spelling of the root policy's name. Never raises."""
    return _skeleton(name) == ROOT_POLICY_NAME


def is_default(name: str) -> bool:
    """True for any spelling that normalises to ``default``. Never raises."""
    return _skeleton(name) == DEFAULT_POLICY_NAME


def writable_policy_name(name: str) -> str:
    """The canonical name for a create or update; refuses the root policy."""
    if is_reserved(name):
        raise InvalidRequest("cannot update the root policy")
    return normalize_policy_name(name)


def deletable_policy_name(name: str) -> str:
    """The canonical name for a delete; refuses the root and default policies."""
    if is_reserved(name):
        raise InvalidRequest("cannot delete the root policy")
    if is_default(name):
        raise InvalidRequest("cannot delete the default policy")
    return normalize_policy_name(name)
