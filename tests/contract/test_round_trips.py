"""Dependent upstream round trips per query: the gateway's latency floor (issue 6: within 10% of ``direct``).

The sandbox holds every upstream request until the gateway has sent all it can without an answer, then
answers them together: one wave. The number of waves is the chain of dependent round trips, independent of
timing and of the machine. The benchmark's ``direct`` baseline needs two for each scenario below.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.app import build_sandbox
from sandbox.data import build_dataset
from sandbox.personas import JANIS_CLIENT
from schema import execution
from schema.billing import Invoice
from schema.permits import Permit
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_bank_api import bank_token, reference_of, settlement
from tests.contract.test_execution import comparable
from tests.contract.test_personas import ANNA, gid

SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
QUIET_SECONDS = 0.3  # no new request for this long: the gateway waits for answers
T = TypeVar("T")


@dataclass
class Waves:
    """Holds upstream requests and lets them through in waves."""

    held: list[tuple[str, asyncio.Event]] = field(default_factory=list)
    waves: list[list[str]] = field(default_factory=list)
    on: bool = False

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def gate(scope: Scope, receive: Receive, send: Send) -> None:
            if self.on and scope["type"] == "http":
                released = asyncio.Event()
                query = scope.get("query_string", b"").decode()
                self.held.append((f"{scope['root_path']}{scope['path']}?{query}", released))
                await released.wait()
            await app(scope, receive, send)

        return gate

    async def run(self, call: Awaitable[T]) -> T:
        self.on = True
        task = asyncio.ensure_future(call)
        try:
            seen = 0
            while not task.done():
                started = time.monotonic()
                await asyncio.wait({task}, timeout=QUIET_SECONDS)
                # A wait that overran by far means the process was not running (a busy or paused machine):
                # the gateway may not have had its turn either, so that was no quiet period.
                paused = time.monotonic() - started > 2 * QUIET_SECONDS
                if len(self.held) == seen and self.held and not paused:
                    self.waves.append([path for path, _ in self.held])
                    for _, released in self.held:
                        released.set()
                    self.held = []
                seen = len(self.held)
            return task.result()
        finally:
            self.on = False


async def gateway_with_waves(make_gateway: GatewayFactory, tmp_path: Path) -> tuple[Gateway, Waves]:
    waves = Waves()
    sandbox = build_sandbox(build_dataset())
    for system in (sandbox.billing, sandbox.permits, sandbox.documents):
        system.add_middleware(_Gate, waves=waves)
    # Held requests wait for the quiet period, longer on a busy machine: no upstream timeout may end them.
    settings = gateway_settings(tmp_path, upstream_timeout_seconds=60.0)
    return await make_gateway(settings=settings, sandbox=sandbox), waves


class _Gate:
    def __init__(self, app: ASGIApp, waves: Waves) -> None:
        self.app = waves.middleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def test_dashboard_takes_two_round_trips(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """Clients, their invoices, permits and balance in the first; documents and stations in the second."""
    gateway, waves = await gateway_with_waves(make_gateway, tmp_path)
    token = await gateway.login(ANNA)
    body: dict[str, Any] = await waves.run(
        gateway.gql((SCENARIOS / "dashboard.graphql").read_text(), token=token)
    )
    clients = body["data"]["viewer"]["clients"]
    assert len(clients) == 2 and all(c["client"]["invoices"]["edges"] for c in clients)
    assert len(waves.waves) == 2, waves.waves
    first = " ".join(waves.waves[0])
    assert "/clients?" in first and "/invoices?" in first and "/permits?" in first
    # Anna may not see Jānis's permits: no permit call names him, not even one made ahead of the field.
    assert not any("K100001" in path for wave in waves.waves for path in wave if "/permits" in path)


async def test_permit_detail_takes_two_round_trips(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """The permit in the first; its stations, documents, holder and holder's invoices in the second."""
    gateway, waves = await gateway_with_waves(make_gateway, tmp_path)
    token = await gateway.login(ANNA)
    listing = await gateway.gql(
        "{ viewer { clients { client { name permits(first: 1) { edges { node { id } } } } } } }", token=token
    )
    permit_id = next(
        c["client"]["permits"]["edges"][0]["node"]["id"]
        for c in listing["data"]["viewer"]["clients"]
        if c["client"]["permits"]
    )
    query = (SCENARIOS / "permit-detail.graphql").read_text()
    body: dict[str, Any] = await waves.run(gateway.gql(query, {"id": permit_id}, token=token))
    permit = body["data"]["node"]
    assert "errors" not in body and permit["stations"] and permit["holder"]["invoices"]["edges"]
    assert len(waves.waves) == 2, waves.waves


