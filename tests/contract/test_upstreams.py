"""Upstream calls per query stay fixed; a system down or slow costs only its own fields."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.db import utcnow
from gateway.settings import Settings
from sandbox.app import build_sandbox
from sandbox.data import build_dataset
from sandbox.personas import JANIS_CLIENT
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import JANIS, codes, gid

SYSTEMS = ("billing", "permits", "documents")

DEEP = """
query($id: ID!) { client(id: $id) {
  name myScopes balance { outstanding { amount } }
  invoices(first: 100) { totalCount edges { node {
    number document { title downloadUrl } permit { number } } } }
  permits(first: 100) { totalCount edges { node {
    number documents { title }
    stations { name callSign assignments { frequencyMHz emissionDesignator } }
  } } }
} }
"""


async def reset_stats(gateway: Gateway) -> None:
    for system in SYSTEMS:
        response = await gateway.client.post(f"/sandbox/{system}/_stats/reset")
        assert response.status_code == 204


async def upstream_calls(gateway: Gateway) -> dict[str, int]:
    calls = {}
    for system in SYSTEMS:
        response = await gateway.client.get(f"/sandbox/{system}/_stats")
        calls[system] = int(response.json()["requests"])
    return calls


async def calls_for_1_and_40_permits(
    make_gateway: GatewayFactory, settings: Settings
) -> dict[str, dict[str, int]]:
    """Upstream calls of the DEEP query for a client with 1 permit and for one with 40."""
    dataset = build_dataset()
    small = dataset.add_client("LEGAL_PERSON", 'SIA "Viena Atļauja"', permits=1, invoices=1)
    large = dataset.add_client("LEGAL_PERSON", 'SIA "Četrdesmit Atļaujas"', permits=40, invoices=40)
    gateway = await make_gateway(settings=settings, sandbox=build_sandbox(dataset))
    accounts = gateway.app.state.services.accounts
    user = await accounts.create_user(email="rep@example.lv", full_name="Rep Resents")
    for client_id in (small, large):
        await accounts.add_mandate(
            user_id=user,
            client_id=client_id,
            scopes=["PERMITS_READ", "BILLING_READ", "DOCUMENTS_READ"],
            valid_from=utcnow().date(),
            valid_until=None,
        )
    token, _ = await gateway.app.state.services.sessions.create(user)

    counts: dict[str, dict[str, int]] = {}
    for name, client_id, permits in (("small", small, 1), ("large", large, 40)):
        await reset_stats(gateway)
        body = await gateway.gql(DEEP, {"id": gid(client_id)}, token=token)
        assert "errors" not in body, body["errors"]
        edges = body["data"]["client"]["permits"]["edges"]
        assert len(edges) == permits
        assert sum(len(p["node"]["stations"]) for p in edges) >= permits
        counts[name] = await upstream_calls(gateway)
    return counts


async def test_upstream_calls_are_the_same_for_1_and_40_permits(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    counts = await calls_for_1_and_40_permits(make_gateway, gateway_settings(tmp_path))
    assert counts["small"] == counts["large"], counts
    assert sum(counts["large"].values()) <= 12


async def test_without_batching_calls_grow_with_the_rows(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The benchmarks' naive baseline really is naive: one call per parent."""
    counts = await calls_for_1_and_40_permits(make_gateway, gateway_settings(tmp_path, batching=False))
    assert sum(counts["large"].values()) >= sum(counts["small"].values()) + 3 * 39, counts


async def test_permit_registry_down_gives_null_permits_and_the_rest(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    response = await gateway.client.post("/sandbox/permits/_faults", json={"down": True})
    assert response.status_code == 204
    body = await gateway.gql(DEEP, {"id": gid(JANIS_CLIENT)}, token=token)
    client = body["data"]["client"]
    assert client["permits"] is None
    assert client["invoices"]["totalCount"] == 3
    assert codes(body)["client.permits"] == "UPSTREAM_UNAVAILABLE"
    assert all(code == "UPSTREAM_UNAVAILABLE" for code in codes(body).values())
    assert "permit registry" in body["errors"][0]["message"]
    assert "http" not in str(body["errors"]).lower()


async def test_slow_document_store_times_out_instead_of_hanging(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway = await make_gateway(settings=gateway_settings(tmp_path, upstream_timeout_seconds=0.3))
    token = await gateway.login(JANIS)
    await gateway.client.post("/sandbox/documents/_faults", json={"latency_ms": 20_000})
    started = time.monotonic()
    body = await gateway.gql(DEEP, {"id": gid(JANIS_CLIENT)}, token=token)
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert body["data"]["client"]["invoices"]["totalCount"] == 3
    assert set(codes(body).values()) == {"UPSTREAM_UNAVAILABLE"}
    assert all(".document" in path or ".documents" in path for path in codes(body))
