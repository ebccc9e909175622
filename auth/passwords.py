"""Password hashing (Argon2id) and the password rules of terms 15.2."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106 low-memory parameters

# Verified when the e-mail is unknown, so that a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")

MIN_LENGTH = 8
MAX_LENGTH = 256  # Argon2 takes any length, but an unbounded one is a cheap way to burn CPU
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password off the event loop; a missing hash still costs one verification."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]
    return await asyncio.to_thread(_verify, stored_hash, password)


@cache
def _common() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, *, personal: tuple[str, ...] = ()) -> list[str]:
    """Every reason the password breaks the rules (terms 15.2), empty when it is acceptable.

    ``personal`` holds the user's e-mail and name: a password built on them is refused too.
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    if not any(c.isalpha() for c in password):
        problems.append("at least one letter")
    if not any(c.isdigit() for c in password):
        problems.append("at least one digit")
    lowered = password.lower()
    if lowered in _common():
        problems.append("not a commonly used password")
    words = (w for text in personal for w in text.lower().replace("@", " ").replace(".", " ").split())
    parts = {w for w in words if len(w) >= 4}
    if any(p in lowered for p in parts):
        problems.append("not built on your name or e-mail")
    return problems
