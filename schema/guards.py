"""Operation-level guards: trusted documents (persisted queries) and the callers' rate limits.

One operation-level hook, not a per-field one: it costs once per request (see DESIGN, performance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from auth.throttle import over_limit, refused
from gateway.errors import GatewayError, RateLimited
from resolvers.context import Context
from schema.trusted import sha256


class PersistedQueryNotFound(GatewayError):
    code = "PERSISTED_QUERY_NOT_FOUND"


class UntrustedDocument(GatewayError):
    code = "UNTRUSTED_DOCUMENT"


class OperationGuards(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        ctx = self.execution_context.context
        if isinstance(ctx, Context):
            self._resolve_persisted_query(ctx)
            await check_rate(ctx)
        yield

    def _resolve_persisted_query(self, ctx: Context) -> None:
        execution = self.execution_context
        persisted = (execution.operation_extensions or {}).get("persistedQuery")
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if isinstance(digest, str):
            document = ctx.services.trusted.document(digest)
            if document is None:
                raise PersistedQueryNotFound(
                    "No trusted document has this sha256Hash; use one from the published list."
                )
            if execution.query and sha256(execution.query) != digest:
                raise BadDocument("The query text does not match its sha256Hash.")
            execution.query = document
        if ctx.principal.kind == "bank" and not ctx.services.trusted.trusts(execution.query or ""):
            raise UntrustedDocument(
                "Partner banks may run only the trusted documents: send extensions.persistedQuery.sha256Hash "
                "of one of them (see the banks' guide)."
            )


class BadDocument(GatewayError):
    code = "BAD_USER_INPUT"


async def check_rate(ctx: Context) -> None:
    """Terms 12.2: count the request against its caller's limit, RATE_LIMITED with Retry-After beyond it. A
    bank against its own (``BANK_RATE_LIMIT``); a session's user against ``USER_RATE_LIMIT``, all of the
    user's sessions together, counted as the session was read (``auth.sessions``); anyone else per client
    address against ``ANONYMOUS_RATE_LIMIT``."""
    principal = ctx.principal
    services = ctx.services
    if principal.kind == "bank" and principal.bank_id is not None:
        limit, who, logged = "bank", principal.bank_id, f"bank {principal.bank_id}"
        retry_after = await services.rate_limits.retry_after(principal.bank_id)
    elif ctx.session_id is not None:
        account = principal.account.id if principal.account else "an inactive account"
        limit, who, logged, retry_after = "user", "your account", f"user {account}", ctx.retry_after
    else:
        limit, who, logged = "anonymous", "your address", f"{ctx.client_ip} without a session"
        key = f"graphql-address:{ctx.client_ip}"
        retry_after = await over_limit(services.store, key, services.settings.anonymous_rate_limit)
    if retry_after is None:
        return
    refused(limit, f"{logged} at /graphql", retry_after)
    if ctx.http_response is not None:
        ctx.http_response.headers["Retry-After"] = str(retry_after)
    raise RateLimited(f"Too many requests from {who}; try again in {retry_after} s.", retryAfter=retry_after)