async def test_client_by_id_starts_its_fields_with_the_record(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway, waves = await gateway_with_waves(make_gateway, tmp_path)
    token = await gateway.login(ANNA)
    query = """query($id: ID!) { client(id: $id) { name balance { outstanding { amount } }
      invoices(first: 5, status: UNPAID) { edges { node { number document { title } } } } } }"""
    body: dict[str, Any] = await waves.run(gateway.gql(query, {"id": gid("K200001")}, token=token))
    assert body["data"]["client"]["name"]
    assert len(waves.waves) == 2, waves.waves


async def test_settlement_takes_two_round_trips(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """The lookup and the bank's agreements first; balance, last payment and open invoices second."""
    gateway, waves = await gateway_with_waves(make_gateway, tmp_path)
    token = await bank_token(gateway, "demo-bank")
    reference = await reference_of(gateway, JANIS_CLIENT)
    body = await waves.run(settlement(gateway, token, reference=reference))
    assert body["data"]["settlementStatus"]["state"] == "OVERDUE"
    assert len(waves.waves) == 2, waves.waves
    assert any("/agreements" in path for path in waves.waves[0])


async def test_a_pages_rows_are_built_while_their_field_is_fetched(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of permits (of invoices) asks for its rows' stations (documents) and builds its rows while that
    request is out, not after its answer: the building is off the chain of round trips."""
    gateway, waves = await gateway_with_waves(make_gateway, tmp_path)
    token = await gateway.login(ANNA)
    built: list[tuple[str, bool]] = []  # (type, whether its rows' request was out and unanswered then)

    def recording(cls: type[Any], field: str) -> Any:
        convert = cls.from_record.__func__  # type: ignore[attr-defined]

        def from_record(cls_: type[Any], record: Any, rows: Any = None) -> Any:
            built.append((cls.__name__, any(f"/{field}?" in path for path, _ in waves.held)))
            return convert(cls_, record, rows)

        return classmethod(from_record)

    monkeypatch.setattr(Permit, "from_record", recording(Permit, "stations"))
    monkeypatch.setattr(Invoice, "from_record", recording(Invoice, "documents"))
    body: dict[str, Any] = await waves.run(
        gateway.gql((SCENARIOS / "dashboard.graphql").read_text(), token=token)
    )
    clients = body["data"]["viewer"]["clients"]
    assert any(c["client"]["permits"] and c["client"]["permits"]["edges"] for c in clients)
    assert {kind for kind, _ in built} == {"Permit", "Invoice"}
    assert all(held for _, held in built), built
    assert len(waves.waves) == 2, waves.waves


async def test_rows_resolved_by_graphql_core_wait_for_their_pages_field(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the executor's shapes, graphql-core calls each row's resolver as soon as the page is
    returned, while the page's stations and documents are still held upstream: each waits for them, and the
    answer is the same as the executor's."""
    gateway, waves = await gateway_with_waves(make_gateway, tmp_path)
    token = await gateway.login(ANNA)
    dashboard = (SCENARIOS / "dashboard.graphql").read_text()
    fast: dict[str, Any] = await waves.run(gateway.gql(dashboard, token=token))
    monkeypatch.setattr(execution, "basic_fields", lambda schema: {})
    # Another text, so that no shape kept for the first one's parsed document is used again.
    plain: dict[str, Any] = await waves.run(gateway.gql(dashboard + "\n# plain\n", token=token))
    assert comparable(plain) == comparable(fast)
    assert len(waves.waves) == 4, waves.waves  # two round trips each
    clients = plain["data"]["viewer"]["clients"]
    assert any(
        c["client"]["permits"] and c["client"]["permits"]["edges"][0]["node"]["stations"] for c in clients
    )
