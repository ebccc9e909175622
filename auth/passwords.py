"""Password hashing (Argon2id) and the password rules of terms 15.2."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106 low-memory parameters

# Verified when the e-mail is unknown, so that a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password off the event loop; a missing hash still costs one verification."""
    return await asyncio.to_thread(_verify, stored_hash, password)


def password_problems(password: str) -> list[str]:
    """Every reason the password breaks the rules (terms 15.2), empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if not any(c.isalpha() for c in password):
        problems.append("at least one letter")
    if not any(c.isdigit() for c in password):
        problems.append("at least one digit")
    return problems
