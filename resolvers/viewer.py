"""The viewer and the terms of use (terms 4, 30 and section VII)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auth.accounts import Account
from resolvers.context import Context


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


def viewer_account(ctx: Context) -> Account | None:
    """The logged-in account, or None for anyone else (``viewer`` is null, not an error, then)."""
    principal = ctx.principal
    return principal.account if principal.is_user else None


async def terms_accepted(ctx: Context, account: Account) -> bool:
    versions = await ctx.services.accounts.accepted_terms_versions(account.id)
    return current_terms().version in versions
