"""Readable API documentation at /api/docs, rendered on the server from the OpenAPI document.

Served by us rather than a JavaScript viewer from a CDN: it works without JavaScript, under the
strict CSP, and on a machine with no internet access. The document's own words are English; the
page marks them as such and translates everything around them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from madoguchi.core.i18n import _
from madoguchi.core.templating import render

router = APIRouter(include_in_schema=False)

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"
_CODE = re.compile(r"`([^`]+)`")
_JAPANESE = re.compile(r"([\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+)")

Spec = dict[str, Any]


@dataclass(frozen=True)
class Run:
    """A piece of prose: plain English, `code`, or Japanese inside English (its own lang)."""

    text: str
    code: bool = False
    japanese: bool = False


@dataclass(frozen=True)
class TypeName:
    label: str
    schema: str | None = None  # the component schema it links to


@dataclass(frozen=True)
class Field:
    name: str
    types: list[TypeName]
    required: bool
    description: str
    location: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    status: str
    description: str
    types: list[TypeName]


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field]
    replies: list[Reply]


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    fields: list[Field]
    values: list[str]  # an enumeration's values


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    html = render(
        "api_docs.html",
        request=request,
        info=spec["info"],
        groups=grouped_operations(spec),
        schemas=list(_schemas(spec)),
        runs=runs,
    )
    return HTMLResponse(html)


def runs(text: str | None) -> list[Run]:
    found: list[Run] = []
    for index, part in enumerate(_CODE.split(text or "")):
        if index % 2:
            found.append(Run(part, code=True))
            continue
        pieces = _JAPANESE.split(part)
        found.extend(Run(p, japanese=bool(i % 2)) for i, p in enumerate(pieces) if p)
    return found


def grouped_operations(spec: Spec) -> dict[str, list[Operation]]:
    groups: dict[str, list[Operation]] = {}
    for operation, tag in _operations(spec):
        groups.setdefault(tag, []).append(operation)
    return groups


def _operations(spec: Spec) -> Iterator[tuple[Operation, str]]:
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                yield _operation(method, path, operation), (operation.get("tags") or ["api"])[0]


def _operation(method: str, path: str, operation: Spec) -> Operation:
    return Operation(
        anchor=operation.get("operationId") or f"{method}-{path}",
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=operation.get("description", ""),
        parameters=[_parameter(p) for p in operation.get("parameters", [])],
        replies=[_reply(status, r) for status, r in operation.get("responses", {}).items()],
    )


def _parameter(parameter: Spec) -> Field:
    schema = parameter.get("schema", {})
    return Field(
        name=parameter["name"],
        types=type_names(schema),
        required=bool(parameter.get("required")),
        description=parameter.get("description") or schema.get("description", ""),
        location=parameter.get("in", ""),
        notes=tuple(constraints(schema)),
    )


def _reply(status: str, response: Spec) -> Reply:
    media: Spec | None = next(iter(response.get("content", {}).values()), None)
    schema = media.get("schema") if media else None
    return Reply(status, response.get("description", ""), type_names(schema) if schema else [])


def _schemas(spec: Spec) -> Iterator[Schema]:
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [
            Field(
                name=field,
                types=type_names(prop),
                required=field in required,
                description=prop.get("description", ""),
                notes=tuple(constraints(prop)),
            )
            for field, prop in schema.get("properties", {}).items()
        ]
        values = [str(v) for v in schema.get("enum", [])]
        yield Schema(name, schema.get("description", ""), fields, values)


def type_names(schema: Spec) -> list[TypeName]:
    """A schema's type as names: TenantKind, string, null, BodyRef[] (an array of BodyRef)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF_PREFIX)
        return [TypeName(name, name)]
    if "anyOf" in schema:
        return [name for option in schema["anyOf"] for name in type_names(option)]
    if schema.get("type") == "array":
        return [TypeName(t.label + "[]", t.schema) for t in type_names(schema.get("items", {}))]
    return [TypeName(str(schema.get("type", "any")))]


def constraints(schema: Spec) -> Iterator[str]:
    limits = [schema, *schema.get("anyOf", [])]
    for part in limits:
        if "minimum" in part:
            yield _("at least {value}", value=part["minimum"])
        if "maximum" in part:
            yield _("at most {value}", value=part["maximum"])
        if "maxLength" in part:
            yield _("up to {value} characters", value=part["maxLength"])
        if "pattern" in part:
            yield _("matching {value}", value=part["pattern"])
    if "default" in schema:
        yield _("default {value}", value=json.dumps(schema["default"], ensure_ascii=False))
    if schema.get("examples"):
        yield _("example {value}", value=json.dumps(schema["examples"][0], ensure_ascii=False))
