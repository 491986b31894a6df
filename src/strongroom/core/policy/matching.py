"""Does a canonical policy pattern match a canonical request path, and how specific is it?

Pattern kinds (patterns come from :func:`canonical_policy_path`):

* exact: no ``+`` segment and no trailing ``*``; matches only the identical path.
* glob: ends in ``*``; the text before it is a prefix of the path, except that
  ``+`` segments in it match exactly one (non-empty) segment. A final ``+*``
  matches one segment and then anything.
* segment wildcard: ``+`` segments and no trailing ``*``; the path has exactly
  as many segments, literal segments equal, each ``+`` matching one non-empty
  segment. (The empty piece after a path's trailing '/' is not a segment, so
  ``secret/+`` does not match ``secret/``; ``secret/+/`` matches ``secret/a/``.)

When several non-exact patterns match, the most specific wins. Vault's order,
from most to least significant (each "higher" is more specific):

1. position of the first wildcard (``+``) or glob (``*``): later is more specific;
2. not ending in ``*`` beats ending in ``*``;
3. fewer ``+`` segments;
4. longer pattern (without the final ``*``);
5. lexically greater pattern (an arbitrary but stable tie-break).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled policy pattern. Build with :meth:`compile`."""

    text: str
    exact: bool
    glob: bool
    segments: tuple[str, ...]
    #: Sort key; a greater key is a more specific pattern (see the module docstring).
    priority: tuple[int, int, int, int, str]

    @classmethod
    def compile(cls, canonical: str) -> Pattern:
        glob = canonical.endswith("*")
        body = canonical[:-1] if glob else canonical
        segments = tuple(body.split("/"))
        wildcards = sum(1 for segment in segments if segment == "+")
        # '+' only ever appears as a whole segment, so its first index is the first wildcard.
        first = body.find("+") if wildcards else len(body)
        return cls(
            text=canonical,
            exact=not glob and not wildcards,
            glob=glob,
            segments=segments,
            priority=(first, 0 if glob else 1, -wildcards, len(body), body),
        )

    def matches(self, path: str) -> bool:
        """True when this pattern covers ``path`` (both canonical)."""
        if self.exact:
            return path == self.text
        parts = path.split("/")
        segments = self.segments
        if len(parts) < len(segments) or (not self.glob and len(parts) != len(segments)):
            return False
        last = len(segments) - 1
        for index, segment in enumerate(segments):
            part = parts[index]
            if segment == "+":
                if not part:
                    return False
            elif self.glob and index == last:
                if not part.startswith(segment):
                    return False
            elif part != segment:
                return False
        return True
