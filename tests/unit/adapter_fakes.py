"""Fakes for the adapter tests: sample JSON of every record, an in-memory upstream behind MockTransport."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import httpx

from adapters.http import DEFAULT_TIMEOUTS, CircuitBreaker, RetryPolicy, Timeouts, UpstreamClient

BASE_URL = "http://upstream.test/sandbox/system"
PREFIX = "/sandbox/system"

Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)
Json = dict[str, Any]


async def no_sleep(_seconds: float) -> None:
    """Backoff that does not wait, so retry tests run instantly."""


FAST_RETRY = RetryPolicy(base_delay=0.0, sleep=no_sleep)


def make_client(
    handler: Handler,
    *,
    retry: RetryPolicy = FAST_RETRY,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    breaker: CircuitBreaker | None = None,
    system: str = "billing",
) -> UpstreamClient:
    """An ``UpstreamClient`` whose requests go to ``handler``."""
    return UpstreamClient(
        system,
        BASE_URL,
        transport=httpx.MockTransport(handler),
        retry=retry,
        timeouts=timeouts,
        breaker=breaker,
    )


CLIENT: Json = {
    "id": "K100001",
    "kind": "NATURAL_PERSON",
    "name": "Jānis Bērziņš",
    "code": "010190-12345",
    "vat_number": None,
    "address": "Brīvības iela 1, Rīga",
    "email": "janis@example.lv",
    "phone": None,
    "billing_arrangement": "INVOICE",
}
INVOICE: Json = {
    "id": "INV1",
    "client_id": "K100001",
    "number": "R-2026-0001",
    "issued_on": "2026-01-15",
    "due_on": "2026-02-14",
    "currency": "EUR",
    "total": "36.85",
    "outstanding": "36.85",
    "status": "UNPAID",
    "payment_reference": "RF18539007547034",
    "lines": [
        {
            "description": "Annual fee",
            "quantity": "1",
            "unit_price": "30.45",
            "vat_rate": "21",
            "vat_exemption_reason": None,
            "total": "36.85",
        }
    ],
    "document_id": "D1",
    "permit_id": None,
}
PAYMENT: Json = {
    "id": "PAY1",
    "client_id": "K100001",
    "amount": "10.00",
    "currency": "EUR",
    "paid_at": "2026-01-20T10:15:00+02:00",
    "method": "CARD",
    "reference": None,
}
BALANCE: Json = {
    "client_id": "K100001",
    "currency": "EUR",
    "outstanding": "36.85",
    "overdue": "0.00",
    "credit": "5.00",
    "as_of": "2026-02-01T00:00:00+00:00",
}
PRICE_ITEM: Json = {
    "code": "LM-1",
    "description": "Land mobile station",
    "unit": "station/year",
    "price": "42.00",
    "currency": "EUR",
    "vat_rate": "21",
}
PERMIT: Json = {
    "id": "P1",
    "holder_id": "K200001",
    "number": "AT-0001",
    "service_type": "BROADCASTING",
    "status": "VALID",
    "issued_on": "2025-01-02",
    "valid_from": "2025-01-03",
    "valid_until": None,
}
STATION: Json = {
    "id": "S1",
    "permit_id": "P1",
    "name": "Rīga TV tower",
    "call_sign": None,
    "station_class": "BC",
    "latitude": 56.92,
    "longitude": 24.13,
    "address": None,
    "antenna_height_m": 368,
    "azimuth_deg": None,
    "polarization": "H",
    "assignments": [
        {
            "frequency_mhz": "99.5",
            "bandwidth_khz": "200",
            "emission_designator": "200KF8EHF",
            "power_w": "10000",
            "erp_dbw": None,
            "direction": "TX",
        }
    ],
}
APPLICATION: Json = {
    "id": "A1",
    "client_id": "K200001",
    "kind": "NEW_PERMIT",
    "subject": "New FM station",
    "body": "Please issue a permit.",
    "status": "SUBMITTED",
    "submitted_at": "2026-03-01T12:00:00Z",
    "submitted_by": "U1",
    "permit_id": None,
    "receipt": {
        "number": "RC-1",
        "content_sha256": "ab" * 32,
        "signed_at": "2026-03-01T12:00:01+00:00",
        "signature": "c2lnbmF0dXJl",
        "document_id": None,
    },
}
DOCUMENT: Json = {
    "id": "D1",
    "owner_id": "K100001",
    "kind": "INVOICE",
    "title": "Invoice R-2026-0001",
    "mime_type": "application/pdf",
    "size_bytes": 1234,
    "created_at": "2026-01-15T09:00:00+02:00",
    "permit_id": "P1",
    "invoice_id": "INV1",
}
PAYMENT_SESSION: Json = {
    "id": "PS1",
    "client_id": "K100001",
    "invoice_ids": ["INV1"],
    "amount": "36.85",
    "currency": "EUR",
    "status": "OPEN",
    "redirect_url": "http://upstream.test/sandbox/bank/pay/PS1",
    "return_url": "https://portal.test/payments/done",
    "expires_at": "2026-03-01T12:30:00+00:00",
    "created_at": "2026-03-01T12:00:00+00:00",
}

# Which record field a list-by-owner parameter selects on.
OWNER_FIELDS = {
    "client_ids": "client_id",
    "holder_ids": "holder_id",
    "owner_ids": "owner_id",
    "permit_ids": "permit_id",
}


def variant(sample: Json, **changes: Any) -> Json:
    """A deep copy of ``sample`` with some fields changed."""
    result = copy.deepcopy(sample)
    result.update(changes)
    return result


class FakeUpstream:
    """Serves batch reads, grouped pages and unpaged groups from in-memory records, as the spec describes.

    ``collections`` maps a path (``/invoices``) to its records; ``batch_key`` names the field ``?ids=`` (or
    ``?client_ids=`` on an ``{"items"}`` route such as ``/balances``) matches. Every request is logged.
    """

    def __init__(self, collections: dict[str, Sequence[Json]], *, item_routes: Sequence[str] = ()) -> None:
        self.collections = collections
        self.item_routes = set(item_routes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix(PREFIX)
        records = list(self.collections.get(path, ()))
        params = request.url.params
        if path in self.item_routes:
            return self._items(records, params.get("client_ids", ""), "client_id")
        if "ids" in params:
            return self._items(records, params["ids"], "id")
        for param, field in OWNER_FIELDS.items():
            if param in params:
                owners = params[param].split(",")
                if param == "permit_ids":
                    groups = [{"owner_id": o, "items": [r for r in records if r[field] == o]} for o in owners]
                else:
                    groups = [self._page(o, [r for r in records if r[field] == o], params) for o in owners]
                return httpx.Response(200, json={"groups": groups})
        return httpx.Response(200, json={"items": records})

    def params(self, index: int = -1) -> dict[str, str]:
        """The query parameters of a logged request."""
        return dict(self.requests[index].url.params)

    @staticmethod
    def _items(records: list[Json], ids: str, key: str) -> httpx.Response:
        wanted = ids.split(",")
        if len(wanted) > 500:
            return httpx.Response(422, json={"error": "invalid_request", "detail": "too many ids"})
        # Reversed: the spec allows any order, so the adapter must not rely on it.
        return httpx.Response(200, json={"items": [r for r in reversed(records) if r[key] in wanted]})

    @staticmethod
    def _page(owner: str, records: list[Json], params: httpx.QueryParams) -> Json:
        limit = int(params.get("limit", "20"))
        after = params.get("after")
        start = next((i + 1 for i, r in enumerate(records) if f"c:{r['id']}" == after), 0)
        chunk = records[start : start + limit]
        return {
            "owner_id": owner,
            "total": len(records),
            "has_more": start + limit < len(records),
            "edges": [{"cursor": f"c:{r['id']}", "node": r} for r in chunk],
        }


class FakeWrites:
    """Answers writes (and single reads) with canned ``(status, json)`` per ``(method, raw path)``, logging
    them. Unknown routes answer 404 like the systems do.
    """

    def __init__(self, answers: dict[tuple[str, str], tuple[int, Any]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, self.path())
        status, body = self.answers.get(key, (404, {"error": "not_found", "detail": "no such path"}))
        return httpx.Response(status, json=body)

    def body(self, index: int = -1) -> Any:
        """The decoded JSON body of a logged request."""
        return json.loads(self.requests[index].content)

    def path(self, index: int = -1) -> str:
        """The raw path of a logged request below the system's base URL (percent-escapes kept, no query)."""
        return self.requests[index].url.raw_path.decode().split("?")[0].removeprefix(PREFIX)
