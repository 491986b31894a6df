"""Usernames: one canonical spelling, used for storage lookups and for the lockout key alike.

Vault lower-cases userpass usernames. We normalise a little further, once,
here, and every path that touches a user (create, read, login, the lockout
principal) goes through :func:`canonical_username`:

* NFKC, so fullwidth and other compatibility forms become plain letters;
* invisible format characters removed (zero-width space and joiner, BOM, soft hyphen);
* surrounding whitespace trimmed, then lower-cased;
* then it must be a Vault-style name: ASCII letters, digits, ``_``, ``-`` and
  ``.``, starting and ending with a letter, digit or ``_``, at most
  :data:`MAX_USERNAME_CHARS` characters.

So ``Bob``, `` bob ``, fullwidth ``bob`` (U+FF42 ...) and ``bo`` U+200B ``b`` are all the
user ``bob``, while a look-alike that stays non-ASCII after NFKC (a Cyrillic o, U+043E) is no valid name
at all: it can neither be created nor log in, and never reaches ``bob``.
"""

from __future__ import annotations

import re
import unicodedata

MAX_USERNAME_CHARS = 256
_VALID = re.compile(r"[a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?")


def canonical_username(raw: str) -> str | None:
    """The canonical username for ``raw``, or None when no user can have that name. Never raises."""
    if len(raw) > 4 * MAX_USERNAME_CHARS:
        return None
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.strip().lower()
    if len(text) > MAX_USERNAME_CHARS or not _VALID.fullmatch(text):
        return None
    return text
