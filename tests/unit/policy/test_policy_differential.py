"""Differential test: the ACL engine against a tiny, obviously-correct reference matcher.

Hypothesis generates small policies (patterns from a few segments, ``+``,
trailing ``*``, trailing '/'; capability sets including deny) and raw request
paths full of spelling tricks (``//``, ``.``, ``..``, trailing slashes,
percent-encodings that must stay text, Unicode look-alikes, zero-width
characters). Each raw path is canonicalised once, as the core does; the
engine must never grant what the reference does not (and, since both follow
the same documented rules, they must agree exactly).

The reference shares no matching code with the engine: patterns become
regular expressions, candidates are found by brute force, and the most
specific one is chosen with a sort key computed straight from the pattern text.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.canonical import canonical_request_path
from strongroom.core.policy.parser import parse_policy
from strongroom.core.policy.templates import TemplateIdentity
from strongroom.errors import InvalidRequest

OPERATIONS = {
    "create": "create",
    "read": "read",
    "update": "update",
    "patch": "patch",
    "delete": "delete",
    "list": "list",
    "scan": "list",
}

# --- the reference ------------------------------------------------------------------------


def ref_regex(pattern: str) -> re.Pattern[str]:
    glob = pattern.endswith("*")
    body = pattern[:-1] if glob else pattern
    pieces = ["[^/]+" if piece == "+" else re.escape(piece) for piece in body.split("/")]
    return re.compile("/".join(pieces) + (".*" if glob else ""), re.DOTALL)


def ref_is_exact(pattern: str) -> bool:
    return not pattern.endswith("*") and "+" not in pattern.split("/")


def ref_specificity(pattern: str) -> tuple[int, bool, int, int, str]:
    """Greater is more specific: later first wildcard, not a glob, fewer '+', longer, lexically greater."""
    first = min(i for i, char in enumerate(pattern) if char in "+*")
    body = pattern.removesuffix("*")
    plus_segments = sum(1 for piece in body.split("/") if piece == "+")
    return (first, not pattern.endswith("*"), -plus_segments, len(body), body)


def ref_capabilities(policies: list[dict[str, set[str]]], path: str, listing: bool) -> set[str] | None:
    """The deciding rule's capabilities for ``path`` (None when nothing matches)."""
    merged: dict[str, set[str]] = {}
    for policy in policies:
        for pattern, capabilities in policy.items():
            merged.setdefault(pattern, set()).update(capabilities)
    for capabilities in merged.values():
        if "deny" in capabilities:
            capabilities.intersection_update({"deny"})
    spellings = [path]
    if listing and path.endswith("/"):
        spellings.append(path[:-1])
    for spelling in spellings:
        if spelling in merged and ref_is_exact(spelling):
            return merged[spelling]
    candidates = [
        pattern
        for pattern in merged
        if not ref_is_exact(pattern) and any(ref_regex(pattern).fullmatch(s) for s in spellings)
    ]
    if not candidates:
        return None
    return merged[max(candidates, key=ref_specificity)]


def ref_allows(policies: list[dict[str, set[str]]], operation: str, path: str) -> bool:
    capabilities = ref_capabilities(policies, path, listing=OPERATIONS[operation] == "list")
    return capabilities is not None and "deny" not in capabilities and OPERATIONS[operation] in capabilities


# --- generators ---------------------------------------------------------------------------

SEGMENTS = ["secret", "a", "b", "ab"]
pattern_segment = st.sampled_from([*SEGMENTS, "+"])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    segments = draw(st.lists(pattern_segment, min_size=1, max_size=4))
    ending = draw(st.sampled_from(["", "/", "*", "/*", "partial*"]))
    text = "/".join(segments)
    if ending == "partial*":
        # a glob on a segment prefix, e.g. "secret/a*" (never "+*"'s partner "+a*")
        return text + "*" if segments[-1] != "+" else text + "/a*"
    return text + ending


capability_sets = st.sets(st.sampled_from(["read", "list", "update", "create", "sudo", "deny"]), max_size=3)

