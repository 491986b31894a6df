"""Paths declared as data, and a backend base class that dispatches on them.

A backend lists :class:`Path` objects: an anchored regex (named groups become
fields), a field schema, and a handler per operation. The framework finds the
first matching path, answers 405 for operations the path does not declare,
validates fields before calling the handler, and decides create-vs-update
with the path's existence check.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from strongroom.errors import NotFound, UnsupportedOperation
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.logical import LogicalBackend, Operation, Request, Response

Handler = Callable[[Request, FieldData], Awaitable[Response | None]]
ExistenceCheck = Callable[[Request, FieldData], Awaitable[bool]]


@dataclass(frozen=True)
class Path:
    pattern: str
    operations: Mapping[Operation, Handler]
    fields: Mapping[str, Field] = field(default_factory=dict)
    existence: ExistenceCheck | None = None
    help: str = ""
    #: When True the handler receives all request data (unknown keys allowed), e.g. KV v1.
    raw_data: bool = False

    def compiled(self) -> re.Pattern[str]:
        return re.compile("^" + self.pattern + "$")


class FrameworkBackend(LogicalBackend):
    """Dispatches requests to declared paths. Subclasses implement :meth:`paths`."""

    _compiled: list[tuple[re.Pattern[str], Path]] | None = None

    @abc.abstractmethod
    def paths(self) -> Sequence[Path]:
        """The backend's paths, most specific first (the first match wins)."""

    def _table(self) -> list[tuple[re.Pattern[str], Path]]:
        if self._compiled is None:
            self._compiled = [(p.compiled(), p) for p in self.paths()]
        return self._compiled

    def _match(self, path: str) -> tuple[Path, dict[str, str]]:
        for regex, spec in self._table():
            m = regex.match(path)
            if m:
                return spec, {k: v for k, v in m.groupdict().items() if v is not None}
        raise NotFound(f"unsupported path: {path!r}" if path else "unsupported path")

    def _field_data(self, spec: Path, captures: dict[str, str], req: Request) -> FieldData:
        schema = dict(spec.fields)
        for name in captures:
            schema.setdefault(name, Field(FieldType.STRING))
        raw = dict(req.data)
        raw.update(captures)  # path captures win over body keys of the same name
        return FieldData(schema, raw)

    async def existence(self, req: Request) -> bool | None:
        spec, captures = self._match(req.path)
        if spec.existence is None:
            return None
        return await spec.existence(req, self._field_data(spec, captures, req))

    async def handle(self, req: Request) -> Response | None:
        spec, captures = self._match(req.path)
        handler = spec.operations.get(req.operation)
        if handler is None and req.operation is Operation.CREATE:
            handler = spec.operations.get(Operation.UPDATE)
        if handler is None and req.operation is Operation.UPDATE:
            handler = spec.operations.get(Operation.CREATE)
        if handler is None:
            raise UnsupportedOperation()
        data = self._field_data(spec, captures, req)
        if not spec.raw_data:
            data.validate()
        return await handler(req, data)
