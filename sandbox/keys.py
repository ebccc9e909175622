"""RS256 signing keys of the sandbox identity broker and partner banks: a current key plus every older one.

Keys are generated on first use, not at construction: building the sandbox happens in nearly every test and
a 2048-bit RSA key costs about 0.1 s, while most tests never sign anything.
"""

from __future__ import annotations

import secrets
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, KeySetSerialization, RSAKey

ALGORITHM = "RS256"


def new_signing_key() -> RSAKey:
    """A fresh 2048-bit RSA key with a random ``kid``, ``use`` = sig and ``alg`` = RS256."""
    return RSAKey.generate_key(
        2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": ALGORITHM}, private=True
    )


class SigningKeys:
    """One signer's keys. ``rotate()`` adds a new current key and keeps the older ones published, so tokens
    signed before a rotation still verify against the JWKS (as a real provider does during a rollover)."""

    def __init__(self) -> None:
        self._keys: list[RSAKey] = []

    def _ensure(self) -> None:
        if not self._keys:
            self._keys.append(new_signing_key())

    @property
    def current(self) -> RSAKey:
        """The key new tokens are signed with."""
        self._ensure()
        return self._keys[-1]

    @property
    def current_kid(self) -> str:
        """The ``kid`` of the current key."""
        kid = self.current.kid
        assert kid is not None  # new_signing_key always sets one
        return kid

    def rotate(self) -> str:
        """Add a new current key (the old ones stay published); returns its ``kid``."""
        self._ensure()
        self._keys.append(new_signing_key())
        return self.current_kid

    def jwks(self) -> KeySetSerialization:
        """The public JWKS, newest key first."""
        self._ensure()
        return KeySet(list(reversed(self._keys))).as_dict(private=False)

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT", key: RSAKey | None = None) -> str:
        """A compact RS256 JWS of ``claims`` with ``kid`` in its header (``key`` overrides the current key,
        for tests that need a token signed by a stranger)."""
        signer = key if key is not None else self.current
        header = {"alg": ALGORITHM, "typ": typ}
        if signer.kid is not None:
            header["kid"] = signer.kid
        return jwt.encode(header, claims, signer, algorithms=[ALGORITHM])
