"""Canonical spellings of request paths and of policy path patterns.

Every request path is canonicalised exactly once, by the core, before routing
and before the ACL check, so the path the ACL judges is the path the router
serves. The HTTP edge has already percent-decoded the URL path exactly once;
nothing here decodes again. Consequences, on purpose:

* ``%2F`` in a URL arrives here already decoded, as a ``/``: it separates
  segments like any other slash.
* ``%252F`` arrives as the literal text ``%2F`` and stays that text: it is
  part of a segment name, never a separator (no second decode).
* ``%2e%2e`` arrives as ``..`` and is refused like a typed ``..``.

Rules for request paths: strip leading slashes, collapse repeated slashes,
drop ``.`` segments, refuse ``..`` segments, refuse control characters,
invisible format characters (zero-width, bidi overrides) and lone surrogates,
and keep one trailing slash if the input had one (it is meaningful for LIST).
There is no Unicode normalisation: a look-alike spelling is simply a
different path, for routing and for the ACL alike.

Policy patterns follow the same rules, plus the wildcard grammar: ``*`` only
as the very last character (a prefix glob), ``+`` only as a whole segment
(exactly one segment); a final ``+*`` segment is one segment followed by
anything. The text before a final ``*`` is a prefix, so its last partial
segment is kept verbatim (``secret/.*`` means "names starting with a dot",
not ``secret/*``).
"""

from __future__ import annotations

import unicodedata

from strongroom.errors import InvalidRequest

#: Unicode categories refused anywhere in a path: controls (Cc, including NUL),
#: invisible format characters (Cf) and lone surrogates (Cs, not encodable).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def _check_characters(text: str, what: str) -> None:
    # Fast path: printable ASCII is by far the common case.
    if text.isascii() and text.isprintable():
        return
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidRequest(f"invalid {what}: control and invisible characters are not allowed")


def _canonical_segments(segments: list[str], what: str) -> list[str]:
    """Drop empty and '.' segments, refuse '..'."""
    kept: list[str] = []
    for segment in segments:
        if segment in ("", "."):
            continue
        if segment == "..":
            raise InvalidRequest(f"invalid {what}: '..' segments are not allowed")
        kept.append(segment)
    return kept


def canonical_request_path(raw: str) -> str:
    """The one canonical spelling of a request path (see the module docstring).

    ``raw`` is the URL path after exactly one percent-decode, without the
    ``/v1/`` prefix. Raises :class:`InvalidRequest` for ``..`` segments and
    refused characters; the message never echoes the path. Idempotent:
    ``canonical_request_path(canonical_request_path(p)) == canonical_request_path(p)``.
    """
    if raw.isascii() and raw.isprintable() and "//" not in raw and "/." not in raw and raw[:1] not in ("/", "."):
        # Already canonical (the common case): printable ASCII, no empty segment and no
        # segment starting with '.', so none is '', '.' or '..'. The slow path below would
        # return ``raw`` unchanged.
        return raw
    _check_characters(raw, "path")
    path = "/".join(_canonical_segments(raw.split("/"), "path"))
    if path and raw.endswith("/"):
        path += "/"
    return path


def is_canonical_request_path(path: str) -> bool:
    """True when ``path`` is already canonical (refused spellings are not)."""
    try:
        return canonical_request_path(path) == path
    except InvalidRequest:
        return False


def canonical_policy_path(pattern: str) -> str:
    """The canonical spelling of a policy path pattern (see the module docstring).

    Raises :class:`InvalidRequest` for an empty pattern, ``..`` segments,
    refused characters, a ``*`` anywhere but at the end, a ``+`` that is not a
    whole segment, and template markers (``{{ }}``): a templated path is checked by
    :mod:`strongroom.core.policy.templates` and comes here only once filled.
    """
    _check_characters(pattern, "policy path")
    if "{{" in pattern or "}}" in pattern:
        raise InvalidRequest("invalid policy path: template markers are not allowed here")
    glob = pattern.endswith("*")
    body = pattern[:-1] if glob else pattern
    if "*" in body:
        raise InvalidRequest("invalid policy path: '*' is only allowed as the last character")
    segments = body.split("/")
    # The last piece of a glob's body is a prefix of a segment, not a segment:
    # keep it verbatim so '.' or '' there keeps its meaning.
    fragment = segments.pop() if glob else None
    kept = _canonical_segments(segments, "policy path")
    pieces = [*kept, fragment] if fragment is not None else kept
    for piece in pieces:
        if "+" in piece and piece != "+":
            raise InvalidRequest("invalid policy path: '+' must be a whole path segment")
    canonical = "/".join(pieces)
    if glob:
        return canonical + "*"
    if not canonical:
        raise InvalidRequest("invalid policy path: the path is empty")
    if body.endswith("/"):
        canonical += "/"
    return canonical
