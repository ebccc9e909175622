"""Check-digit rules of the identifiers the sandbox invents: personal codes, registration numbers and
RF creditor references.

Kept apart from the data generator so that tests (and anyone curious) can validate what the sandbox ships.
"""

from __future__ import annotations

import random
import re
from datetime import date

_PERSONAL_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Registration numbers: the weighted sum over all 11 digits (check digit weighted 1) is 3 modulo 11.
_REG_WEIGHTS = (9, 1, 4, 8, 3, 10, 2, 5, 7, 6, 1)
_OLD_CODE = re.compile(r"^(\d{6})-?(\d{5})$")
_CENTURY = {"0": 1800, "1": 1900, "2": 2000}


def personal_code_check_digit(first_ten: str) -> int | None:
    """The check digit of an old-format personal code from its first ten digits; ``None`` if 10."""
    total = sum(w * int(d) for w, d in zip(_PERSONAL_WEIGHTS, first_ten, strict=True))
    check = (1101 - total) % 11
    return None if check == 10 else check


def is_valid_personal_code(code: str, *, check_date: bool = True) -> bool:
    """True for an old-format ``DDMMYY-CNNNN`` code (real birth date, valid check) or a new-format one.

    ``check_date=False`` accepts an old-format code whose birth date does not exist as long as its check digit
    is right (the contract's persona ``290274-19004`` is one: 1974 was not a leap year).
    """
    match = _OLD_CODE.match(code)
    if match is None:
        return False
    digits = match.group(1) + match.group(2)
    if digits.startswith("32"):
        # New-format codes (issued since 2017) carry no birth date and no checksum.
        return True
    century = _CENTURY.get(digits[6])
    if century is None:
        return False
    if check_date:
        try:
            date(century + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
        except ValueError:
            return False
    return personal_code_check_digit(digits[:10]) == int(digits[10])


def make_personal_code(rng: random.Random, born: date) -> str:
    """A valid old-format personal code for someone born on ``born`` (serial part drawn from ``rng``)."""
    century = {1800: "0", 1900: "1", 2000: "2"}[born.year // 100 * 100]
    while True:
        first_ten = f"{born:%d%m}{born.year % 100:02d}{century}{rng.randrange(1000):03d}"
        check = personal_code_check_digit(first_ten)
        if check is not None:
            return f"{first_ten[:6]}-{first_ten[6:]}{check}"


def make_new_personal_code(rng: random.Random) -> str:
    """A new-format personal code: ``32`` and nine random digits, no checksum."""
    digits = f"32{rng.randrange(10**9):09d}"
    return f"{digits[:6]}-{digits[6:]}"


def registration_checksum(number: str) -> int:
    """The weighted sum of an 11-digit registration number modulo 11 (3 for a valid one)."""
    return sum(w * int(d) for w, d in zip(_REG_WEIGHTS, number, strict=True)) % 11


def is_valid_registration_number(number: str) -> bool:
    """True for an 11-digit legal-person registration number (starting with 4 or 5) with a valid check."""
    if re.fullmatch(r"[45]\d{10}", number) is None:
        return False
    return registration_checksum(number) == 3


def make_registration_number(rng: random.Random, prefix: str = "4000") -> str:
    """A valid registration number starting with ``prefix`` (``4000`` companies, ``5000`` associations)."""
    while True:
        body = prefix + "".join(str(rng.randrange(10)) for _ in range(10 - len(prefix)))
        check = (3 - registration_checksum(body + "0")) % 11
        if check < 10:
            return body + str(check)


def _rf_numeric(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text.upper()))


def make_rf_reference(base: str) -> str:
    """The ISO 11649 creditor reference ``RFkk<base>`` for an alphanumeric ``base`` of up to 21 characters."""
    if not re.fullmatch(r"[0-9A-Za-z]{1,21}", base):
        raise ValueError(f"not a valid RF reference base: {base!r}")
    check = 98 - _rf_numeric(base + "RF00") % 97
    return f"RF{check:02d}{base.upper()}"


def is_valid_rf_reference(reference: str) -> bool:
    """True when ``reference`` (spaces allowed) is a well-formed ISO 11649 creditor reference."""
    compact = reference.replace(" ", "").upper()
    if re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", compact) is None:
        return False
    return _rf_numeric(compact[4:] + compact[:4]) % 97 == 1
