"""The access log (terms 9, 22.4, 23.1): every HTTP request's time, caller, client address and user agent,
with its route, status and duration, in the ``access_log`` table.

What a request changes is evidence in the hash-chained audit journal (``gateway.audit``), whose appends are
serialised; a row per request there would make every read wait for that lock. So each worker keeps the
records of the last second in memory and writes them in one statement (``ACCESS_LOG_FLUSH_SECONDS``): a
request never waits for the database. While the database is away the records wait, up to ``MAX_PENDING``;
beyond it the oldest are dropped, counted in ``/metrics`` and logged. A worker that is killed loses at most
its last second; one that stops writes what it holds. Rows older than ``ACCESS_LOG_DAYS`` are deleted once an
hour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from starlette.types import Scope

from gateway.context import address_behind
from gateway.db import access_log, fit, utcnow
from gateway.metrics import ACCESS_DROPPED

log = logging.getLogger("gateway.access_log")

MAX_PENDING = 50_000
PURGE_EVERY = 3600.0  # seconds between deletions of rows past the retention
# The caller as the request's handler found it: (principal kind, principal id), in the scope's state.
PRINCIPAL = "access_principal"
UNLOGGED = frozenset({"/healthz", "/readyz", "/metrics"})


def note_principal(scope: Scope, kind: str, principal: str | None) -> None:
    """Tells the access log who the caller of this request is (anonymous unless told)."""
    scope.setdefault("state", {})[PRINCIPAL] = (kind, principal)


class AccessLog:
    """One worker's writer of access records."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retention_days: int,
        flush_seconds: float = 1.0,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self.engine = engine
        self.trusted_proxies = trusted_proxies
        self.retention_days = retention_days
        self.flush_seconds = flush_seconds
        self._pending: list[dict[str, Any]] = []
        self._purged_at = 0.0

    def observe(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        """One request, as it ended (``gateway.metrics.MetricsMiddleware`` calls this for each); the probes
        of the monitoring (health, readiness, metrics) are not the users' and are left out. It reads only
        the request's own scope (a mounted app, such as the sandbox, has made ``scope["app"]`` its own), and
        a record it cannot make is logged, never raised into the answer."""
        if route in UNLOGGED:
            return
        try:
            self._pending.append(self._record(scope, route, status, seconds))
        except Exception:
            log.exception("access log: could not record a request to %s", route)
            return
        if len(self._pending) > MAX_PENDING:
            dropped = len(self._pending) - MAX_PENDING
            del self._pending[:dropped]
            ACCESS_DROPPED.inc(dropped)
            log.error("access log: %d records dropped, the database has not taken any for a while", dropped)

    def _record(self, scope: Scope, route: str, status: int, seconds: float) -> dict[str, Any]:
        state = scope.get("state") or {}
        kind, principal = state.get(PRINCIPAL) or ("anonymous", None)
        request = HTTPConnection(scope)
        return {
            "at": utcnow(),
            "request_id": state.get("request_id"),
            "principal_kind": kind,
            "principal": fit(access_log, "principal", principal),
            "ip": fit(access_log, "ip", address_behind(request, self.trusted_proxies)),
            "user_agent": fit(access_log, "user_agent", request.headers.get("user-agent")),
            "method": fit(access_log, "method", scope["method"]),
            "route": fit(access_log, "route", route),
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }

    async def flush(self) -> int:
        """Writes what is pending in one statement; what fails stays pending for the next round."""
        batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            async with self.engine.begin() as conn:
                await conn.execute(access_log.insert(), batch)
        except Exception:
            self._pending[:0] = batch
            raise
        return len(batch)

    async def purge(self) -> int:
        """Deletes the rows past the retention."""
        cutoff = utcnow() - timedelta(days=self.retention_days)
        async with self.engine.begin() as conn:
            result = await conn.execute(access_log.delete().where(access_log.c.at < cutoff))
        return int(result.rowcount or 0)

    async def run(self) -> None:
        """The worker's writer: flushes every ``flush_seconds``, purges every hour, until cancelled."""
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
                if time.monotonic() - self._purged_at >= PURGE_EVERY:
                    self._purged_at = time.monotonic()
                    await self.purge()
            except Exception:  # the database may be away for a moment; the records wait
                log.warning("access log: could not write %d records; trying again", len(self._pending))

    async def close(self) -> None:
        """Writes what is left (a stopping worker)."""
        try:
            await self.flush()
        except Exception:
            log.exception("access log: %d records could not be written at shutdown", len(self._pending))