RAW_SEGMENTS = [
    *SEGMENTS,
    "+", "*", "", ".", "..", "%2e%2e", "%2F", "a%2Fb",  # percent-encodings arrive decoded once: text here
    "\uff53ecret", "\u0430b", "a\u200b", "\uff41",  # look-alikes and a zero-width space
]


@st.composite
def raw_paths(draw: st.DrawFn) -> str:
    segments = draw(st.lists(st.sampled_from(RAW_SEGMENTS), min_size=1, max_size=5))
    lead = draw(st.sampled_from(["", "/", "//"]))
    tail = draw(st.sampled_from(["", "/", "//", "/."]))
    return lead + "/".join(segments) + tail


@st.composite
def paths_near(draw: st.DrawFn, pattern: str) -> str:
    """A raw path built from a pattern, so that matches (and near misses) are common."""
    glob = pattern.endswith("*")
    pieces = pattern.removesuffix("*").split("/")
    filled = [draw(st.sampled_from([*SEGMENTS, "", "."])) if piece == "+" else piece for piece in pieces]
    text = "/".join(filled)
    if glob:
        text += draw(st.sampled_from(["", "x", "/x", "b/c", "/", "+/a"]))
    trick = draw(st.sampled_from(["", "lead", "double", "dot", "strip-slash", "add-slash", "extend", "cut"]))
    if trick == "lead":
        text = "/" + text
    elif trick == "double":
        text = text.replace("/", "//", 1)
    elif trick == "dot":
        text = text.replace("/", "/./", 1)
    elif trick == "strip-slash":
        text = text.rstrip("/")
    elif trick == "add-slash":
        text += "/"
    elif trick == "extend":
        text += "b"
    elif trick == "cut":
        text = text[:-1]
    return text


def policy_text(rules: dict[str, set[str]]) -> str:
    stanzas = []
    for pattern, capabilities in rules.items():
        listed = ", ".join(f'"{capability}"' for capability in sorted(capabilities))
        stanzas.append(f'path "{pattern}" {{ capabilities = [{listed}] }}\n')
    return "".join(stanzas)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, set[str]]], list[str]]:
    # A small shared pool of patterns makes the same pattern recur across policies (merging).
    pool = draw(st.lists(patterns(), min_size=1, max_size=4, unique=True))
    policy_maps = st.dictionaries(st.sampled_from(pool), capability_sets, min_size=1, max_size=3)
    policies = draw(st.lists(policy_maps, min_size=1, max_size=3))
    path_strategy = st.one_of(raw_paths(), st.sampled_from(pool).flatmap(paths_near))
    raws = draw(st.lists(path_strategy, min_size=1, max_size=5))
    return policies, raws


# --- the property -------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_engine_never_grants_what_the_reference_matcher_does_not(
    scenario: tuple[list[dict[str, set[str]]], list[str]],
) -> None:
    policies, raws = scenario
    acl = ACL.from_policies(parse_policy(f"p{i}", policy_text(rules)) for i, rules in enumerate(policies))
    for raw in raws:
        try:
            path = canonical_request_path(raw)
        except InvalidRequest:
            # Refusal is only for '..' segments and invisible/control characters.
            assert ".." in raw.split("/") or "\u200b" in raw
            for operation in OPERATIONS:
                assert not acl.authorize(operation, raw, {}).allowed
            continue
        bare = path.rstrip("/")
        spellings = {path, bare, bare + "/"} if bare else {path}  # with and without the trailing '/'
        for operation in OPERATIONS:
            for candidate in sorted(spellings):
                granted = acl.authorize(operation, candidate, {}).allowed
                expected = ref_allows(policies, operation, candidate)
                assert not (granted and not expected), f"over-grant: {operation} {candidate!r}"
                assert granted == expected, f"disagreement: {operation} {candidate!r}"
            if raw != path:
                # The raw spelling is never judged as if it were canonical.
                assert not acl.authorize(operation, raw, {}).allowed
        reference = ref_capabilities(policies, path, listing=True)
        if reference is None or "deny" in reference or not reference:
            assert acl.capabilities(path) == ["deny"]
        else:
            assert acl.capabilities(path) == sorted(reference)


