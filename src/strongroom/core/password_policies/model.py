"""Password policy text (HCL or JSON, as Vault accepts it) to a validated :class:`PasswordPolicy`.

The syntax Vault documents::

    length = 20
    rule "charset" {
      charset   = "abcdefghijklmnopqrstuvwxyz"
      min-chars = 1
    }

JSON carries the same tree: ``{"length": 20, "rule": [{"charset": {"charset": "...", "min-chars": 1}}]}``
(``rule`` may also be a single object).

Validation is strict because a policy is only useful if every later generation
succeeds: a key that appears twice, an unknown key or rule type, a length outside
``MIN_LENGTH..MAX_LENGTH``, an empty charset, a non-printable character, a negative
``min-chars`` or ``min-chars`` that add up to more than ``length`` are all refused
with :class:`InvalidRequest`. Error messages name keys and numbers, never charset
contents (a charset is not secret, but messages stay short and predictable).
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.core.policy.syntax import Block, Entry, Value, parse_document, where
from strongroom.errors import InvalidRequest

#: Vault's documented lower bound for ``length``.
MIN_LENGTH = 4
#: Vault documents no upper bound; ours bounds the work one generation can cost.
MAX_LENGTH = 1024
#: Distinct characters over all rules; bounds the size of a policy's tables.
MAX_ALPHABET = 4096
#: More rules than this is a typo or an attack, never a real policy.
MAX_RULES = 32


@dataclass(frozen=True, slots=True)
class CharsetRule:
    """At least ``min_chars`` characters of the password come from ``charset`` (deduplicated, in order)."""

    charset: str
    min_chars: int


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """A validated policy: passwords are ``length`` characters drawn from the union of the rules' charsets."""

    length: int
    rules: tuple[CharsetRule, ...]

    @property
    def alphabet(self) -> str:
        """Every character any rule allows, each once, in order of first appearance."""
        return "".join(dict.fromkeys("".join(rule.charset for rule in self.rules)))

    def admits(self, password: str) -> bool:
        """True when ``password`` has the policy's length, only its characters and every rule's minimum."""
        alphabet = set(self.alphabet)
        return (
            len(password) == self.length
            and all(ch in alphabet for ch in password)
            and all(sum(ch in rule.charset for ch in password) >= rule.min_chars for rule in self.rules)
        )


#: What Vault generates when no policy is named: 20 characters of ``[a-zA-Z0-9-]``
#: with at least one lower-case letter, one upper-case letter, one digit and one dash.
DEFAULT_POLICY_TEXT = """length = 20
rule "charset" {
  charset   = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}
rule "charset" {
  charset   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  min-chars = 1
}
rule "charset" {
  charset   = "0123456789"
  min-chars = 1
}
rule "charset" {
  charset   = "-"
  min-chars = 1
}
"""


def _fail(line: int, message: str) -> InvalidRequest:
    return InvalidRequest(f"invalid password policy: {where(line)}{message}")


def _integer(value: Value, key: str, line: int) -> int:
    # bool is an int subclass in Python; `length = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(line, f"{key!r} must be a whole number")
    return value


def _blocks(value: Value, what: str, line: int) -> list[Block]:
    """A block, or a list of blocks (JSON's way of repeating one)."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, Block) for item in items):
        raise _fail(line, f"{what} must be a block")
    return [item for item in items if isinstance(item, Block)]


def _once(entries: tuple[Entry, ...], allowed: set[str], where_: str) -> dict[str, Entry]:
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.key not in allowed:
            raise _fail(entry.line, f"unknown key {entry.key!r} in {where_}")
        if entry.key in seen:
            raise _fail(entry.line, f"{entry.key!r} appears more than once in {where_}")
        seen[entry.key] = entry
    return seen


def _charset_rule(block: Block) -> CharsetRule:
    keys = _once(block.entries, {"charset", "min-chars"}, "a charset rule")
    if "charset" not in keys:
        raise _fail(block.line, "a charset rule needs 'charset'")
    raw = keys["charset"].value
    if not isinstance(raw, str):
        raise _fail(keys["charset"].line, "'charset' must be a string")
    charset = "".join(dict.fromkeys(raw))
    if not charset:
        raise _fail(keys["charset"].line, "'charset' must not be empty")
    if not charset.isprintable():
        raise _fail(keys["charset"].line, "'charset' may hold printable characters only")
    min_chars = 0
    if "min-chars" in keys:
        min_chars = _integer(keys["min-chars"].value, "min-chars", keys["min-chars"].line)
        if min_chars < 0:
            raise _fail(keys["min-chars"].line, "'min-chars' must not be negative")
    return CharsetRule(charset=charset, min_chars=min_chars)


def _rules(entry: Entry) -> list[CharsetRule]:
    rules: list[CharsetRule] = []
    for block in _blocks(entry.value, "'rule'", entry.line):
        for typed in block.entries:
            if typed.key != "charset":
                raise _fail(typed.line, f"unknown rule type {typed.key!r}; only 'charset' is supported")
            rules.extend(_charset_rule(body) for body in _blocks(typed.value, "a charset rule", typed.line))
    return rules


def parse_password_policy(text: str) -> PasswordPolicy:
    """Parse and validate policy text; raise :class:`InvalidRequest` naming the first problem.

    Validity here is structural; whether the rules can be met together (overlapping
    charsets) is decided exactly by :class:`~.generator.PasswordSampler`, which the
    store builds before it stores anything.
    """
    if not text.strip():
        raise _fail(0, "the policy text is empty")
    tree = parse_document(text)
    length: int | None = None
    rules: list[CharsetRule] = []
    seen_length = False
    for entry in tree.entries:
        if entry.key == "length":
            if seen_length:
                raise _fail(entry.line, "'length' appears more than once")
            seen_length = True
            length = _integer(entry.value, "length", entry.line)
        elif entry.key == "rule":
            rules.extend(_rules(entry))
        else:
            raise _fail(entry.line, f"unknown key {entry.key!r}; expected 'length' and 'rule' blocks")
        if len(rules) > MAX_RULES:
            raise _fail(entry.line, f"a policy may have at most {MAX_RULES} rules")
    if length is None:
        raise _fail(0, "'length' is required")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise _fail(0, f"'length' must be between {MIN_LENGTH} and {MAX_LENGTH}")
    if not rules:
        raise _fail(0, "at least one charset rule is required")
    policy = PasswordPolicy(length=length, rules=tuple(rules))
    if len(policy.alphabet) > MAX_ALPHABET:
        raise _fail(0, f"the charsets may hold at most {MAX_ALPHABET} distinct characters")
    required = sum(rule.min_chars for rule in rules)
    if required > length:
        raise _fail(0, f"the rules require at least {required} characters but 'length' is {length}")
    return policy


DEFAULT_POLICY = parse_password_policy(DEFAULT_POLICY_TEXT)
