"""The one place that chooses the implementations: stores, database, adapters, sandbox or real systems."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from adapters.billing.http import HttpBilling
from adapters.documents.http import HttpDocuments
from adapters.http import Timeouts, UpstreamClient
from adapters.permits.http import HttpPermits
from auth.accounts import Accounts
from auth.banks import BankTokens, RateLimits
from auth.identity import Identity
from auth.jwt import RemoteKeys
from auth.links import LinkSigner
from auth.policy import PolicyFile
from auth.receipts import ReceiptSigner
from auth.sessions import Sessions
from auth.throttle import parse_limit
from gateway import side_effects
from gateway.audit import AuditJournal
from gateway.bank_entry import BankEntry
from gateway.db import create_engine, migrate
from gateway.idempotency import IdempotentRequests
from gateway.mail import create_mailer
from gateway.metrics import upstream_observer
from gateway.outbox import Outbox
from gateway.settings import Settings
from gateway.store import Store, create_store
from gateway.unified_login import UnifiedLogin
from resolvers.services import Services
from schema.trusted import TrustedDocuments

log = logging.getLogger("gateway.wiring")

SANDBOX_BANKS = ("demo-bank", "other-bank")


@dataclass
class Runtime:
    """What the app holds between start and stop."""

    services: Services
    engine: AsyncEngine
    upstreams: list[UpstreamClient]
    unified_login: UnifiedLogin
    bank_entry: BankEntry
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

    # A fixed issuer: tokens name the address browsers use, whatever host a back-channel call came by.
    return build_sandbox(build_dataset(), idp_issuer=settings.oidc_issuer or f"{sandbox_url(settings)}/idp")


def sandbox_url(settings: Settings) -> str:
    """Where the in-process sandbox is reachable: under the gateway's public URL."""
    return settings.public_url.rstrip("/") + "/sandbox"


def sandbox_routes(sandbox: Any) -> list[BaseRoute]:
    """The in-process sandbox as the gateway serves it, under /sandbox (see sandbox.app)."""
    return [Mount("/sandbox", routes=sandbox.routes())]


def _identity_providers(
    settings: Settings, services: Services, sandbox: Any | None
) -> tuple[UnifiedLogin, BankEntry]:
    """The unified-login broker and the partner banks: configured ones, or the in-process sandbox's.

    The sandbox is reached at the gateway's public URL (``/sandbox/...``) through an in-process transport,
    so the broker's URLs are the ones a browser follows.
    """
    in_process = _in_process(sandbox)
    sandbox_base = sandbox_url(settings)
    use_sandbox_idp = settings.oidc_issuer is None and in_process is not None
    unified = UnifiedLogin(
        services,
        issuer=settings.oidc_issuer or f"{sandbox_base}/idp",
        client_id=settings.oidc_client_id or "esakari-gateway",
        client_secret=settings.oidc_client_secret or "esakari-gateway-secret",
        transport=in_process if use_sandbox_idp else None,
    )
    banks = settings.partner_banks or tuple((b, f"{sandbox_base}/bank/{b}/jwks") for b in SANDBOX_BANKS)
    transport = in_process if not settings.partner_banks else None
    keys = {bank_id: RemoteKeys(_jwks_fetcher(url, transport)) for bank_id, url in banks}
    return unified, BankEntry(services, keys, settings.audience)


def _in_process(sandbox: Any | None) -> httpx.AsyncBaseTransport | None:
    return httpx.ASGITransport(app=Starlette(routes=sandbox_routes(sandbox))) if sandbox else None


def _bank_tokens(settings: Settings, sandbox: Any | None) -> BankTokens:
    """The partner banks' access tokens, checked against the broker's published keys."""
    issuer = settings.oidc_issuer or f"{sandbox_url(settings)}/idp"
    transport = _in_process(sandbox) if settings.oidc_issuer is None else None
    banks = [bank for bank, _ in settings.partner_banks] or list(SANDBOX_BANKS)
    keys = RemoteKeys(_discovered_jwks(issuer, transport))
    return BankTokens(keys, issuer=issuer, audience=settings.audience, banks=banks)


