"""The permit registry's and the document store's writes: applications with receipts, document uploads."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.app import SandboxSystems, build_sandbox
from sandbox.data import build_dataset
from sandbox.personas import JANIS_CLIENT
from tests.unit.sandbox_helpers import mounted_client, send

TODAY = date(2026, 3, 15)
JANIS_PERMIT = "P100001"
OTHERS_PERMIT = "P100003"  # Baltijas Radio's


@pytest.fixture
def systems() -> SandboxSystems:
    return build_sandbox(build_dataset(today=TODAY))


@pytest.fixture
async def http(systems: SandboxSystems) -> AsyncIterator[httpx.AsyncClient]:
    async with mounted_client(systems) as client:
        yield client


def submission(**changes: Any) -> dict[str, Any]:
    subject, body = "Jauna stacija", "Lūdzu izsniegt atļauju jaunai stacijai."
    receipt = {
        "number": "KV-2026-900001",
        "content_sha256": hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest(),
        "signed_at": "2026-03-15T10:00:02+02:00",
        "signature": "c2lnbmF0dXJl",
        "document_id": None,
    }
    result: dict[str, Any] = {
        "client_id": JANIS_CLIENT,
        "kind": "AMEND_PERMIT",
        "subject": subject,
        "body": body,
        "permit_id": JANIS_PERMIT,
        "submitted_by": "janis.berzins@example.lv",
        "receipt": receipt,
    }
    for name, value in changes.items():
        if name.startswith("receipt_"):
            receipt[name.removeprefix("receipt_")] = value
        else:
            result[name] = value
    return result


def upload(content: bytes = b"%PDF-1.7 receipt\n%%EOF\n", **changes: Any) -> dict[str, Any]:
    return {
        "owner_id": JANIS_CLIENT,
        "kind": "RECEIPT",
        "title": "Kvīts Nr. KV-2026-900001",
        "mime_type": "application/pdf",
        "content_base64": base64.b64encode(content).decode(),
        **changes,
    }


# -- permit registry ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_submit_an_application(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    created = (await send(http, "POST", "/permits/applications", submission(), key="a", status=201)).json()
    assert created["status"] == "SUBMITTED" and created["permit_id"] == JANIS_PERMIT
    assert created["receipt"]["number"] == "KV-2026-900001" and created["receipt"]["document_id"] is None
    assert datetime.fromisoformat(created["receipt"]["signed_at"]) == datetime(
        2026, 3, 15, 8, 0, 2, tzinfo=UTC
    )
    submitted = datetime.fromisoformat(created["submitted_at"])
    assert submitted.utcoffset() == timedelta(0) and before <= submitted <= datetime.now(UTC)
    (group,) = (await http.get(f"/permits/applications?client_ids={JANIS_CLIENT}&limit=1")).json()["groups"]
    assert group["edges"][0]["node"] == created  # newest first
    without_permit = submission(permit_id=None, kind="NEW_PERMIT")
    del without_permit["permit_id"]
    answer = await send(http, "POST", "/permits/applications", without_permit, key="b", status=201)
    assert answer.json()["permit_id"] is None


@pytest.mark.asyncio
async def test_twenty_concurrent_submissions_with_one_key_make_one_application(
    systems: SandboxSystems, http: httpx.AsyncClient
) -> None:
    # Latency holds every request in the middleware a while, so they reach the lock together.
    systems.permits_faults.latency_ms = 20
    before = len(systems.dataset.applications_of(JANIS_CLIENT))
    headers = {"Idempotency-Key": "submit-once"}
    answers = await asyncio.gather(
        *(http.post("/permits/applications", json=submission(), headers=headers) for _ in range(20))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    assert len(systems.dataset.applications_of(JANIS_CLIENT)) == before + 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (submission(kind="WISH"), "kind: unknown value"),
        (submission(subject="  "), "subject: must not be empty"),
        (submission(body=""), "body: must not be empty"),
        (submission(subject="x" * 201), "subject: at most 200 characters"),
        (submission(body="x" * 20001), "body: at most 20000 characters"),
        (submission(permit_id=OTHERS_PERMIT), f"permit_id: {OTHERS_PERMIT} is not a permit of client"),
        (submission(client_id="K0"), "client_id: unknown client"),
        (submission(receipt_content_sha256="abc"), "receipt.content_sha256: expected 64 hex digits"),
        (submission(receipt_signed_at="yesterday"), "receipt.signed_at: not an ISO 8601 date-time"),
        (submission(receipt_colour="blue"), "unknown field(s): receipt.colour"),
        (submission(receipt=None), "receipt must be a JSON object"),
        (submission(status="APPROVED"), "unknown field(s): status"),
    ],
)
@pytest.mark.asyncio
async def test_application_validation(http: httpx.AsyncClient, body: Any, detail: str) -> None:
    response = await send(http, "POST", "/permits/applications", body, key="v", status=422)
    assert detail in response.json()["detail"]


@pytest.mark.asyncio
async def test_attach_the_receipt_document(systems: SandboxSystems, http: httpx.AsyncClient) -> None:
    created = (await send(http, "POST", "/permits/applications", submission(), key="a", status=201)).json()
    url = f"/permits/applications/{created['id']}/receipt"
    attached = (await send(http, "PATCH", url, {"document_id": "D999"}, key="r", status=200)).json()
    assert attached["receipt"] == {**created["receipt"], "document_id": "D999"}
    assert (await http.get(f"/permits/applications?ids={created['id']}")).json()["items"] == [attached]
    await send(http, "PATCH", url, {"document_id": ""}, key="r2", status=422)
    await send(http, "PATCH", "/permits/applications/A0/receipt", {"document_id": "D1"}, key="r3", status=404)
    bare = systems.dataset.add_application(
        JANIS_CLIENT,
        "NEW_PERMIT",
        status="SUBMITTED",
        submitted_at=datetime(2026, 3, 1, tzinfo=UTC),
        submitted_by="x",
        with_receipt=False,
    )
    url = f"/permits/applications/{bare}/receipt"
    response = await send(http, "PATCH", url, {"document_id": "D1"}, key="r4", status=409)
    assert response.json()["error"] == "conflict"


# -- document store -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_upload_then_download_gives_the_same_bytes(http: httpx.AsyncClient) -> None:
    content = bytes(range(256)) * 1000
    body = upload(
        content, mime_type="application/octet-stream", kind="CORRESPONDENCE", permit_id=JANIS_PERMIT
    )
    created = (await send(http, "POST", "/documents/documents", body, key="d", status=201)).json()
    assert created["size_bytes"] == len(content) and created["permit_id"] == JANIS_PERMIT
    assert created["owner_id"] == JANIS_CLIENT and created["invoice_id"] is None
    downloaded = await http.get(f"/documents/documents/{created['id']}/content")
    assert downloaded.content == content
    assert downloaded.headers["content-type"] == "application/octet-stream"
    assert (await http.get(f"/documents/documents/{created['id']}")).json() == created
    (group,) = (await http.get(f"/documents/documents?owner_ids={JANIS_CLIENT}&limit=1")).json()["groups"]
    assert group["edges"][0]["node"] == created
    (group,) = (await http.get(f"/documents/documents?permit_ids={JANIS_PERMIT}")).json()["groups"]
    assert created in group["items"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (upload(content_base64="not base64!"), 422, "content_base64: not valid base64"),
        (upload(content_base64=""), 422, "content_base64: must be a non-empty base64 string"),
        (upload(b"x" * (10 * 1024 * 1024 + 1)), 413, "exceeds 10485760 bytes"),
        (upload(kind="SELFIE"), 422, "kind: unknown value"),
        (upload(mime_type="pdf"), 422, "mime_type: expected a media type"),
        (upload(title=""), 422, "title: must not be empty"),
        (upload(owner_id="K0"), 422, "owner_id: unknown client"),
        (upload(permit_id=OTHERS_PERMIT), 422, f"permit_id: {OTHERS_PERMIT} does not belong to owner"),
        (upload(invoice_id="I100004"), 422, "invoice_id: I100004 does not belong to owner"),
        (upload(size_bytes=3), 422, "unknown field(s): size_bytes"),
    ],
)
@pytest.mark.asyncio
async def test_upload_validation(http: httpx.AsyncClient, body: Any, status: int, detail: str) -> None:
    response = await send(http, "POST", "/documents/documents", body, key="v", status=status)
    assert response.json()["error"] == "invalid_request" and detail in response.json()["detail"]


@pytest.mark.asyncio
async def test_exactly_10_mib_is_accepted(http: httpx.AsyncClient) -> None:
    body = upload(b"\0" * (10 * 1024 * 1024), mime_type="application/octet-stream")
    created = (await send(http, "POST", "/documents/documents", body, key="big", status=201)).json()
    assert created["size_bytes"] == 10 * 1024 * 1024


# -- OpenAPI ------------------------------------------------------------------------------------------------

WRITES = {
    "billing": [
        ("patch", "/clients/{id}", "200"),
        ("post", "/payment-sessions", "201"),
        ("post", "/payment-sessions/{id}/complete", "200"),
        ("post", "/payment-sessions/{id}/cancel", "200"),
    ],
    "permits": [("post", "/applications", "201"), ("patch", "/applications/{id}/receipt", "200")],
    "documents": [("post", "/documents", "201")],
}


@pytest.mark.parametrize("system", sorted(WRITES))
@pytest.mark.asyncio
async def test_openapi_describes_the_writes(http: httpx.AsyncClient, system: str) -> None:
    doc = (await http.get(f"/{system}/openapi.json")).json()
    for method, path, ok in WRITES[system]:
        operation = doc["paths"][path][method]
        header = next(p for p in operation["parameters"] if p["in"] == "header")
        assert header["name"] == "Idempotency-Key" and header["required"] is True
        assert ok in operation["responses"] and "Idempotent-Replayed" in operation["responses"][ok]["headers"]
        assert {"422", "503"} <= set(operation["responses"])
        if not path.endswith(("/complete", "/cancel")):
            assert operation["requestBody"]["required"] is True
    if system == "billing":
        assert "PaymentSession" in doc["components"]["schemas"]
        assert "get" in doc["paths"]["/payment-sessions/{id}"]
        assert {p["name"] for p in doc["paths"]["/clients"]["get"]["parameters"]} == {"ids", "code"}
        assert doc["paths"]["/payment-sessions/{id}/complete"]["post"]["responses"].keys() >= {"404", "409"}