# --- templated paths ------------------------------------------------------------------------
#
# A template segment stands for the caller's value as literal text. The reference's rule for
# values, written plainly: a value is used only if it is non-empty, not '.' or '..', holds no
# '/', '*', '+', '{', '}', no '..' and no control or invisible character; otherwise the rule
# is absent for that caller. The engine must never grant more than that reading.

TEMPLATE = "{{identity.entity.metadata.v}}"
HOSTILE_VALUES = [
    "a", "b", "ab", "secret", ".x", "a b", "\u0430b",  # usable values
    "", ".", "..", "a/b", "/", "*", "a*", "+", "+/a", "a/..", "../a", "{{x}}", "a\u200b", "a\x00", "x..y", "a/+",
]


def ref_value_ok(value: str) -> bool:
    if value in ("", ".", "..") or ".." in value or any(char in value for char in "/*+{}"):
        return False
    return all(unicodedata.category(char) not in ("Cc", "Cf", "Cs") for char in value)


def ref_fill(policies: list[dict[str, set[str]]], value: str) -> list[dict[str, set[str]]]:
    filled = []
    for policy in policies:
        rules: dict[str, set[str]] = {}
        for written, capabilities in policy.items():
            if TEMPLATE in written and not ref_value_ok(value):
                continue
            rules.setdefault(written.replace(TEMPLATE, value), set()).update(capabilities)
        filled.append(rules)
    return filled


@st.composite
def templated_patterns(draw: st.DrawFn) -> str:
    segments = draw(st.lists(st.sampled_from([*SEGMENTS, "+", TEMPLATE]), min_size=1, max_size=4))
    if TEMPLATE not in segments:
        segments[draw(st.integers(0, len(segments) - 1))] = TEMPLATE
    return "/".join(segments) + draw(st.sampled_from(["", "/", "*", "/*"]))


@st.composite
def templated_scenarios(draw: st.DrawFn) -> tuple[list[dict[str, set[str]]], str, list[str]]:
    pool = draw(st.lists(st.one_of(patterns(), templated_patterns()), min_size=1, max_size=4, unique=True))
    policy_maps = st.dictionaries(st.sampled_from(pool), capability_sets, min_size=1, max_size=3)
    policies = draw(st.lists(policy_maps, min_size=1, max_size=3))
    value = draw(st.sampled_from(HOSTILE_VALUES))
    # Paths built around the pattern with the value spelled in, so hostile values get their chance.
    near = st.sampled_from(pool).map(lambda p: p.replace(TEMPLATE, value)).flatmap(paths_near)
    raws = draw(st.lists(st.one_of(raw_paths(), near), min_size=1, max_size=5))
    return policies, value, raws


@settings(max_examples=400, deadline=None)
@given(templated_scenarios())
def test_template_values_never_make_the_engine_grant_more_than_the_reference(
    scenario: tuple[list[dict[str, set[str]]], str, list[str]],
) -> None:
    policies, value, raws = scenario
    identity = TemplateIdentity(entity_id="e", entity_name="n", metadata=(("v", value),))
    acl = ACL.from_policies(
        (parse_policy(f"p{i}", policy_text(rules)) for i, rules in enumerate(policies)), identity
    )
    reference = ref_fill(policies, value)
    for raw in raws:
        try:
            path = canonical_request_path(raw)
        except InvalidRequest:
            continue
        bare = path.rstrip("/")
        for candidate in sorted({path, bare, bare + "/"} if bare else {path}):
            for operation in OPERATIONS:
                granted = acl.authorize(operation, candidate, {}).allowed
                expected = ref_allows(reference, operation, candidate)
                assert not (granted and not expected), f"over-grant: {operation} {candidate!r} value={value!r}"
                assert granted == expected, f"disagreement: {operation} {candidate!r} value={value!r}"