def _discovered_jwks(
    issuer: str, transport: httpx.AsyncBaseTransport | None
) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=transport, timeout=5) as client:
            metadata = (await client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")).json()
            response = await client.get(metadata["jwks_uri"])
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    return fetch


def _jwks_fetcher(
    url: str, transport: httpx.AsyncBaseTransport | None
) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=transport, timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    return fetch


def _timeouts(settings: Settings) -> Timeouts:
    total = settings.upstream_timeout_seconds
    return Timeouts(connect=min(2.0, total), read=total, write=total, pool=min(2.0, total), total=total)


SYSTEMS = ("billing", "permits", "documents")


def upstream_client(system: str, settings: Settings, sandbox: Any | None) -> UpstreamClient:
    """The client of one company system: at its URL, or the in-process sandbox's where none is set."""
    urls = {
        "billing": settings.billing_url,
        "permits": settings.permits_url,
        "documents": settings.documents_url,
    }
    url = urls[system]
    if url:
        return UpstreamClient(
            system,
            url,
            timeouts=_timeouts(settings),
            max_connections=settings.per_worker(settings.upstream_connections),
            observe=upstream_observer(system),
        )
    # In process, but at the address browsers know: links the systems make (a bank's payment page) then point
    # at the gateway's /sandbox mount.
    return UpstreamClient(
        system,
        f"{sandbox_url(settings)}/{system}",
        transport=_in_process(sandbox),
        timeouts=_timeouts(settings),
        observe=upstream_observer(system),
    )


async def start(settings: Settings, *, store: Store | None = None, sandbox: Any | None = None) -> Runtime:
    """Open the store, migrate the database, connect the adapters (to the sandbox where no URL is set)."""
    sandbox = sandbox_if_needed(settings, sandbox)
    upstreams = {system: upstream_client(system, settings, sandbox) for system in SYSTEMS}
    engine = create_engine(settings.database_url, settings.per_worker(settings.database_connections))
    await migrate(engine)
    the_store = store or create_store(settings.redis_url, settings.redis_prefix)
    accounts = Accounts(engine, the_store, cache_seconds=settings.account_cache_seconds)
    if sandbox is not None or settings.seed_personas:
        from gateway.seed import seed_personas

        if await seed_personas(accounts):
            log.info("seeded the sandbox personas into an empty database")
    sessions = Sessions(
        the_store, settings.session_idle_seconds, settings.session_absolute_seconds, settings.user_rate_limit
    )
    mailer = create_mailer(settings.smtp_url, Path(settings.outbox_dir))
    outbox = Outbox(engine)
    services = Services(
        settings=settings,
        store=the_store,
        accounts=accounts,
        sessions=sessions,
        mailer=mailer,
        identity=Identity(accounts, sessions, the_store, mailer, settings.public_url, outbox),
        policy=PolicyFile(settings.policy_file),
        links=LinkSigner(settings.secret_key, settings.download_link_seconds),
        billing=HttpBilling(upstreams["billing"]),
        permits=HttpPermits(upstreams["permits"]),
        documents=HttpDocuments(upstreams["documents"]),
        bank_tokens=_bank_tokens(settings, sandbox),
        rate_limits=RateLimits(
            the_store,
            parse_limit(settings.bank_rate_limit),
            {bank: parse_limit(limit) for bank, limit in settings.bank_rate_limits},
        ),
        trusted=TrustedDocuments(),
        receipts=ReceiptSigner.from_file(Path(settings.receipt_key_file)),
        idempotency=IdempotentRequests(engine),
        outbox=outbox,
        audit=AuditJournal(engine),
    )
    services.policy.on_reload = services.audit.policy_reloaded
    services.outbox.handlers.update(side_effects.handlers(services))
    unified_login, bank_entry = _identity_providers(settings, services, sandbox)
    return Runtime(
        services=services,
        engine=engine,
        upstreams=list(upstreams.values()),
        unified_login=unified_login,
        bank_entry=bank_entry,
        sandbox=sandbox,
        owns_store=store is None,
    )
