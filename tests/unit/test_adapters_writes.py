"""The adapters' writes and lookups: against MockTransport fakes, then against the real sandbox over ASGI."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from adapters.billing.http import HttpBilling
from adapters.billing.port import BillingPort
from adapters.billing.records import PaymentSessionRecord
from adapters.documents.http import HttpDocuments
from adapters.documents.port import DocumentsPort
from adapters.errors import UpstreamConflict, UpstreamNotFound, UpstreamRejected, UpstreamUnavailable
from adapters.http import UpstreamClient
from adapters.permits.http import HttpPermits
from adapters.permits.port import PermitsPort
from adapters.permits.records import ReceiptRecord
from sandbox.app import SandboxSystems, build_sandbox
from sandbox.data import build_dataset
from sandbox.personas import JANIS_CLIENT
from tests.unit.adapter_fakes import (
    APPLICATION,
    CLIENT,
    DOCUMENT,
    INVOICE,
    PAYMENT_SESSION,
    FakeUpstream,
    FakeWrites,
    make_client,
    variant,
)

RECEIPT = ReceiptRecord(
    number="RC-1",
    content_sha256="ab" * 32,
    signed_at=datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC),
    signature="c2lnbmF0dXJl",
    document_id=None,
)


def billing(handler: FakeWrites | FakeUpstream) -> BillingPort:
    return HttpBilling(make_client(handler))


def permits(handler: FakeWrites) -> PermitsPort:
    return HttpPermits(make_client(handler, system="permits"))


def documents(handler: FakeWrites) -> DocumentsPort:
    return HttpDocuments(make_client(handler, system="documents"))


# -- against fakes ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_update_contact_sends_only_the_given_fields() -> None:
    fake = FakeWrites({("PATCH", "/clients/K%2F1"): (200, variant(CLIENT, phone="+37120000000"))})
    client = await billing(fake).update_contact(
        "K/1", email=None, phone="+37120000000", address=None, idempotency_key="key-1"
    )
    assert client.phone == "+37120000000"
    request = fake.requests[0]
    assert request.method == "PATCH" and fake.path() == "/clients/K%2F1"  # the id is quoted whole
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.headers["Content-Type"] == "application/json"
    assert fake.body() == {"phone": "+37120000000"}


@pytest.mark.asyncio
async def test_payment_sessions() -> None:
    fake = FakeWrites(
        {
            ("POST", "/payment-sessions"): (201, PAYMENT_SESSION),
            ("GET", "/payment-sessions/PS1"): (200, variant(PAYMENT_SESSION, status="COMPLETED")),
        }
    )
    adapter = billing(fake)
    session = await adapter.create_payment_session(
        "K100001", ("INV1",), return_url="https://portal.test/payments/done", idempotency_key="pay"
    )
    assert session == PaymentSessionRecord(
        id="PS1",
        client_id="K100001",
        invoice_ids=("INV1",),
        amount=Decimal("36.85"),
        currency="EUR",
        status="OPEN",
        redirect_url="http://upstream.test/sandbox/bank/pay/PS1",
        return_url="https://portal.test/payments/done",
        expires_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )
    assert fake.body() == {
        "client_id": "K100001",
        "invoice_ids": ["INV1"],
        "return_url": "https://portal.test/payments/done",
    }
    assert (await adapter.payment_session("PS1")).status == "COMPLETED"
    with pytest.raises(UpstreamNotFound):
        await adapter.payment_session("PS0")


@pytest.mark.asyncio
async def test_lookups_by_code_and_reference() -> None:
    upstream = FakeUpstream({"/clients": [], "/invoices": []})
    adapter = billing(upstream)
    assert await adapter.client_by_code("000000-00000") is None
    assert upstream.params() == {"code": "000000-00000"}
    assert await adapter.invoice_by_reference("RF00") is None
    assert upstream.params() == {"payment_reference": "RF00"}
    upstream.collections = {"/clients": [CLIENT], "/invoices": [INVOICE]}
    found = await adapter.client_by_code("010190-12345")
    assert found is not None and found.id == "K100001"
    invoice = await adapter.invoice_by_reference("RF18539007547034")
    assert invoice is not None and invoice.id == "INV1"


@pytest.mark.asyncio
async def test_create_application_sends_the_receipt() -> None:
    fake = FakeWrites({("POST", "/applications"): (201, APPLICATION)})
    application = await permits(fake).create_application(
        client_id="K200001",
        kind="NEW_PERMIT",
        subject="New FM station",
        body="Please issue a permit.",
        permit_id=None,
        submitted_by="U1",
        receipt=RECEIPT,
        idempotency_key="app-1",
    )
    assert application.id == "A1" and application.receipt is not None
    sent = fake.body()
    assert sent["permit_id"] is None and sent["kind"] == "NEW_PERMIT"
    assert sent["receipt"] == {
        "number": "RC-1",
        "content_sha256": "ab" * 32,
        "signed_at": "2026-03-01T12:00:01+00:00",
        "signature": "c2lnbmF0dXJl",
        "document_id": None,
    }
    assert fake.requests[0].headers["Idempotency-Key"] == "app-1"


@pytest.mark.asyncio
async def test_attach_receipt_document() -> None:
    receipt = {**APPLICATION["receipt"], "document_id": "D9"}
    fake = FakeWrites({("PATCH", "/applications/A1/receipt"): (200, variant(APPLICATION, receipt=receipt))})
    application = await permits(fake).attach_receipt_document("A1", "D9", idempotency_key="r")
    assert application.receipt is not None and application.receipt.document_id == "D9"
    assert fake.body() == {"document_id": "D9"} and fake.requests[0].method == "PATCH"


@pytest.mark.asyncio
async def test_create_document_sends_base64_and_only_given_links() -> None:
    fake = FakeWrites({("POST", "/documents"): (201, variant(DOCUMENT, size_bytes=3))})
    document = await documents(fake).create_document(
        owner_id="K100001",
        kind="RECEIPT",
        title="Receipt",
        mime_type="application/pdf",
        content=b"\x00\xffA",
        permit_id="P1",
        idempotency_key="doc",
    )
    assert document.size_bytes == 3
    assert fake.body() == {
        "owner_id": "K100001",
        "kind": "RECEIPT",
        "title": "Receipt",
        "mime_type": "application/pdf",
        "content_base64": base64.b64encode(b"\x00\xffA").decode(),
        "permit_id": "P1",
    }


@pytest.mark.parametrize(
    ("status", "error"),
    [(409, UpstreamConflict), (422, UpstreamRejected), (413, UpstreamRejected), (404, UpstreamNotFound)],
)
@pytest.mark.asyncio
async def test_write_errors_carry_the_detail(status: int, error: type[Exception]) -> None:
    answer = {"error": "x", "detail": f"refused with {status}"}
    fake = FakeWrites({("PATCH", "/clients/K1"): (status, answer)})
    with pytest.raises(error) as raised:
        await billing(fake).update_contact(
            "K1", email="a@b.lv", phone=None, address=None, idempotency_key="k"
        )
    assert getattr(raised.value, "detail", "") == f"refused with {status}"


@pytest.mark.asyncio
async def test_a_failed_write_is_not_retried() -> None:
    fake = FakeWrites({("POST", "/payment-sessions"): (503, {"error": "unavailable"})})
    with pytest.raises(UpstreamUnavailable):
        await billing(fake).create_payment_session(
            "K1", ["I1"], return_url="https://x.test", idempotency_key="k"
        )
    assert len(fake.requests) == 1


@pytest.mark.asyncio
async def test_a_malformed_write_answer_is_unavailable() -> None:
    fake = FakeWrites({("POST", "/payment-sessions"): (201, {"id": "PS1"})})
    with pytest.raises(UpstreamUnavailable, match="malformed"):
        await billing(fake).create_payment_session(
            "K1", ["I1"], return_url="https://x.test", idempotency_key="k"
        )


# -- against the sandbox ------------------------------------------------------------------------------------


@pytest.fixture
def systems() -> SandboxSystems:
    return build_sandbox(build_dataset(today=date(2026, 3, 15)))


@pytest.fixture
async def transport(systems: SandboxSystems) -> AsyncIterator[httpx.ASGITransport]:
    yield httpx.ASGITransport(app=Starlette(routes=systems.routes()))


def on_sandbox(transport: httpx.ASGITransport, system: str) -> UpstreamClient:
    return UpstreamClient(system, f"http://sandbox.test/{system}", transport=transport)


@pytest.mark.asyncio
async def test_pay_invoices_through_the_sandbox(
    systems: SandboxSystems, transport: httpx.ASGITransport
) -> None:
    async with on_sandbox(transport, "billing") as client:
        adapter = HttpBilling(client)
        janis = await adapter.client_by_code("140385-12341")
        assert janis is not None and janis.id == JANIS_CLIENT
        reference = systems.dataset.invoices["I100003"].payment_reference
        invoice = await adapter.invoice_by_reference(reference)
        assert invoice is not None and invoice.id == "I100003" and invoice.outstanding == Decimal("111.90")
        first = await adapter.create_payment_session(
            JANIS_CLIENT, ["I100003"], return_url="https://portal.test/r", idempotency_key="once"
        )
        # The retry a caller makes after a lost answer: same key, same session.
        again = await adapter.create_payment_session(
            JANIS_CLIENT, ["I100003"], return_url="https://portal.test/r", idempotency_key="once"
        )
        assert again == first and first.amount == Decimal("111.90")
        assert first.redirect_url == f"http://sandbox.test/bank/pay/{first.id}"
        with pytest.raises(UpstreamConflict):
            await adapter.create_payment_session(
                JANIS_CLIENT, ["I100002"], return_url="https://portal.test/r", idempotency_key="once"
            )
        with pytest.raises(UpstreamRejected, match="has nothing outstanding"):
            await adapter.create_payment_session(
                JANIS_CLIENT, ["I100001"], return_url="https://portal.test/r", idempotency_key="paid"
            )
        systems.dataset.complete_payment_session(first.id)  # what the bank does once paid
        assert (await adapter.payment_session(first.id)).status == "COMPLETED"
        assert (await adapter.invoices_by_ids(["I100003"]))["I100003"].status == "PAID"
        updated = await adapter.update_contact(
            JANIS_CLIENT, email=None, phone="+37129876543", address=None, idempotency_key="c"
        )
        assert updated.phone == "+37129876543" and updated.email == janis.email


@pytest.mark.asyncio
async def test_application_with_archived_receipt_through_the_sandbox(transport: httpx.ASGITransport) -> None:
    async with on_sandbox(transport, "permits") as p_client, on_sandbox(transport, "documents") as d_client:
        registry, store = HttpPermits(p_client), HttpDocuments(d_client)
        application = await registry.create_application(
            client_id=JANIS_CLIENT,
            kind="NEW_PERMIT",
            subject="Jauna stacija",
            body="Lūdzu izsniegt atļauju.",
            permit_id=None,
            submitted_by="janis.berzins@example.lv",
            receipt=RECEIPT,
            idempotency_key="app",
        )
        assert application.status == "SUBMITTED" and application.receipt == RECEIPT
        pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
        document = await store.create_document(
            owner_id=JANIS_CLIENT,
            kind="RECEIPT",
            title="Kvīts Nr. RC-1",
            mime_type="application/pdf",
            content=pdf,
            application_id=application.id,
            idempotency_key="doc",
        )
        assert document.size_bytes == len(pdf)
        attached = await registry.attach_receipt_document(application.id, document.id, idempotency_key="att")
        assert attached.receipt is not None and attached.receipt.document_id == document.id
        stream = await store.open_content(document.id)
        try:
            downloaded = b"".join([chunk async for chunk in stream.chunks])
        finally:
            await stream.aclose()
        assert downloaded == pdf and stream.media_type == "application/pdf"
        with pytest.raises(UpstreamRejected, match="kind: unknown value"):
            await registry.create_application(
                client_id=JANIS_CLIENT,
                kind="WISH",
                subject="s",
                body="b",
                permit_id=None,
                submitted_by="x",
                receipt=RECEIPT,
                idempotency_key="bad",
            )
