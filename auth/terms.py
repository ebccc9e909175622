"""The versions of the portal's terms of use (section VII of the terms; clauses 4 and 30)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class TermsVersionRecord:
    version: int
    approved_on: date
    title: str


TERMS_VERSIONS: tuple[TermsVersionRecord, ...] = (
    TermsVersionRecord(1, date(2017, 12, 19), "Klientu portāla lietošanas noteikumi, 1. versija"),
    TermsVersionRecord(2, date(2019, 6, 11), "Klientu portāla lietošanas noteikumi, 2. versija"),
    TermsVersionRecord(3, date(2022, 6, 7), "Klientu portāla lietošanas noteikumi, 3. versija"),
    TermsVersionRecord(4, date(2023, 4, 18), "Klientu portāla lietošanas noteikumi, 4. versija"),
)
TERMS_URL = "https://www.radioatlaujas.lv/lietosanas-noteikumi"


def current_terms() -> TermsVersionRecord:
    return TERMS_VERSIONS[-1]
