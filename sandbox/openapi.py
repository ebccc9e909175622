"""A small builder for the systems' OpenAPI 3.1 documents.

Record schemas are derived from the record dataclasses' type hints (so a field can never be forgotten), with
the enums and formats the hints cannot say added by hand; paths and parameters are written out per system.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Schema = dict[str, Any]
ERROR_CODES = ("invalid_request", "not_found", "conflict", "unavailable")


def ref(name: str) -> Schema:
    """``{"$ref": "#/components/schemas/<name>"}``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _type_schema(hint: Any) -> Schema:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _type_schema(options[0])
        if "$ref" in inner:
            return {"oneOf": [inner, {"type": "null"}]}
        return {**inner, "type": [inner["type"], "null"]}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(typing.get_args(hint)[0])}
    if isinstance(hint, type) and is_dataclass(hint):
        return ref(hint.__name__.removesuffix("Record"))
    simple: dict[Any, Schema] = {
        str: {"type": "string"},
        int: {"type": "integer"},
        float: {"type": "number"},
        bool: {"type": "boolean"},
        Decimal: {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
        datetime: {"type": "string", "format": "date-time"},
        date: {"type": "string", "format": "date"},
    }
    return dict(simple[hint])


def record_schema(
    cls: type, *, enums: Mapping[str, Sequence[str]] | None = None, description: str | None = None
) -> Schema:
    """The JSON schema of a record dataclass: every field required (nullable ones may be ``null``)."""
    hints = typing.get_type_hints(cls)
    properties: Schema = {}
    for f in fields(cls):
        prop = _type_schema(hints[f.name])
        if enums and f.name in enums:
            prop["enum"] = list(enums[f.name])
        properties[f.name] = prop
    schema: Schema = {
        "type": "object",
        "required": [f.name for f in fields(cls)],
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def ids_param(name: str, description: str, *, required: bool = False) -> Schema:
    """A comma-separated id list parameter (at most 500 ids)."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": f"{description} Comma-separated, at most 500.",
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
    }


def query_param(name: str, schema: Schema, description: str) -> Schema:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def path_id(description: str) -> Schema:
    """The ``{id}`` path parameter."""
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


PAGING_PARAMS = (
    query_param(
        "limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size per owner."
    ),
    query_param(
        "after", {"type": "string"}, "Cursor of the last edge of an earlier page (same owner and filters)."
    ),
)


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Required on every write, scoped to the route. The same key with the same request replays "
    "the first successful answer (header `Idempotent-Replayed: true`); with another request it is 409. "
    "Error answers do not use the key up.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the replay of an earlier answer to the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def body_of(required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None) -> Schema:
    """A request body object: these properties, ``required`` ones required, no others allowed."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
    }


def text(max_length: int, **extra: Any) -> Schema:
    """A non-empty string of at most ``max_length`` characters."""
    return {"type": "string", "minLength": 1, "maxLength": max_length, **extra}


def items_of(name: str) -> Schema:
    """``{"items": [<name>]}``."""
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref(name)}},
    }


def pages_of(name: str) -> Schema:
    """Grouped pages: one group per owner asked for, with total, has_more and cursor edges."""
    edge = {
        "type": "object",
        "required": ["cursor", "node"],
        "properties": {"cursor": {"type": "string"}, "node": ref(name)},
    }
    group = {
        "type": "object",
        "required": ["owner_id", "total", "has_more", "edges"],
        "properties": {
            "owner_id": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "has_more": {"type": "boolean"},
            "edges": {"type": "array", "items": edge},
        },
    }
    return {
        "type": "object",
        "required": ["groups"],
        "properties": {"groups": {"type": "array", "items": group}},
    }


def groups_of(name: str) -> Schema:
    """Unpaged groups by parent: ``{"groups": [{"owner_id", "items"}]}``."""
    group = {
        "type": "object",
        "required": ["owner_id", "items"],
        "properties": {"owner_id": {"type": "string"}, "items": {"type": "array", "items": ref(name)}},
    }
    return {
        "type": "object",
        "required": ["groups"],
        "properties": {"groups": {"type": "array", "items": group}},
    }


