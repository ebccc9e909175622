"""The sandbox systems over HTTP: batch reads, grouped paging, errors, stats, faults, OpenAPI and content."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from datetime import date
from itertools import pairwise
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from sandbox.app import SandboxSystems, build_sandbox, create_sandbox_app
from sandbox.data import build_dataset
from sandbox.personas import BALTIJAS_RADIO_CLIENT, ILZE_CLIENT, JANIS_CLIENT, JURAS_SAKARI_CLIENT

TODAY = date(2026, 3, 15)


@pytest.fixture
def systems() -> SandboxSystems:
    return build_sandbox(build_dataset(today=TODAY))


@pytest.fixture
async def http(systems: SandboxSystems) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=systems.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield client


async def get(http: httpx.AsyncClient, url: str, status: int = 200) -> Any:
    response = await http.get(url)
    assert response.status_code == status, response.text
    return response.json()


# -- batch reads --------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_batch_reads_leave_out_unknown_ids(http: httpx.AsyncClient) -> None:
    body = await get(http, f"/billing/clients?ids=K0,{ILZE_CLIENT},{JANIS_CLIENT},K0")
    assert sorted(c["id"] for c in body["items"]) == sorted([JANIS_CLIENT, ILZE_CLIENT])
    janis = next(c for c in body["items"] if c["id"] == JANIS_CLIENT)
    assert janis["code"] == "140385-12341" and janis["billing_arrangement"] == "INVOICE"
    assert (await get(http, "/billing/clients?ids=K0"))["items"] == []
    body = await get(http, "/permits/permits?ids=P100002,P100001,P999999")
    assert {p["id"] for p in body["items"]} == {"P100001", "P100002"}
    body = await get(http, "/permits/stations?ids=S100001,nope")
    assert [s["call_sign"] for s in body["items"]] == ["YL2JB"]
    assert body["items"][0]["assignments"][0]["emission_designator"] == "11K0F3E"


@pytest.mark.asyncio
async def test_json_shapes(http: httpx.AsyncClient) -> None:
    invoice = (await get(http, "/billing/invoices?ids=I100001"))["items"][0]
    assert invoice["currency"] == "EUR" and isinstance(invoice["total"], str)
    assert invoice["issued_on"].count("-") == 2 and invoice["payment_reference"].startswith("RF")
    assert invoice["lines"] and isinstance(invoice["lines"][0]["unit_price"], str)
    payment = (await get(http, f"/billing/payments?client_ids={JANIS_CLIENT}"))["groups"][0]["edges"][0][
        "node"
    ]
    assert payment["paid_at"].endswith("+00:00")
    balances = (await get(http, f"/billing/balances?client_ids={ILZE_CLIENT},K0"))["items"]
    assert [b["client_id"] for b in balances] == [ILZE_CLIENT] and balances[0]["credit"] == "42.50"
    prices = (await get(http, "/billing/price-list"))["items"]
    assert len(prices) >= 8 and {p["vat_rate"] for p in prices} == {"0", "21"}
    agreements = (await get(http, "/billing/agreements?bank_id=other-bank"))["items"]
    assert agreements == [{"bank_id": "other-bank", "client_id": ILZE_CLIENT}]
    station = (await get(http, "/permits/stations?ids=S100002"))["items"][0]
    assert isinstance(station["latitude"], float) and isinstance(station["antenna_height_m"], float)
    application = (await get(http, f"/permits/applications?client_ids={JANIS_CLIENT}"))["groups"][0]
    assert application["edges"][0]["node"]["receipt"]["number"].startswith("KV-")


@pytest.mark.asyncio
async def test_single_reads_and_404(http: httpx.AsyncClient) -> None:
    assert (await get(http, f"/billing/clients/{JANIS_CLIENT}"))["name"] == "Jānis Bērziņš"
    assert (await get(http, "/billing/invoices/I100001"))["id"] == "I100001"
    assert (await get(http, "/permits/permits/P100001"))["service_type"] == "AMATEUR"
    for url in (
        "/billing/clients/K0",
        "/billing/invoices/I0",
        "/permits/permits/P0",
        "/documents/documents/D0",
    ):
        body = await get(http, url, 404)
        assert body["error"] == "not_found" and body["detail"]
    assert (await get(http, "/documents/documents/D0/content", 404))["error"] == "not_found"
    assert (await get(http, "/billing/no-such-path", 404))["error"] == "not_found"


# -- grouped paging -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_invoices_of_baltijas_radio_page_by_20(http: httpx.AsyncClient) -> None:
    seen: list[dict[str, Any]] = []
    after = ""
    pages = 0
    while True:
        body = await get(http, f"/billing/invoices?client_ids={BALTIJAS_RADIO_CLIENT}&limit=20{after}")
        (group,) = body["groups"]
        assert group["owner_id"] == BALTIJAS_RADIO_CLIENT and group["total"] >= 45
        seen += [edge["node"] for edge in group["edges"]]
        pages += 1
        if not group["has_more"]:
            break
        assert len(group["edges"]) == 20
        after = f"&after={group['edges'][-1]['cursor']}"
    assert pages == 3 and len(seen) == group["total"]
    assert len({n["id"] for n in seen}) == len(seen)
    for newer, older in pairwise(seen):  # issued_on desc, then id asc
        assert (newer["issued_on"], older["id"]) > (older["issued_on"], newer["id"])


@pytest.mark.asyncio
async def test_groups_for_every_owner_in_order_with_filters(http: httpx.AsyncClient) -> None:
    url = f"/billing/invoices?client_ids={JURAS_SAKARI_CLIENT},K0,{JANIS_CLIENT}&status=PAID&limit=1"
    groups = (await get(http, url))["groups"]
    assert [g["owner_id"] for g in groups] == [JURAS_SAKARI_CLIENT, "K0", JANIS_CLIENT]
    assert groups[1] == {"owner_id": "K0", "total": 0, "has_more": False, "edges": []}
    assert groups[2]["total"] == 1 and groups[2]["edges"][0]["node"]["status"] == "PAID"
    assert all(e["node"]["status"] == "PAID" for g in groups for e in g["edges"])
    url = f"/permits/permits?holder_ids={BALTIJAS_RADIO_CLIENT}&service_type=FIXED"
    (group,) = (await get(http, url))["groups"]
    assert group["total"] == 1 and group["edges"][0]["node"]["service_type"] == "FIXED"
    docs = (await get(http, f"/documents/documents?owner_ids={JANIS_CLIENT}&kind=PERMIT"))["groups"][0]
    assert docs["total"] == 2 and {e["node"]["kind"] for e in docs["edges"]} == {"PERMIT"}


@pytest.mark.asyncio
async def test_unpaged_groups_by_permit(http: httpx.AsyncClient) -> None:
    groups = (await get(http, "/permits/stations?permit_ids=P100002,P0"))["groups"]
    assert [g["owner_id"] for g in groups] == ["P100002", "P0"] and groups[1]["items"] == []
    names = [s["name"] for s in groups[0]["items"]]
    assert len(names) == 2 and names == sorted(names)
    groups = (await get(http, "/documents/documents?permit_ids=P100001"))["groups"]
    created = [d["created_at"] for d in groups[0]["items"]]
    assert created == sorted(created, reverse=True) and "PERMIT" in {d["kind"] for d in groups[0]["items"]}


@pytest.mark.asyncio
async def test_cursor_is_stable_across_inserts(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    url = f"/permits/permits?holder_ids={BALTIJAS_RADIO_CLIENT}&limit=1"
    first = (await get(http, url))["groups"][0]
    cursor = first["edges"][0]["cursor"]
    systems.dataset.add_random_permit(BALTIJAS_RADIO_CLIENT, "AMATEUR", 1)  # "AM-..." sorts first
    second = (await get(http, f"{url}&after={cursor}"))["groups"][0]
    assert second["total"] == first["total"] + 1
    assert second["edges"][0]["node"]["id"] != first["edges"][0]["node"]["id"]
    assert second["edges"][0]["node"]["number"] > first["edges"][0]["node"]["number"]


@pytest.mark.parametrize(
    "url",
    [
        f"/billing/invoices?client_ids={JANIS_CLIENT}&after=not-a-cursor",
        f"/billing/invoices?client_ids={JANIS_CLIENT}&after=WyJ4Il0",  # valid base64 of ["x"]
        f"/billing/invoices?client_ids={JANIS_CLIENT}&limit=101",
        f"/billing/invoices?client_ids={JANIS_CLIENT}&limit=0",
        f"/billing/invoices?client_ids={JANIS_CLIENT}&limit=ten",
        f"/billing/invoices?client_ids={JANIS_CLIENT}&status=LOST",
        "/billing/invoices",
        "/billing/invoices?ids=I100001&client_ids=K1",
        "/billing/invoices?ids=I100001&limit=5",
        "/billing/clients",
        "/permits/permits?holder_ids=K1&service_type=TELEPATHY",
        "/documents/documents?owner_ids=K1&kind=SELFIE",
        "/billing/clients?ids=" + ",".join(f"K{i}" for i in range(501)),
    ],
)
@pytest.mark.asyncio
async def test_bad_parameters_are_422(http: httpx.AsyncClient, url: str) -> None:
    body = await get(http, url, 422)
    assert body["error"] == "invalid_request" and body["detail"]


@pytest.mark.asyncio
async def test_500_ids_are_fine(http: httpx.AsyncClient) -> None:
    ids = ",".join(f"I{100001 + i}" for i in range(500))
    body = await get(http, f"/billing/invoices?ids={ids}")
    assert len(body["items"]) == 61


# -- stats and faults ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stats_count_and_reset(http: httpx.AsyncClient) -> None:
    await http.post("/billing/_stats/reset")
    await get(http, f"/billing/clients?ids={JANIS_CLIENT}")
    await get(http, f"/billing/invoices?client_ids={JANIS_CLIENT}")
    await get(http, "/billing/invoices/I100001")
    await get(http, "/billing/invoices/I0", 404)
    await get(http, "/billing/health")
    await get(http, "/billing/openapi.json")
    await get(http, "/billing/_faults")
    stats = await get(http, "/billing/_stats")
    assert stats == {
        "requests": 4,
        "by_route": {"GET /clients": 1, "GET /invoices": 1, "GET /invoices/{id}": 2},
    }
    assert (await get(http, "/permits/_stats"))["requests"] == 0
    response = await http.post("/billing/_stats/reset")
    assert response.status_code == 204
    assert await get(http, "/billing/_stats") == {"requests": 0, "by_route": {}}


@pytest.mark.asyncio
async def test_faults_down_and_latency(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    assert await get(http, "/permits/_faults") == {"latency_ms": 0, "fail_rate": 0.0, "down": False}
    response = await http.post("/permits/_faults", json={"down": True})
    assert response.status_code == 204
    assert await get(http, "/permits/permits?ids=P100001", 503) == {"error": "unavailable"}
    assert await get(http, "/permits/health", 503) == {"error": "unavailable"}
    assert (await get(http, "/permits/_stats"))["requests"] == 1
    await get(http, f"/billing/clients?ids={JANIS_CLIENT}")  # other systems unaffected
    await http.post("/permits/_faults", json={"down": False, "latency_ms": 150})
    started = time.perf_counter()
    await get(http, "/permits/permits?ids=P100001")
    assert time.perf_counter() - started >= 0.14
    assert systems.permits_faults.latency_ms == 150
    await http.post("/permits/_faults", json={"latency_ms": 0, "fail_rate": 1})
    await get(http, "/permits/permits?ids=P100001", 503)
    for bad in ({"fail_rate": 2}, {"latency_ms": -1}, {"down": "yes"}, {"speed": 1}, [1]):
        assert (await http.post("/permits/_faults", json=bad)).status_code == 422


@pytest.mark.asyncio
async def test_faults_at_construction() -> None:
    app = create_sandbox_app(build_dataset(today=TODAY), latency_ms=0, fail_rate=1.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        assert (await client.get("/documents/documents?ids=D100001")).status_code == 503
        assert (await client.get("/documents/health")).status_code == 200
        faults = (await client.get("/billing/_faults")).json()
        assert faults["fail_rate"] == 1.0


# -- OpenAPI ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["billing", "permits", "documents"])
@pytest.mark.asyncio
async def test_openapi_lists_every_route(
    systems: SandboxSystems, http: httpx.AsyncClient, system: str
) -> None:
    doc = await get(http, f"/{system}/openapi.json")
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"]
    app: Starlette = getattr(systems, system)
    for route in app.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in doc["paths"][route.path], (route.path, method)
    schemas = doc["components"]["schemas"]
    assert "Error" in schemas
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            assert operation["responses"], path
            for param in operation["parameters"]:
                assert param["in"] in ("query", "path", "header") and "schema" in param
    refs = _refs(doc)
    assert refs and all(
        ref.removeprefix("#/components/schemas/") in schemas for ref in refs if "schemas" in ref
    )


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


@pytest.mark.asyncio
async def test_openapi_records_and_batch_params(http: httpx.AsyncClient) -> None:
    doc = await get(http, "/billing/openapi.json")
    invoice = doc["components"]["schemas"]["Invoice"]
    assert set(invoice["required"]) >= {"id", "total", "lines", "payment_reference", "document_id"}
    assert invoice["properties"]["status"]["enum"] == [
        "UNPAID",
        "PARTIALLY_PAID",
        "PAID",
        "OVERDUE",
        "CANCELLED",
    ]
    params = {p["name"] for p in doc["paths"]["/invoices"]["get"]["parameters"]}
    assert params == {"ids", "payment_reference", "client_ids", "status", "limit", "after"}
    permits = await get(http, "/permits/openapi.json")
    assert "Assignment" in permits["components"]["schemas"] and "Receipt" in permits["components"]["schemas"]


# -- documents ----------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_document_content_is_a_pdf_of_the_announced_size(http: httpx.AsyncClient) -> None:
    (group,) = (await get(http, f"/documents/documents?owner_ids={BALTIJAS_RADIO_CLIENT}&limit=100"))[
        "groups"
    ]
    kinds = {e["node"]["kind"] for e in group["edges"]}
    assert {"INVOICE", "PERMIT", "APPLICATION", "REPORT", "CORRESPONDENCE"} <= kinds
    for kind in sorted(kinds):
        node = next(e["node"] for e in group["edges"] if e["node"]["kind"] == kind)
        response = await http.get(f"/documents/documents/{node['id']}/content")
        assert response.status_code == 200
        assert response.headers["content-type"] == node["mime_type"]
        assert int(response.headers["content-length"]) == node["size_bytes"] == len(response.content)
        if node["mime_type"] == "application/pdf":
            assert response.content.startswith(b"%PDF") and response.content.rstrip().endswith(b"%%EOF")
    invoice_doc = (await get(http, "/billing/invoices/I100001"))["document_id"]
    assert (await get(http, f"/documents/documents/{invoice_doc}"))["invoice_id"] == "I100001"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body", [b'{"client_id": "\xff"}', b"[" * 5000 + b"]" * 5000], ids=["not-utf-8", "nested-5000-deep"]
)
async def test_a_body_or_cursor_that_does_not_decode_is_422(http: httpx.AsyncClient, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k-1"}
    for path in ("/billing/payment-sessions", "/billing/_faults"):
        response = await http.post(path, content=body, headers=headers)
        assert response.status_code == 422 and response.json()["error"] == "invalid_request", path
    cursor = base64.urlsafe_b64encode(body).decode().rstrip("=")
    await get(http, f"/billing/invoices?client_ids={JANIS_CLIENT}&after={cursor}", 422)
