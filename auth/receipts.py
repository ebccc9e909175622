"""Binding receipts (terms 20, 31): what was submitted, when, by whom, for whom, signed by the gateway.

The signature is a compact JWS (ES256) over the receipt's claims, with the gateway's key; the public key is
published at ``/.well-known/jwks.json``, so anyone holding a receipt can verify it without asking us.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, KeySet


def canonical(value: Any) -> str:
    """The one text form a content is hashed in: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


@dataclass(frozen=True)
class SignedReceipt:
    number: str
    content_sha256: str
    signed_at: datetime
    signature: str


class ReceiptSigner:
    """Signs receipts with the gateway's key; ``jwks()`` is what the world verifies them with."""

    def __init__(self, key: ECKey) -> None:
        self.key = key

    @classmethod
    def from_file(cls, path: Path) -> ReceiptSigner:
        """The key kept at ``path`` (a private JWK), made on first use so dev keeps one across restarts."""
        if path.exists():
            return cls(ECKey.import_key(json.loads(path.read_text())))
        key = ECKey.generate_key("P-256", parameters={"kid": "receipts-" + secrets.token_hex(4)})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(key.as_dict(private=True)))
        path.chmod(0o600)
        return cls(key)

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    def sign(
        self, *, content: Any, signed_at: datetime, signer: dict[str, str], client: dict[str, str]
    ) -> SignedReceipt:
        digest = content_sha256(content)
        number = f"KV-{signed_at:%Y%m%d}-{digest[:10].upper()}"
        claims = {
            "receipt": number,
            "content_sha256": digest,
            "signed_at": signed_at.isoformat(),
            "signer": signer,
            "client": client,
        }
        header = {"alg": "ES256", "kid": self.key.kid, "typ": "receipt+jws"}
        signature = jws.serialize_compact(header, canonical(claims).encode(), self.key)
        return SignedReceipt(number, digest, signed_at, signature)

    def verify(self, signature: str) -> dict[str, Any]:
        """The claims of a receipt signed with this key; raises joserfc's errors otherwise."""
        token = jws.deserialize_compact(signature, self.key, algorithms=["ES256"])
        claims: dict[str, Any] = json.loads(token.payload)
        return claims