class OpenApi:
    """Collects schemas and operations; ``document()`` adds the control routes and the error responses."""

    def __init__(self, title: str, description: str) -> None:
        self.title, self.description = title, description
        self.schemas: dict[str, Schema] = {}
        self.paths: dict[str, dict[str, Schema]] = {}

    def record(self, cls: type, **kwargs: Any) -> None:
        """Add a record's schema under its name without the ``Record`` suffix."""
        self.schemas[cls.__name__.removesuffix("Record")] = record_schema(cls, **kwargs)

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        params: Sequence[Schema] = (),
        ok: Schema | None,
        ok_status: str = "200",
        media_types: Sequence[str] = ("application/json",),
        errors: Sequence[int] = (422, 503),
        body: Schema | None = None,
        idempotent: bool = False,
    ) -> None:
        """Add one operation; ``ok`` is the success body schema (``None`` for an empty answer).

        ``idempotent`` marks a write: it takes the Idempotency-Key header and may answer a replay.
        """
        success: Schema = {"description": "success"}
        if idempotent:
            params = [IDEMPOTENCY_KEY, *params]
            success["headers"] = REPLAYED
        if ok is not None:
            success["content"] = {media_type: {"schema": ok} for media_type in media_types}
        responses: Schema = {ok_status: success}
        for status in errors:
            responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
        op: Schema = {
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
            "summary": summary,
            "parameters": list(params),
            "responses": responses,
        }
        if body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        self.paths.setdefault(path, {})[method.lower()] = op

    def write(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: Schema | None,
        ok: Schema,
        created: bool = False,
        params: Sequence[Schema] = (),
        errors: Sequence[int] = (404, 409, 422, 503),
    ) -> None:
        """Add an idempotent write answering ``ok`` (201 when it ``created`` something, else 200).

        ``body=None`` is an action that takes no body (an empty one or ``{}``).
        """
        self.operation(
            method,
            path,
            summary=summary,
            params=params,
            ok=ok,
            ok_status="201" if created else "200",
            errors=errors,
            body=body,
            idempotent=True,
        )

    def document(self) -> Schema:
        """The complete OpenAPI 3.1 document."""
        self._control_routes()
        error = {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "enum": list(ERROR_CODES)},
                "detail": {"type": "string"},
            },
        }
        texts = {
            404: "not found",
            409: "conflict (an Idempotency-Key reused with another request, or the state forbids it)",
            413: "too large",
            422: "invalid request",
            503: "unavailable (injected fault)",
        }
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": "1.0.0", "description": self.description},
            "paths": self.paths,
            "components": {
                "schemas": {**self.schemas, "Error": error},
                "responses": {
                    f"E{status}": {
                        "description": text,
                        "content": {"application/json": {"schema": ref("Error")}},
                    }
                    for status, text in texts.items()
                },
            },
        }

    def _control_routes(self) -> None:
        stats = {
            "type": "object",
            "required": ["requests", "by_route"],
            "properties": {
                "requests": {"type": "integer"},
                "by_route": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        }
        faults = {
            "type": "object",
            "properties": {
                "latency_ms": {"type": "integer", "minimum": 0},
                "fail_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "down": {"type": "boolean"},
            },
            "additionalProperties": False,
        }
        health = {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}
        self.operation("GET", "/health", summary="Liveness.", ok=health, errors=())
        self.operation(
            "GET", "/_stats", summary="Requests answered since start or reset.", ok=stats, errors=()
        )
        self.operation(
            "POST", "/_stats/reset", summary="Reset the counters.", ok=None, ok_status="204", errors=()
        )
        self.operation("GET", "/_faults", summary="The fault knobs.", ok=faults, errors=())
        self.operation(
            "POST",
            "/_faults",
            summary="Set fault knobs (any subset).",
            ok=None,
            ok_status="204",
            errors=(422,),
            body=faults,
        )
        self.operation("GET", "/openapi.json", summary="This document.", ok={"type": "object"}, errors=())
