"""What the audit journal (and anything else that keeps what callers sent) must never keep in clear.

Terms 9 and 11: passwords, tokens and other secrets are never written down; personal codes are masked to
their birth-date part, as the graph shows them to anyone but their owner.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

REDACTED = "[redacted]"
_MAX_STRING = 2000  # a longer value is cut: the journal is evidence of what was done, not a data store

# Keys whose values are secrets or personal codes, compared lower-case without "_" and "-".
_SECRET_KEYS = frozenset(
    {
        "password",
        "newpassword",
        "currentpassword",
        "token",
        "assertion",
        "secret",
        "authorization",
        "codeverifier",
        "personalcode",
    }
)
# Variants such as ``accessToken``, ``client_secret`` or ``oldPassword`` are secrets too.
_SECRET_SUFFIXES = ("password", "token", "secret")
# A Latvian personal code: DDMMYY-CNNNN, or (since 2017) 32NNNN-NNNNN. Company registration numbers have
# the same shape but begin with 4, 5 or 9; the first two digits (a day, or 32) tell the two apart, so that
# the client codes of legal persons stay readable in the journal.
_PERSONAL_CODE = re.compile(r"(?<!\d)(\d{6})-?\d{5}(?!\d)")


def mask_codes(text: str) -> str:
    """Every personal code inside ``text`` as ``DDMMYY-*****``."""

    def mask(match: re.Match[str]) -> str:
        head = match.group(1)
        return f"{head}-*****" if int(head[:2]) <= 32 else match.group(0)

    return _PERSONAL_CODE.sub(mask, text)


# An e-mail address: its first character and its domain stay, so a log line still tells whose kind of address.
_EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mask_emails(text: str) -> str:
    """Every e-mail address inside ``text`` as ``j***@example.lv``."""
    return _EMAIL.sub(r"\1***@\2", text)


def mask_pii(text: str) -> str:
    """``text`` for a log: e-mail addresses and personal codes masked (terms 9)."""
    return mask_codes(mask_emails(text))


_MASKING = "_gateway_masks_pii"


def mask_pii_in_logs() -> None:
    """Every log record made in this process from now on carries its message with PII masked (terms 9),
    whichever logger and handler it goes to; once per process, however often it is called."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _MASKING, False):
        return

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        message = record.getMessage()
        cleaned = mask_pii(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    setattr(masked, _MASKING, True)
    logging.setLogRecordFactory(masked)


def is_secret_key(key: str) -> bool:
    norm = key.lower().replace("_", "").replace("-", "")
    return norm in _SECRET_KEYS or norm.endswith(_SECRET_SUFFIXES)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds; a naive value (as SQLite returns them) is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def redact(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with secrets replaced by "[redacted]" and personal codes masked.

    Values of secret keys (passwords, tokens, assertions, personal codes, ...) go entirely, at any depth
    (a flag such as ``mustChangePassword: true`` is no secret and stays); any string that looks like a
    Latvian personal code keeps only its birth-date part (``DDMMYY-*****``).
    """
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED
            if is_secret_key(str(k)) and v is not None and not isinstance(v, bool)
            else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [redact(v) for v in items]
    if isinstance(value, Enum):
        return redact(value.value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or infinity
    if value is None or isinstance(value, bool | int | float):
        return value
    text = mask_codes(str(value))
    return text if len(text) <= _MAX_STRING else text[:_MAX_STRING] + "…[truncated]"
