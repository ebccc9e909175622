"""The audit journal at the HTTP edge: recording what an HTTP endpoint did, and the staff's CSV export.

``audit_request`` fills in what terms 18 and 23.1 ask of every record made outside GraphQL (the login,
logout, password and redirect-login endpoints): the caller's IP (trusted-proxy aware), user agent and the
request id the middleware gave the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.audit import parse_since
from gateway.context import client_ip, new_loaders, resolve_principal
from gateway.middleware import too_many_requests
from resolvers.services import Services


def request_id_of(request: HTTPConnection) -> str | None:
    """The id ``RequestIdMiddleware`` gave the request (echoed as ``X-Request-Id``)."""
    state = request.scope.get("state") or {}
    value = state.get("request_id") if isinstance(state, Mapping) else None
    return value if isinstance(value, str) else None


async def audit_request(
    request: HTTPConnection,
    operation: str,
    outcome: str,
    *,
    principal_kind: str,
    principal: str | None,
    acting_for: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append a record about this HTTP request to the journal; ``details`` are redacted by the journal."""
    services: Services = request.app.state.services
    return await services.audit.record(
        principal_kind=principal_kind,
        principal=principal,
        acting_for=acting_for,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        operation=operation,
        outcome=outcome,
        request_id=request_id_of(request),
        details=details,
    )


async def audit_login(
    request: HTTPConnection,
    operation: str,
    outcome: str,
    *,
    principal: str | None = None,
    kind: str = "anonymous",
    **details: object,
) -> None:
    """A redirect-based login's outcome (unified login, bank entry); details left as None are not kept."""
    await audit_request(
        request,
        operation,
        outcome,
        principal_kind=kind,
        principal=principal,
        details={k: v for k, v in details.items() if v is not None},
    )


async def audit_csv(request: Request) -> Response:
    """``GET /staff/audit.csv[?since=DATE]``: the journal, oldest first, to staff only (403 otherwise)."""
    services: Services = request.app.state.services
    principal, _, retry_after = await resolve_principal(services, request, new_loaders(services))
    if retry_after is not None:
        who = principal.account.id if principal.account else "an inactive account"
        return too_many_requests("user", retry_after, f"{who} at the audit export")
    if principal.kind != "staff" or principal.account is None or principal.must_change_password():
        return JSONResponse(
            {"error": "forbidden", "detail": "Only the company's staff may export the audit journal."},
            status_code=403,
        )
    try:
        since = parse_since(request.query_params.get("since"))
    except ValueError:
        return JSONResponse(
            {"error": "invalid_request", "detail": "`since` is a date (2026-01-31) or an ISO 8601 time."},
            status_code=400,
        )
    # Who took a copy of the evidence is evidence too.
    await audit_request(
        request,
        "audit.export",
        "ok",
        principal_kind="staff",
        principal=principal.account.id,
        details={"since": since},
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        services.audit.export_csv(since=since),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


routes = [Route("/staff/audit.csv", audit_csv, methods=["GET"])]
