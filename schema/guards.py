"""Operation-level guards: trusted documents (persisted queries) and the partner banks' rate limits.

One operation-level hook, not a per-field one: it costs once per request (see DESIGN, performance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from gateway.errors import GatewayError, RateLimited
from gateway.metrics import count_rate_limited
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
            await check_bank_rate(ctx)
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


async def check_bank_rate(ctx: Context) -> None:
    """Count the request against the bank's limit; RATE_LIMITED with Retry-After beyond it."""
    bank_id = ctx.principal.bank_id
    if ctx.principal.kind != "bank" or bank_id is None:
        return
    retry_after = await ctx.services.rate_limits.retry_after(bank_id)
    if retry_after is not None:
        count_rate_limited("bank")
        if ctx.http_response is not None:
            ctx.http_response.headers["Retry-After"] = str(retry_after)
        raise RateLimited(
            f"Too many requests from {bank_id}; try again in {retry_after} s.", retryAfter=retry_after
        )
