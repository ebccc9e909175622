"""The audit journal in the graph, for staff (terms 23.3): ``auditLog``, newest record first.

``AuditQuery`` is a mixin of the root ``Query`` (``class Query(AuditQuery)``), so that the journal's field
lives with its types.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from adapters.paging import Page
from gateway.audit import AuditRecord as AuditRow
from gateway.audit import canonical_json
from resolvers import audit as resolve_audit
from resolvers.context import Context
from schema.base import Connection

Info = strawberry.Info[Context, None]


@strawberry.type(
    description="One record of the audit journal: who did what, for whom, from where, and how it ended."
)
class AuditRecord:
    seq: int = strawberry.field(description="Position in the journal; 1 is the first record, no gaps.")
    at: datetime = strawberry.field(description="When the gateway recorded it (UTC).")
    principal_kind: str = strawberry.field(
        description="Who acted: anonymous, user, staff, bank or system (the command line, the gateway)."
    )
    principal: str | None = strawberry.field(
        description="The user's or bank's id; for a refused login, the e-mail that was tried."
    )
    acting_for: str | None = strawberry.field(description="The client acted for, when there was one.")
    ip: str | None = strawberry.field(description="The caller's IP address (terms 23.1).")
    user_agent: str | None = strawberry.field(description="The caller's User-Agent header.")
    operation: str = strawberry.field(
        description='What was asked: a mutation\'s name ("blockUser") or an endpoint ("auth.login").'
    )
    outcome: str = strawberry.field(
        description='How it ended: "ok", or why not ("invalid_credentials", "forbidden", ...).'
    )
    request_id: str | None = strawberry.field(description="The request's X-Request-Id, to find it in logs.")
    details: str = strawberry.field(
        description="What the caller sent and what came of it, as JSON; no secrets, personal codes masked."
    )
    prev_hash: str = strawberry.field(description="SHA-256 of the record before (64 zeros for the first).")
    hash: str = strawberry.field(description="SHA-256 of this record with prev_hash: the chain's link.")

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditRecord:
        return cls(
            seq=row.seq,
            at=row.at,
            principal_kind=row.principal_kind,
            principal=row.principal,
            acting_for=row.acting_for,
            ip=row.ip,
            user_agent=row.user_agent,
            operation=row.operation,
            outcome=row.outcome,
            request_id=row.request_id,
            details=canonical_json(row.details),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@strawberry.type(description="The audit journal's entry point, part of Query.")
class AuditQuery:
    @strawberry.field(
        description="Staff only: the audit journal, newest record first. Filters combine; `principal` may "
        "be an e-mail (that account's records and the refused logins with it). FORBIDDEN for anyone else."
    )
    async def audit_log(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        operation: str | None = None,
        principal: str | None = None,
        since: datetime | None = None,
    ) -> Connection[AuditRecord] | None:
        result = await resolve_audit.audit_log(
            info.context,
            first=50 if first is None else first,
            after=after,
            operation=operation,
            principal=principal,
            since=since,
        )
        page = Page(
            items=tuple(result.records),
            cursors=tuple(str(r.seq) for r in result.records),
            has_more=result.has_more,
            total=result.total,
        )
        return Connection.from_page(page, AuditRecord.from_row, after)
