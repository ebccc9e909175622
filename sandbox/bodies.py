"""Reading and checking the JSON bodies of the systems' write routes.

Every problem is an ``InvalidRequest`` (422) whose detail names the field, so a caller (and the gateway's
``UpstreamRejected``) can say exactly what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request

from sandbox.common import MAX_IDS, InvalidRequest

# Room for a 10 MiB document in base64 (4/3 of it) plus the other fields.
MAX_BODY_BYTES = 16 * 1024 * 1024
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
E164 = re.compile(r"^\+[0-9]{8,15}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


async def json_body(request: Request) -> Any:
    """The request body decoded as JSON (``None`` for an empty body); undecodable is 422, over 16 MiB 413."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"body: at most {MAX_BODY_BYTES} bytes", status=413)
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:  # invalid UTF-8 and nesting past 1,024 levels too
        raise InvalidRequest("body must be JSON") from None


class Body:
    """A JSON object being checked: unknown or missing fields are refused up front, then field by field.

    ``where`` prefixes field names in details (``receipt.number``) for nested objects.
    """

    def __init__(
        self, data: object, *, required: Collection[str], optional: Collection[str] = (), where: str = ""
    ) -> None:
        name = where.rstrip(".") or "body"
        if not isinstance(data, dict):
            raise InvalidRequest(f"{name} must be a JSON object")
        unknown = sorted(set(data) - set(required) - set(optional))
        if unknown:
            raise InvalidRequest(f"{name}: unknown field(s): {', '.join(where + u for u in unknown)}")
        missing = [field for field in required if field not in data]
        if missing:
            raise InvalidRequest(f"{name}: missing field(s): {', '.join(where + m for m in missing)}")
        self.data: dict[str, Any] = data
        self.where = where

    def has(self, name: str) -> bool:
        """Whether the field is present and not null."""
        return self.data.get(name) is not None

    def text(
        self,
        name: str,
        *,
        max_length: int,
        pattern: re.Pattern[str] | None = None,
        expected: str = "a valid value",
    ) -> str:
        """A non-blank string of at most ``max_length`` characters, matching ``pattern`` (``expected``)."""
        value = self.data.get(name)
        label = self.where + name
        if not isinstance(value, str):
            raise InvalidRequest(f"{label}: must be a string")
        if not value.strip():
            raise InvalidRequest(f"{label}: must not be empty")
        if len(value) > max_length:
            raise InvalidRequest(f"{label}: at most {max_length} characters, got {len(value)}")
        if pattern is not None and not pattern.match(value):
            raise InvalidRequest(f"{label}: expected {expected}")
        return value

    def optional_text(self, name: str, *, max_length: int) -> str | None:
        """Like ``text``, but absent or null gives ``None``."""
        return self.text(name, max_length=max_length) if self.has(name) else None

    def choice(self, name: str, allowed: Sequence[str]) -> str:
        """One of ``allowed``."""
        value = self.data.get(name)
        if value not in allowed:
            raise InvalidRequest(f"{self.where}{name}: unknown value; one of {', '.join(allowed)}")
        assert isinstance(value, str)
        return value

    def ids(self, name: str) -> list[str]:
        """A non-empty list of distinct id strings (at most 500)."""
        value = self.data.get(name)
        label = self.where + name
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InvalidRequest(f"{label}: must be a list of ids")
        if not value:
            raise InvalidRequest(f"{label}: must not be empty")
        if len(value) > MAX_IDS:
            raise InvalidRequest(f"{label}: at most {MAX_IDS} ids")
        if len(set(value)) != len(value):
            raise InvalidRequest(f"{label}: an id is repeated")
        return value

    def instant(self, name: str) -> datetime:
        """An ISO 8601 date-time; one without an offset is taken as UTC."""
        value = self.data.get(name)
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidRequest(f"{self.where}{name}: not an ISO 8601 date-time")
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

    def nested(self, name: str, *, required: Collection[str], optional: Collection[str] = ()) -> Body:
        """The JSON object in field ``name``, checked the same way."""
        return Body(self.data.get(name), required=required, optional=optional, where=f"{self.where}{name}.")


async def read_body(request: Request, *, required: Collection[str], optional: Collection[str] = ()) -> Body:
    """The request's JSON object body, with unknown and missing fields refused."""
    return Body(await json_body(request), required=required, optional=optional)


async def no_body(request: Request) -> None:
    """Refuse a body on an action that takes none (an empty body or ``{}`` is fine)."""
    data = await json_body(request)
    if data not in (None, {}):
        raise InvalidRequest("this action takes no body")
