"""The sandbox systems' writes: idempotency keys, billing contact changes and payment sessions, lookups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.app import SandboxSystems, build_sandbox
from sandbox.common import Faults, build_system_app
from sandbox.data import build_dataset
from sandbox.idempotency import write_route
from sandbox.personas import BALTIJAS_RADIO_CLIENT, ILZE_CLIENT, JANIS_CLIENT
from tests.unit.sandbox_helpers import mounted_client, send

TODAY = date(2026, 3, 15)
JANIS_OPEN = ("I100002", "I100003")  # OVERDUE 56.92 and UNPAID 111.90
RETURN_URL = "https://portal.test/payments/done"


@pytest.fixture
def systems() -> SandboxSystems:
    return build_sandbox(build_dataset(today=TODAY))


@pytest.fixture
async def http(systems: SandboxSystems) -> AsyncIterator[httpx.AsyncClient]:
    async with mounted_client(systems) as client:
        yield client


def session_body(client_id: str = JANIS_CLIENT, invoice_ids: Any = JANIS_OPEN, **extra: Any) -> Any:
    return {"client_id": client_id, "invoice_ids": list(invoice_ids), "return_url": RETURN_URL, **extra}


# -- idempotency --------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_write_without_a_key_is_422(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    url = f"/billing/clients/{JANIS_CLIENT}"
    response = await send(http, "PATCH", url, {"phone": "+37129999999"}, key=None, status=422)
    assert response.json()["error"] == "invalid_request" and "Idempotency-Key" in response.json()["detail"]
    await send(http, "PATCH", url, {"phone": "+37129999999"}, key="  ", status=422)
    assert systems.dataset.clients[JANIS_CLIENT].phone != "+37129999999"


@pytest.mark.asyncio
async def test_same_key_and_body_replays_the_first_answer(
    systems: SandboxSystems, http: httpx.AsyncClient
) -> None:
    url = "/billing/payment-sessions"
    first = await send(http, "POST", url, session_body(), key="pay-1", status=201)
    assert "Idempotent-Replayed" not in first.headers
    # The same data with the keys in another order is the same request (canonical JSON).
    reordered = dict(reversed(list(session_body().items())))
    again = await send(http, "POST", url, reordered, key="pay-1", status=201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and len(systems.dataset.payment_sessions) == 1
    stats = (await http.get("/billing/_stats")).json()
    assert stats["by_route"]["POST /payment-sessions"] == 2  # writes and replays are counted like reads


@pytest.mark.asyncio
async def test_same_key_with_another_request_is_409(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    await send(
        http, "PATCH", f"/billing/clients/{JANIS_CLIENT}", {"phone": "+37120000001"}, key="k", status=200
    )
    for url, body in [
        (f"/billing/clients/{JANIS_CLIENT}", {"phone": "+37120000002"}),  # other body
        (f"/billing/clients/{ILZE_CLIENT}", {"phone": "+37120000001"}),  # same body, other client
    ]:
        response = await send(http, "PATCH", url, body, key="k", status=409)
        assert response.json() == {
            "error": "conflict",
            "detail": "Idempotency-Key 'k' was already used with another request",
        }
    assert systems.dataset.clients[ILZE_CLIENT].phone != "+37120000001"
    # Keys are scoped per route and per system: the same key elsewhere is a new write.
    await send(http, "POST", "/billing/payment-sessions", session_body(), key="k", status=201)
    await send(http, "PATCH", "/permits/applications/A0/receipt", {"document_id": "D1"}, key="k", status=404)


@pytest.mark.asyncio
async def test_an_error_does_not_use_the_key_up(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    url = f"/billing/clients/{JANIS_CLIENT}"
    await send(http, "PATCH", url, {"phone": "12345"}, key="fix-me", status=422)
    await send(http, "PATCH", url, {"phone": "+37112345678"}, key="fix-me", status=200)
    systems.billing_faults.down = True
    await send(http, "POST", "/billing/payment-sessions", session_body(), key="retry", status=503)
    assert systems.dataset.payment_sessions == {}
    systems.billing_faults.down = False
    created = await send(http, "POST", "/billing/payment-sessions", session_body(), key="retry", status=201)
    assert "Idempotent-Replayed" not in created.headers
    again = await send(http, "POST", "/billing/payment-sessions", session_body(), key="retry", status=201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == created.json()["id"]


@pytest.mark.asyncio
async def test_concurrent_requests_with_one_key_make_one_write() -> None:
    calls = 0

    async def slow_write(request: Request) -> Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)  # long enough for every other request to arrive meanwhile
        return JSONResponse({"call": calls, "body": await request.json()}, status_code=201)

    app = build_system_app([write_route("/things", slow_write)], faults=Faults(), openapi={})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answers = await asyncio.gather(
            *(client.post("/things", json={"n": 1}, headers={"Idempotency-Key": "same"}) for _ in range(20))
        )
    assert calls == 1
    assert {a.status_code for a in answers} == {201} and {a.text for a in answers} == {answers[0].text}
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19


def test_every_system_write_must_be_idempotent() -> None:
    async def write(_: Request) -> Response:
        return Response(status_code=204)

    with pytest.raises(ValueError, match="write_route"):
        build_system_app([Route("/things", write, methods=["POST"])], faults=Faults(), openapi={})
    with pytest.raises(ValueError, match="not a write method"):
        write_route("/things", write, "GET")


# -- billing: contact details -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_update_contact(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    before = systems.dataset.clients[JANIS_CLIENT]
    body = {"email": "janis@example.com", "address": "Rīgas iela 1, Cēsis, LV-4101"}
    answer = (
        await send(http, "PATCH", f"/billing/clients/{JANIS_CLIENT}", body, key="c1", status=200)
    ).json()
    assert answer["email"] == "janis@example.com" and answer["address"] == body["address"]
    assert answer["phone"] == before.phone and answer["name"] == before.name
    assert (await http.get(f"/billing/clients/{JANIS_CLIENT}")).json() == answer


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"email": "not-an-address"}, "email: expected an e-mail address"),
        ({"email": "a@b"}, "email"),
        ({"phone": "+3712345"}, "phone: expected an E.164 number"),
        ({"phone": "37120000000"}, "phone"),
        ({"phone": "+3712000000000000"}, "phone"),
        ({"address": ""}, "address: must not be empty"),
        ({"address": "x" * 201}, "address: at most 200 characters"),
        ({"email": None}, "email: must be a string"),
        ({"name": "Someone Else"}, "unknown field(s): name"),
        ({}, "give at least one of"),
        ([], "body must be a JSON object"),
    ],
)
@pytest.mark.asyncio
async def test_contact_validation(http: httpx.AsyncClient, body: Any, detail: str) -> None:
    response = await send(http, "PATCH", f"/billing/clients/{JANIS_CLIENT}", body, key="v", status=422)
    assert detail in response.json()["detail"]


@pytest.mark.asyncio
async def test_contact_of_an_unknown_client_is_404(http: httpx.AsyncClient) -> None:
    response = await send(
        http, "PATCH", "/billing/clients/K0", {"phone": "+37120000000"}, key="x", status=404
    )
    assert response.json()["error"] == "not_found"


# -- billing: payment sessions ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_payment_session_completion_pays_the_invoices(
    systems: SandboxSystems, http: httpx.AsyncClient
) -> None:
    ds = systems.dataset
    balance_before = ds.balance(JANIS_CLIENT)
    assert balance_before is not None and balance_before.outstanding == Decimal("168.82")
    session = (
        await send(http, "POST", "/billing/payment-sessions", session_body(), key="s", status=201)
    ).json()
    assert session["status"] == "OPEN" and session["amount"] == "168.82" and session["currency"] == "EUR"
    assert session["invoice_ids"] == list(JANIS_OPEN) and session["return_url"] == RETURN_URL
    assert session["redirect_url"] == f"http://gw.test/sandbox/bank/pay/{session['id']}"
    created = datetime.fromisoformat(session["created_at"])
    assert datetime.fromisoformat(session["expires_at"]) - created == timedelta(minutes=30)
    assert (await http.get(f"/billing/payment-sessions/{session['id']}")).json() == session

    url = f"/billing/payment-sessions/{session['id']}/complete"
    done = (await send(http, "POST", url, None, key="done", status=200)).json()
    assert done["status"] == "COMPLETED"
    for invoice_id in JANIS_OPEN:
        invoice = (await http.get(f"/billing/invoices/{invoice_id}")).json()
        assert invoice["status"] == "PAID" and invoice["outstanding"] == "0.00"
    balance = (await http.get(f"/billing/balances?client_ids={JANIS_CLIENT}")).json()["items"][0]
    assert balance["outstanding"] == "0.00" and balance["overdue"] == "0.00"
    page = (await http.get(f"/billing/payments?client_ids={JANIS_CLIENT}&limit=2")).json()["groups"][0]
    newest = [edge["node"] for edge in page["edges"]]
    assert {(p["amount"], p["method"]) for p in newest} == {
        ("56.92", "BANK_TRANSFER"),
        ("111.90", "BANK_TRANSFER"),
    }
    assert {p["reference"] for p in newest} == {ds.invoices[i].payment_reference for i in JANIS_OPEN}

    # Completing again (another key) changes nothing; cancelling a completed session is a conflict.
    payments = len(ds.payments)
    assert (await send(http, "POST", url, {}, key="done-2", status=200)).json() == done
    assert len(ds.payments) == payments
    cancel = f"/billing/payment-sessions/{session['id']}/cancel"
    assert (await send(http, "POST", cancel, None, key="c", status=409)).json()["error"] == "conflict"


@pytest.mark.asyncio
async def test_expired_and_cancelled_sessions_cannot_complete(
    systems: SandboxSystems, http: httpx.AsyncClient
) -> None:
    now = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    systems.dataset.clock = lambda: now
    first = (
        await send(http, "POST", "/billing/payment-sessions", session_body(), key="1", status=201)
    ).json()
    second = (
        await send(http, "POST", "/billing/payment-sessions", session_body(), key="2", status=201)
    ).json()
    cancelled = await send(
        http, "POST", f"/billing/payment-sessions/{second['id']}/cancel", None, key="c", status=200
    )
    assert cancelled.json()["status"] == "CANCELLED"
    await send(http, "POST", f"/billing/payment-sessions/{second['id']}/cancel", None, key="c2", status=200)
    await send(http, "POST", f"/billing/payment-sessions/{second['id']}/complete", None, key="x", status=409)
    now += timedelta(minutes=30)
    assert (await http.get(f"/billing/payment-sessions/{first['id']}")).json()["status"] == "EXPIRED"
    response = await send(
        http, "POST", f"/billing/payment-sessions/{first['id']}/complete", None, key="y", status=409
    )
    assert "EXPIRED" in response.json()["detail"]
    assert systems.dataset.invoices["I100003"].status == "UNPAID"
    await send(http, "POST", "/billing/payment-sessions/PS0/complete", None, key="z", status=404)
    assert (await http.get("/billing/payment-sessions/PS0")).status_code == 404


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (session_body(invoice_ids=["I100003", "I100004"]), "I100004 is not an invoice of client K100001"),
        (session_body(invoice_ids=["I100001"]), "invoice I100001 has nothing outstanding"),
        (session_body(invoice_ids=["I0"]), "I0 is not an invoice"),
        (session_body(invoice_ids=[]), "invoice_ids: must not be empty"),
        (session_body(invoice_ids=["I100003", "I100003"]), "invoice_ids: an id is repeated"),
        (session_body(client_id="K0"), "client_id: unknown client"),
        (session_body(return_url="javascript:alert(1)"), "return_url: expected an http(s) URL"),
        (session_body(amount="1.00"), "unknown field(s): amount"),
        ({"client_id": JANIS_CLIENT}, "missing field(s): invoice_ids, return_url"),
    ],
)
@pytest.mark.asyncio
async def test_payment_session_validation(http: httpx.AsyncClient, body: Any, detail: str) -> None:
    response = await send(http, "POST", "/billing/payment-sessions", body, key="v", status=422)
    assert detail in response.json()["detail"]


@pytest.mark.asyncio
async def test_redirect_url_follows_the_mount_point(systems: SandboxSystems) -> None:
    app = Starlette(routes=systems.routes())  # `gateway sandbox`: the systems at the root
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bank.test"
    ) as client:
        response = await client.post(
            "/billing/payment-sessions", json=session_body(), headers={"Idempotency-Key": "r"}
        )
    assert response.json()["redirect_url"] == f"https://bank.test/bank/pay/{response.json()['id']}"


# -- billing: lookups for the bank --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_client_by_code_and_invoice_by_reference(
    systems: SandboxSystems, http: httpx.AsyncClient
) -> None:
    for code in ("140385-12341", "14038512341"):
        items = (await http.get(f"/billing/clients?code={code}")).json()["items"]
        assert [c["id"] for c in items] == [JANIS_CLIENT]
    baltijas = systems.dataset.clients[BALTIJAS_RADIO_CLIENT]
    items = (await http.get(f"/billing/clients?code={baltijas.code}")).json()["items"]
    assert [c["id"] for c in items] == [BALTIJAS_RADIO_CLIENT]
    assert (await http.get("/billing/clients?code=000000-00000")).json() == {"items": []}
    reference = systems.dataset.invoices["I100003"].payment_reference
    items = (await http.get(f"/billing/invoices?payment_reference={reference}")).json()["items"]
    assert [i["id"] for i in items] == ["I100003"]
    assert (await http.get("/billing/invoices?payment_reference=RF00")).json() == {"items": []}
    assert (await http.get(f"/billing/clients?code=x&ids={JANIS_CLIENT}")).status_code == 422
