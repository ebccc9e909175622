"""Signed, short-lived download links bound to one document and one user (terms 17)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

# What a URL carries as it is (RFC 3986's unreserved characters): ids made only of these need no quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")


def quoted(value: str) -> str:
    """``quote(value, safe="")``, without its cost for the usual id (``D100001``, a UUID), which needs none:
    urllib's quoting takes a few microseconds a call, and an answer carries a link per document."""
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


@dataclass(frozen=True, slots=True)
class LinkClaims:
    document_id: str
    user_id: str
    expires: int


class LinkSigner:
    """HMAC-SHA256 over (document, user, expiry) with the gateway's secret."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        key = hashlib.sha256(b"download-link:" + secret.encode()).digest()
        # keyed once: a copy of it signs a link in two thirds of the time hmac.new takes (an answer signs a
        # link per document)
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self.ttl = ttl_seconds

    def _sig(self, document_id: str, user_id: str, expires: int) -> str:
        mac = self._keyed.copy()
        mac.update(f"{document_id}\n{user_id}\n{expires}".encode())
        return mac.hexdigest()

    def url(self, document_id: str, user_id: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.ttl)
        # The expiry is digits and the signature hex; only the ids need quoting (as urlencode would, at a
        # third of its cost: an answer carries a link per document).
        query = f"u={quoted(user_id)}&exp={expires}&sig={self._sig(document_id, user_id, expires)}"
        return f"/documents/{quoted(document_id)}/download?{query}"

    def verify(self, document_id: str, user_id: str, expires: str, sig: str) -> LinkClaims | None:
        """The claims when the signature matches and the link has not expired; None otherwise."""
        try:
            exp = int(expires)
        except ValueError:
            return None
        if not hmac.compare_digest(self._sig(document_id, user_id, exp), sig) or exp < time.time():
            return None
        return LinkClaims(document_id, user_id, exp)
