"""``batch_input``: many items in one request, each answered on its own, as Vault does.

Without ``batch_input`` the request's own fields form the single item, and an
item error is the request's error (400). With it, each item succeeds or fails
by itself: a failed item becomes ``{"error": "...", "reference": "..."}`` in
``batch_results`` (in input order, each with the caller's ``reference`` echoed),
and the answer is 400 with the results in its body when any item failed. If
some items succeeded and the caller set ``partial_failure_response_code``, that
status is used instead. Only 400-class errors are per item; anything else
fails the whole request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldData, FieldType, coerce
from strongroom.sdk.logical import Response

#: Items one request may carry; far above Vault clients' usual 100-1000, far below what would stall a worker.
MAX_ITEMS = 10_000

Item = Mapping[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[Item]
    is_batch: bool


def read(fd: FieldData, single: Item) -> Batch:
    """The items of a request: ``batch_input`` if present, else ``single`` (the top-level fields)."""
    raw = fd.raw.get("batch_input")
    if raw is None:
        return Batch([single], False)
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise InvalidRequest("failed to parse batch input: batch_input must be a list of objects")
    if not raw:
        raise InvalidRequest("missing batch input to process")
    if len(raw) > MAX_ITEMS:
        raise InvalidRequest(f"batch_input holds more than {MAX_ITEMS} items")
    return Batch(raw, True)


def text(item: Item, name: str) -> str:
    """The string field ``name`` of an item ("" when absent or null); 400 naming the field otherwise."""
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequest(f"invalid value for {name!r}: expected a string")
    return value


def integer(item: Item, name: str, default: int = 0) -> int:
    value = item.get(name)
    if value is None or value == "":
        return default
    result: int = coerce(FieldType.INT, value, name)
    return result


def run(batch: Batch, work: Callable[[Item], Result]) -> list[Result | InvalidRequest]:
    """``work`` on every item; in a batch a 400 becomes that item's result, alone it propagates."""
    results: list[Result | InvalidRequest] = []
    for item in batch.items:
        try:
            text(item, "reference")
            results.append(work(item))
        except InvalidRequest as exc:
            if not batch.is_batch:
                raise
            results.append(exc)
    return results


def respond(
    batch: Batch,
    results: list[Result | InvalidRequest],
    fd: FieldData,
    *,
    failed_item: Mapping[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> Response:
    """The answer for ``results``; ``failed_item`` adds fields to failed items (verify adds ``valid: false``)."""
    notes = list(warnings or [])
    if not batch.is_batch:
        outcome = results[0]
        assert not isinstance(outcome, InvalidRequest)
        return Response(data=outcome, warnings=notes)
    answers: list[Result] = []
    failures = 0
    for item, outcome in zip(batch.items, results, strict=True):
        reference = item.get("reference")
        reference = reference if isinstance(reference, str) else ""
        if isinstance(outcome, InvalidRequest):
            failures += 1
            answers.append({"error": outcome.message, **(failed_item or {}), "reference": reference})
        else:
            answers.append({**outcome, "reference": reference})
    status: int | None = None
    if failures:
        status = 400
        code = _partial_code(fd)
        if code is not None and failures < len(answers):
            if 1 <= code <= 599:
                status = code
            else:
                notes.append("partial_failure_response_code must be between 1 and 599; answering 400")
    return Response(data={"batch_results": answers}, status=status, warnings=notes)


def _partial_code(fd: FieldData) -> int | None:
    raw = fd.raw.get("partial_failure_response_code")
    if raw is None or raw == "":
        return None
    code: int = coerce(FieldType.INT, raw, "partial_failure_response_code")
    return code
