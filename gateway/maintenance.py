"""Maintenance mode (terms 24, 27 and 33): switched on for every instance at once, through the shared store.

An operator switches it on with a message and, if known, an end (``gateway maintenance on``). Each instance
reads the switch from the store every second in the background, so a request pays nothing for it; within
that second every instance answers ``/graphql`` with the error ``MAINTENANCE`` (HTTP 503 and
``Retry-After``), and its other routes (logins, downloads, the audit export) with a 503 that says the same,
until the switch is off again or its end has passed. Health, readiness and the receipts' public key stay up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.middleware import graphql_refusal
from gateway.store import Store

log = logging.getLogger("gateway.maintenance")

KEY = "maintenance"
DEFAULT_MESSAGE = "The portal is closed for maintenance; please try again later."
RETRY_WITHOUT_END = 300  # seconds a client is told to wait when no end was given
# Routes that answer during maintenance: probes, and the key that checks receipts already given.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"})


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance switched on: what users are told, since when, and until when if known (UTC)."""

    message: str
    since: datetime
    until: datetime | None = None

    def over(self, now: datetime) -> bool:
        return self.until is not None and now >= self.until

    def retry_after(self, now: datetime) -> int:
        if self.until is None:
            return RETRY_WITHOUT_END
        return max(1, int((self.until - now).total_seconds()) + 1)

    def dump(self) -> str:
        return json.dumps(
            {
                "message": self.message,
                "since": self.since.isoformat(),
                "until": self.until.isoformat() if self.until else None,
            }
        )

    @classmethod
    def load(cls, text: str) -> Window:
        data = json.loads(text)
        until = data.get("until")
        return cls(
            message=str(data.get("message") or DEFAULT_MESSAGE),
            since=datetime.fromisoformat(data["since"]),
            until=datetime.fromisoformat(until) if until else None,
        )


class MaintenanceMode:
    """The switch in the store, and this instance's view of it (``current``), read every ``check_every`` s."""

    def __init__(self, store: Store, check_every: float = 1.0) -> None:
        self.store = store
        self.check_every = check_every
        self._window: Window | None = None

    def current(self, now: datetime | None = None) -> Window | None:
        """The maintenance in force as this instance last read it; None when there is none, or it ended."""
        window = self._window
        if window is None or window.over(now or datetime.now(UTC)):
            return None
        return window

    async def refresh(self) -> Window | None:
        """Read the switch from the store now."""
        raw = await self.store.get(KEY)
        try:
            self._window = Window.load(raw) if raw is not None else None
        except (ValueError, KeyError, TypeError):
            log.error("the maintenance switch in the store is malformed; taken as on: %r", raw)
            self._window = Window(DEFAULT_MESSAGE, datetime.now(UTC))
        return self._window

    async def watch(self) -> None:
        """Refresh every ``check_every`` seconds until cancelled; a store that fails keeps the last view."""
        while True:
            await asyncio.sleep(self.check_every)
            try:
                await self.refresh()
            except Exception:  # the store is down: keep what was seen, say so, try again
                log.warning("could not read the maintenance switch; keeping the last one seen", exc_info=True)

    async def switch_on(self, message: str | None, minutes: float | None) -> Window:
        now = datetime.now(UTC)
        window = Window(
            message or DEFAULT_MESSAGE, now, now + timedelta(minutes=minutes) if minutes else None
        )
        ttl = int(minutes * 60) + 1 if minutes else None  # the switch goes away by itself at its end
        await self.store.put(KEY, window.dump(), ttl=ttl)
        self._window = window
        return window

    async def switch_off(self) -> None:
        await self.store.delete(KEY)
        self._window = None


class MaintenanceMiddleware:
    """Answers 503 during maintenance, before anything else runs (no session read, no upstream call)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mode: MaintenanceMode | None = getattr(scope["app"].state, "maintenance", None)
        window = mode.current() if mode is not None and scope["type"] == "http" else None
        if window is None or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        retry = {"Retry-After": str(window.retry_after(datetime.now(UTC)))}
        if scope["path"] == "/graphql":
            response = graphql_refusal(window.message, 503, "MAINTENANCE", retry)
        else:
            body = {"error": "maintenance", "message": window.message}
            response = JSONResponse(body, status_code=503, headers=retry)
        await response(scope, receive, send)
