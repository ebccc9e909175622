"""Clients: reach, scopes, master data, representatives."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.billing.records import ClientRecord
from auth.principal import Access
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class ClientAccessRow:
    access: Access
    client: ClientRecord
    scopes: frozenset[str]


async def client(ctx: Context, client_id: str) -> ClientRecord:
    """A client within the viewer's reach (any scope); NOT_FOUND otherwise."""
    return await ctx.principal.require(client_id)


async def my_scopes(ctx: Context, record: ClientRecord) -> frozenset[str]:
    return await ctx.principal.scopes_on(record)


async def accessible_clients(ctx: Context) -> list[ClientAccessRow]:
    """Every client the viewer may act for now, with the effective scopes; one batched billing call. None
    while the password must be changed (terms 15.3: such a session may only change it), so that the viewer's
    ``mustChangePassword`` still answers beside it."""
    principal = ctx.principal
    principal.require_user()
    if principal.must_change_password():
        return []
    accesses = list(principal.accesses.values())
    records = await ctx.loaders.client_by_id.load_many([a.client_id for a in accesses])
    rows = []
    for access, record in zip(accesses, records, strict=True):
        if record is not None:
            rows.append(ClientAccessRow(access, record, await principal.scopes_on(record)))
    rows.sort(key=lambda r: (r.access.role != "SELF", r.client.name))
    return rows


def shows_personal_code(ctx: Context, record: ClientRecord) -> bool:
    """A natural person's code is shown only to that person (terms 2.9)."""
    access = ctx.principal.accesses.get(record.id)
    return record.kind == "LEGAL_PERSON" or (access is not None and access.role == "SELF")


def mask_personal_code(code: str | None) -> str | None:
    """``140385-12341`` → ``140385-*****``: the birth date part stays, the serial part is hidden."""
    if code is None:
        return None
    head, sep, tail = code.partition("-")
    if sep:
        return f"{head}-{'*' * len(tail)}"
    return code[:6] + "*" * max(0, len(code) - 6)
