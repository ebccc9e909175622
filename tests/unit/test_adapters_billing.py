"""HttpBilling against an in-memory billing system: record parsing, batches, grouped pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from adapters.billing.http import HttpBilling
from adapters.billing.port import BillingPort
from adapters.billing.records import ClientRecord, InvoiceLineRecord
from adapters.errors import UpstreamRejected, UpstreamUnavailable
from adapters.paging import Page
from tests.unit.adapter_fakes import (
    BALANCE,
    CLIENT,
    INVOICE,
    PAYMENT,
    PRICE_ITEM,
    FakeUpstream,
    Json,
    make_client,
    variant,
)

RIGA = timezone(timedelta(hours=2))


def billing(upstream: FakeUpstream) -> HttpBilling:
    adapter: BillingPort = HttpBilling(make_client(upstream))  # checked by mypy: the port is implemented
    assert isinstance(adapter, HttpBilling)
    return adapter


def invoices_of(client_id: str, count: int) -> list[Json]:
    return [variant(INVOICE, id=f"{client_id}-I{n}", client_id=client_id) for n in range(count)]


@pytest.mark.asyncio
async def test_clients_by_ids_parses_and_drops_unknown_ids() -> None:
    upstream = FakeUpstream({"/clients": [CLIENT, variant(CLIENT, id="K2", vat_number="LV4000")]})
    found = await billing(upstream).clients_by_ids(["K2", "missing", "K100001", "K2"])
    assert list(found) == ["K2", "K100001"]
    assert found["K100001"] == ClientRecord(
        id="K100001",
        kind="NATURAL_PERSON",
        name="Jānis Bērziņš",
        code="010190-12345",
        vat_number=None,
        address="Brīvības iela 1, Rīga",
        email="janis@example.lv",
        phone=None,
        billing_arrangement="INVOICE",
    )
    assert upstream.params() == {"ids": "K2,missing,K100001"}


@pytest.mark.asyncio
async def test_invoice_parsing_with_decimals_dates_and_lines() -> None:
    invoice = (await billing(FakeUpstream({"/invoices": [INVOICE]})).invoices_by_ids(["INV1"]))["INV1"]
    assert invoice.total == Decimal("36.85") and isinstance(invoice.outstanding, Decimal)
    assert invoice.issued_on == date(2026, 1, 15) and invoice.due_on == date(2026, 2, 14)
    assert invoice.lines == (
        InvoiceLineRecord(
            description="Annual fee",
            quantity=Decimal(1),
            unit_price=Decimal("30.45"),
            vat_rate=Decimal(21),
            vat_exemption_reason=None,
            total=Decimal("36.85"),
        ),
    )
    assert invoice.document_id == "D1" and invoice.permit_id is None


@pytest.mark.asyncio
async def test_payments_balances_and_price_list() -> None:
    upstream = FakeUpstream(
        {"/payments": [PAYMENT], "/balances": [BALANCE], "/price-list": [PRICE_ITEM]},
        item_routes=["/balances"],
    )
    adapter = billing(upstream)
    payment = (await adapter.payments_by_ids(["PAY1"]))["PAY1"]
    assert payment.amount == Decimal("10.00")
    assert payment.paid_at == datetime(2026, 1, 20, 10, 15, tzinfo=RIGA)
    balances = await adapter.balances(["K100001", "K9"])
    assert list(balances) == ["K100001"]
    assert balances["K100001"].credit == Decimal("5.00")
    assert balances["K100001"].as_of == datetime(2026, 2, 1, tzinfo=UTC)
    assert upstream.params() == {"client_ids": "K100001,K9"}
    (item,) = await adapter.price_list()
    assert item.price == Decimal("42.00") and item.vat_rate == Decimal(21)


@pytest.mark.asyncio
async def test_more_than_500_ids_are_split_into_concurrent_requests() -> None:
    ids = [f"K{n}" for n in range(1201)]
    upstream = FakeUpstream({"/clients": [variant(CLIENT, id=id_) for id_ in ids[::100]]})
    found = await billing(upstream).clients_by_ids(ids + ids[:10])
    assert [len(r.url.params["ids"].split(",")) for r in upstream.requests] == [500, 500, 201]
    assert list(found) == ids[::100]


@pytest.mark.asyncio
async def test_empty_batch_sends_nothing() -> None:
    upstream = FakeUpstream({})
    assert await billing(upstream).clients_by_ids([]) == {}
    assert await billing(upstream).invoice_pages([], status=None, limit=20, after=None) == {}
    assert upstream.requests == []


@pytest.mark.asyncio
async def test_invoice_pages_one_page_per_owner_in_order() -> None:
    upstream = FakeUpstream({"/invoices": invoices_of("K1", 3) + invoices_of("K2", 1)})
    pages = await billing(upstream).invoice_pages(["K2", "K3", "K1"], status="UNPAID", limit=2, after=None)
    assert list(pages) == ["K2", "K3", "K1"]
    assert pages["K3"] == Page.empty()
    k1 = pages["K1"]
    assert [i.id for i in k1.items] == ["K1-I0", "K1-I1"]
    assert k1.cursors == ("c:K1-I0", "c:K1-I1") and k1.total == 3 and k1.has_more
    assert not pages["K2"].has_more and pages["K2"].total == 1
    assert upstream.params() == {"client_ids": "K2,K3,K1", "status": "UNPAID", "limit": "2"}


@pytest.mark.asyncio
async def test_payment_pages_pass_the_cursor() -> None:
    payments = [variant(PAYMENT, id=f"PAY{n}") for n in range(3)]
    upstream = FakeUpstream({"/payments": payments})
    pages = await billing(upstream).payment_pages(["K100001"], limit=5, after="c:PAY0")
    assert [p.id for p in pages["K100001"].items] == ["PAY1", "PAY2"]
    assert upstream.params() == {"client_ids": "K100001", "limit": "5", "after": "c:PAY0"}


@pytest.mark.asyncio
async def test_agreements() -> None:
    agreements = [{"bank_id": "B1", "client_id": "K1"}, {"bank_id": "B1", "client_id": "K2"}]
    upstream = FakeUpstream({"/agreements": agreements})
    assert await billing(upstream).agreements("B1") == frozenset({"K1", "K2"})
    assert upstream.params() == {"bank_id": "B1"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "broken",
    [
        variant(INVOICE, total=True),
        variant(INVOICE, total="NaN"),
        variant(INVOICE, total="lots"),
        variant(INVOICE, issued_on="15.01.2026"),
        variant(INVOICE, lines=[{"description": "x"}]),
        {key: value for key, value in INVOICE.items() if key != "number"},
        variant(INVOICE, number=7),
    ],
)
async def test_malformed_records_are_unavailable(broken: Json) -> None:
    with pytest.raises(UpstreamUnavailable, match="malformed answer: InvoiceRecord"):
        await billing(FakeUpstream({"/invoices": [broken]})).invoices_by_ids(["INV1"])


@pytest.mark.asyncio
async def test_malformed_group_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"groups": [{"owner_id": "K1", "total": "3", "edges": []}]})

    adapter = HttpBilling(make_client(handler))
    with pytest.raises(UpstreamUnavailable, match=r"group\.total"):
        await adapter.payment_pages(["K1"], limit=1, after=None)


@pytest.mark.asyncio
async def test_bad_cursor_is_rejected_with_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": "invalid_request", "detail": "bad cursor"})

    with pytest.raises(UpstreamRejected, match="bad cursor"):
        await HttpBilling(make_client(handler)).payment_pages(["K1"], limit=1, after="zzz")
