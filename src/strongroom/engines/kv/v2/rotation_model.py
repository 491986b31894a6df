"""KV v2 rotation: the policy attached to a secret, its state and its history (pure data, no I/O).

Stored at ``rotation/<secret path>`` in the mount's storage, next to ``meta/``
and ``ver/``. The state never holds a secret value: the policy's parameters
(generator, key, password policy name, webhook URL), times, version numbers and
short error texts only.

``served_due`` is the fencing token of scheduled runs: the due time of the last
scheduled rotation that wrote a version. It is committed in the same
transaction as that version, so a run repeated for the same due time (the
process died after writing but before the scheduler recorded the run) sees it
and writes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.egress import split_url
from strongroom.sdk.scheduling import Schedule

from ..common import format_time

ROTATION_PREFIX = "rotation/"
#: Attempts kept in a secret's rotation history, newest first.
HISTORY_SIZE = 20

GENERATORS = ("password", "random", "keypair", "webhook")
ENCODINGS = ("base64", "hex")
KEY_BITS = {"rsa": (2048, 3072, 4096), "ec": (256, 384, 521), "ed25519": (0,)}
MAX_RANDOM_BYTES = 1024
#: Field names are the secret's keys: short, printable, and never the public-key companion of another.
MAX_KEY_NAME = 128


@dataclass(frozen=True)
class RotationPolicy:
    """How and when a secret rotates. Only the parameters of ``generator`` are meaningful."""

    generator: str
    key: str = "value"
    interval: int = 0
    cron: str = ""
    password_policy: str = ""
    bytes: int = 32
    encoding: str = "base64"
    key_type: str = "ed25519"
    key_bits: int = 0
    url: str = ""

    @property
    def schedule(self) -> Schedule:
        return Schedule(interval=self.interval, cron=self.cron)

    @property
    def public_key(self) -> str:
        """The field that receives the public half of a key pair."""
        return self.key + "_public"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> RotationPolicy:
        """Validate request fields into a policy: a 400 naming the field (never echoing a value) otherwise."""
        Schedule.parse(interval=int(raw.get("interval") or 0), cron=str(raw.get("cron") or ""))
        generator = str(raw.get("generator") or "")
        if generator not in GENERATORS:
            raise InvalidRequest(f"generator must be one of {', '.join(GENERATORS)}")
        key = str(raw.get("key") or "value")
        if len(key) > MAX_KEY_NAME or not key.isprintable() or key.strip() != key:
            raise InvalidRequest(f"key must be a printable field name of at most {MAX_KEY_NAME} characters")
        policy = cls(generator=generator, key=key, interval=int(raw.get("interval") or 0),
                     cron=str(raw.get("cron") or "").strip())
        if generator == "password":
            return policy.with_params(password_policy=str(raw.get("password_policy") or ""))
        if generator == "random":
            size = int(raw.get("bytes") or 32)
            if not 1 <= size <= MAX_RANDOM_BYTES:
                raise InvalidRequest(f"bytes must be between 1 and {MAX_RANDOM_BYTES}")
            encoding = str(raw.get("encoding") or "base64")
            if encoding not in ENCODINGS:
                raise InvalidRequest(f"encoding must be one of {', '.join(ENCODINGS)}")
            return policy.with_params(bytes=size, encoding=encoding)
        if generator == "keypair":
            key_type = str(raw.get("key_type") or "ed25519")
            if key_type not in KEY_BITS:
                raise InvalidRequest(f"key_type must be one of {', '.join(KEY_BITS)}")
            bits = int(raw.get("key_bits") or KEY_BITS[key_type][0])
            if bits not in KEY_BITS[key_type]:
                allowed = ", ".join(str(b) for b in KEY_BITS[key_type])
                raise InvalidRequest(f"key_bits for {key_type} must be one of {allowed}")
            return policy.with_params(key_type=key_type, key_bits=bits)
        url = str(raw.get("url") or "")
        if not url:
            raise InvalidRequest("url is required for the webhook generator")
        split_url(url)  # scheme, user info, host: checked now; the address is checked on every call
        return policy.with_params(url=url)

    def with_params(self, **params: Any) -> RotationPolicy:
        return RotationPolicy(**{**asdict(self), **params})

    def view(self) -> dict[str, Any]:
        """The policy as ``rotation/<path>`` reads it: the schedule, generator, key and its own parameters."""
        body: dict[str, Any] = {"interval": self.interval, "cron": self.cron, "generator": self.generator,
                                "key": self.key}
        if self.generator == "password":
            body["password_policy"] = self.password_policy
        elif self.generator == "random":
            body.update(bytes=self.bytes, encoding=self.encoding)
        elif self.generator == "keypair":
            body.update(key_type=self.key_type, key_bits=self.key_bits, public_key_field=self.public_key)
        else:
            body["url"] = self.url
        return body


@dataclass(frozen=True)
class Attempt:
    """One rotation attempt in the history. ``error`` is a short reason that never holds a secret value."""

    at_ns: int
    trigger: str  # "scheduled" or "manual"
    outcome: str  # "success" or "failure"
    version: int = 0
    error: str = ""

    def view(self) -> dict[str, Any]:
        return {"time": format_time(self.at_ns), "trigger": self.trigger, "outcome": self.outcome,
                "version": self.version, "error": self.error}


@dataclass(frozen=True)
class RotationState:
    policy: RotationPolicy
    next_due: float = 0.0
    served_due: float = 0.0
    consecutive_failures: int = 0
    last_success_ns: int = 0
    last_version: int = 0
    history: tuple[Attempt, ...] = field(default_factory=tuple)

    def record(self, attempt: Attempt, **changes: Any) -> RotationState:
        """This state with ``attempt`` first in the (bounded) history and ``changes`` applied."""
        history = (attempt, *self.history)[:HISTORY_SIZE]
        if attempt.outcome == "success":
            changes = {"consecutive_failures": 0, "last_success_ns": attempt.at_ns,
                       "last_version": attempt.version, **changes}
        else:
            changes = {"consecutive_failures": self.consecutive_failures + 1, **changes}
        return RotationState(**{**self._fields(), "history": history, **changes})

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def view(self) -> dict[str, Any]:
        return {
            **self.policy.view(),
            "next_rotation": format_time(int(self.next_due * 1_000_000) * 1000) if self.next_due else "",
            "last_rotation": format_time(self.last_success_ns) if self.last_success_ns else "",
            "last_version": self.last_version,
            "consecutive_failures": self.consecutive_failures,
            "history": [attempt.view() for attempt in self.history],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": asdict(self.policy),
            "next_due": self.next_due,
            "served_due": self.served_due,
            "consecutive_failures": self.consecutive_failures,
            "last_success_ns": self.last_success_ns,
            "last_version": self.last_version,
            "history": [asdict(attempt) for attempt in self.history],
        }

    @classmethod
    def from_json(cls, raw: Any) -> RotationState:
        try:
            return cls(
                policy=RotationPolicy(**raw["policy"]),
                next_due=float(raw["next_due"]),
                served_due=float(raw["served_due"]),
                consecutive_failures=int(raw["consecutive_failures"]),
                last_success_ns=int(raw["last_success_ns"]),
                last_version=int(raw["last_version"]),
                history=tuple(Attempt(**item) for item in raw["history"]),
            )
        except (KeyError, TypeError, ValueError):
            raise InternalError("a kv rotation entry is malformed") from None
