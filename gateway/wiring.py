"""The one place that chooses the implementations: stores, database, adapters, sandbox or real systems."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.billing.http import HttpBilling
from adapters.documents.http import HttpDocuments
from adapters.http import Timeouts, UpstreamClient
from adapters.permits.http import HttpPermits
from auth.accounts import Accounts
from auth.identity import Identity
from auth.links import LinkSigner
from auth.policy import PolicyFile
from auth.sessions import Sessions
from gateway.db import create_engine, migrate
from gateway.mail import create_mailer
from gateway.settings import Settings
from gateway.store import Store, create_store
from resolvers.services import Services

log = logging.getLogger("gateway.wiring")


@dataclass
class Runtime:
    """What the app holds between start and stop."""

    services: Services
    engine: AsyncEngine
    upstreams: list[UpstreamClient]
    sandbox: Any | None = None  # sandbox.app.SandboxSystems when any system is the in-process sandbox
    owns_store: bool = True  # a store handed in (tests sharing one between instances) is closed by its owner

    async def aclose(self) -> None:
        for client in self.upstreams:
            await client.aclose()
        if self.owns_store:
            await self.services.store.close()
        await self.engine.dispose()


def sandbox_if_needed(settings: Settings, sandbox: Any | None = None) -> Any | None:
    """The in-process sandbox systems, built when any system has no URL (and none was handed in)."""
    if sandbox is not None or (settings.billing_url and settings.permits_url and settings.documents_url):
        return sandbox
    from sandbox.app import build_sandbox
    from sandbox.data import build_dataset

    return build_sandbox(build_dataset())


def _timeouts(settings: Settings) -> Timeouts:
    total = settings.upstream_timeout_seconds
    return Timeouts(connect=min(2.0, total), read=total, write=total, pool=min(2.0, total), total=total)


async def start(settings: Settings, *, store: Store | None = None, sandbox: Any | None = None) -> Runtime:
    """Open the store, migrate the database, connect the adapters (to the sandbox where no URL is set)."""
    urls = {
        "billing": settings.billing_url,
        "permits": settings.permits_url,
        "documents": settings.documents_url,
    }
    sandbox = sandbox_if_needed(settings, sandbox)
    upstreams: dict[str, UpstreamClient] = {}
    for system, url in urls.items():
        if url:
            upstreams[system] = UpstreamClient(system, url, timeouts=_timeouts(settings))
        else:
            app = getattr(sandbox, system)
            transport = httpx.ASGITransport(app=app)
            upstreams[system] = UpstreamClient(
                system, f"http://{system}.sandbox", transport=transport, timeouts=_timeouts(settings)
            )
    engine = create_engine(settings.database_url)
    await migrate(engine)
    the_store = store or create_store(settings.redis_url)
    accounts = Accounts(engine)
    if sandbox is not None or settings.seed_personas:
        from gateway.seed import seed_personas

        if await seed_personas(accounts):
            log.info("seeded the sandbox personas into an empty database")
    sessions = Sessions(the_store, settings.session_idle_seconds, settings.session_absolute_seconds)
    mailer = create_mailer(settings.smtp_url, Path(settings.outbox_dir))
    services = Services(
        settings=settings,
        store=the_store,
        accounts=accounts,
        sessions=sessions,
        mailer=mailer,
        identity=Identity(accounts, sessions, the_store, mailer, settings.public_url),
        policy=PolicyFile(settings.policy_file),
        links=LinkSigner(settings.secret_key, settings.download_link_seconds),
        billing=HttpBilling(upstreams["billing"]),
        permits=HttpPermits(upstreams["permits"]),
        documents=HttpDocuments(upstreams["documents"]),
    )
    return Runtime(
        services=services,
        engine=engine,
        upstreams=list(upstreams.values()),
        sandbox=sandbox,
        owns_store=store is None,
    )
