"""The typed reading of batch answers (adapters/parse.py) builds what JSON and ``decode`` do, or refuses."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from adapters.billing.http import HttpBilling
from adapters.billing.records import BalanceRecord, ClientRecord, InvoiceRecord, PaymentRecord
from adapters.documents.records import DocumentRecord
from adapters.errors import UpstreamUnavailable
from adapters.paging import Page
from adapters.parse import (
    Refused,
    group_items_of,
    groups_of,
    items_of,
    owner_of,
    page_of,
    typed_groups,
    typed_items,
    typed_pages,
)
from adapters.permits.records import ApplicationRecord, PermitRecord, StationRecord
from tests.unit.adapter_fakes import (
    APPLICATION,
    BALANCE,
    CLIENT,
    DOCUMENT,
    INVOICE,
    PAYMENT,
    PERMIT,
    STATION,
    Json,
    make_client,
    variant,
)

SAMPLES: list[tuple[type[Any], Json]] = [
    (ClientRecord, CLIENT),
    (InvoiceRecord, INVOICE),
    (PaymentRecord, PAYMENT),
    (BalanceRecord, BALANCE),
    (PermitRecord, PERMIT),
    (StationRecord, STATION),
    (ApplicationRecord, APPLICATION),
    (DocumentRecord, DOCUMENT),
]


def items_answer(*records: Json) -> bytes:
    return orjson.dumps({"items": list(records), "unknown": "ignored"})


def pages_answer(owner: str, *records: Json) -> bytes:
    edges = [{"cursor": f"c{n}", "node": record} for n, record in enumerate(records)]
    return orjson.dumps({"groups": [{"owner_id": owner, "total": 7, "has_more": True, "edges": edges}]})


def groups_answer(owner: str, *records: Json) -> bytes:
    return orjson.dumps({"groups": [{"owner_id": owner, "items": list(records)}]})


@pytest.mark.parametrize(("record", "sample"), SAMPLES, ids=[r.__name__ for r, _ in SAMPLES])
def test_every_record_reads_the_same_as_json_and_decode(record: type[Any], sample: Json) -> None:
    # a field left out where it may be null, and one the record does not know, as the systems may send
    added = items_answer(sample | {"added_later": [1, 2]})  # a field the record does not know is ignored
    assert typed_items(added, record) == tuple(items_of(orjson.loads(added), record))
    assert typed_items(items_answer(sample), record) == tuple(
        items_of(orjson.loads(items_answer(sample)), record)
    )
    # Fields left out where they may be null: refused (no default), or read the same as the JSON way.
    sparse = items_answer({key: value for key, value in sample.items() if value is not None})
    with contextlib.suppress(Refused):
        assert typed_items(sparse, record) == tuple(items_of(orjson.loads(sparse), record))
    paged = pages_answer("O1", sample, sample)
    expected = [(owner_of(g), page_of(g, record)) for g in groups_of(orjson.loads(paged))]
    assert typed_pages(paged, record) == expected
    assert expected[0][1] == Page(items=expected[0][1].items, cursors=("c0", "c1"), total=7, has_more=True)
    grouped = groups_answer("O1", sample)
    assert typed_groups(grouped, record) == [
        (owner_of(g), group_items_of(g, record)) for g in groups_of(orjson.loads(grouped))
    ]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (items_answer(variant(INVOICE, total="NaN")), "a decimal that is not finite"),
        (items_answer(variant(INVOICE, lines=[dict(INVOICE["lines"][0], total="Infinity")])), "nested, too"),
        (
            items_answer(variant(PAYMENT, paid_at="2026-01-15T09:00:00")),
            "a time without offset (decode: UTC)",
        ),
        (items_answer(variant(INVOICE, issued_on="20260115")), "a date form fromisoformat reads"),
        (items_answer(variant(INVOICE, total=True)), "a boolean for a decimal"),
        (items_answer(variant(INVOICE, number=7)), "a number for a string"),
        (orjson.dumps({"items": "none"}), "not a list"),
        (b"<html>", "not JSON"),
        (b"", "empty"),
    ],
)
def test_what_the_typed_reading_refuses(answer: bytes, why: str) -> None:
    record = PaymentRecord if b"paid_at" in answer else InvoiceRecord
    with pytest.raises(Refused):
        typed_items(answer, record)


def test_a_group_count_must_be_a_count() -> None:
    body = orjson.dumps({"groups": [{"owner_id": "K1", "total": -1, "has_more": False, "edges": []}]})
    with pytest.raises(Refused):
        typed_pages(body, InvoiceRecord)


def test_a_json_number_keeps_its_digits() -> None:
    # The one documented difference: decode reads a JSON number through a float.
    body = (
        b'{"items": ['
        + orjson.dumps(variant(INVOICE, total="0")).replace(b'"total":"0"', b'"total":1.10')
        + b"]}"
    )
    assert (
        typed_items(body, InvoiceRecord)[0].total
        == Decimal("1.10")
        == items_of(orjson.loads(body), InvoiceRecord)[0].total
    )
    assert str(typed_items(body, InvoiceRecord)[0].total) == "1.10"


@pytest.mark.asyncio
async def test_through_the_adapter_a_refused_answer_is_decoded_the_json_way() -> None:
    answers = {
        "INV1": variant(INVOICE, id="INV1"),
        "INV2": variant(PAYMENT),  # not an invoice at all: named as before
    }

    def handler(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params["ids"].split(",")
        return httpx.Response(200, json={"items": [answers[i] for i in wanted]})

    adapter = HttpBilling(make_client(handler))
    assert (await adapter.invoices_by_ids(["INV1"]))["INV1"].total == Decimal("36.85")
    with pytest.raises(UpstreamUnavailable, match="malformed answer: InvoiceRecord"):
        await adapter.invoices_by_ids(["INV2"])


@pytest.mark.asyncio
async def test_a_time_without_offset_still_becomes_utc() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [variant(PAYMENT, paid_at="2026-01-15T09:00:00")]})

    payment = (await HttpBilling(make_client(handler)).payments_by_ids([PAYMENT["id"]]))[PAYMENT["id"]]
    assert payment.paid_at == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.mark.asyncio
async def test_an_answer_that_is_not_json_opens_the_breaker_as_before() -> None:
    client = make_client(lambda request: httpx.Response(200, content=b"<html>"))
    adapter = HttpBilling(client)
    for _ in range(client.breaker.failure_threshold):
        with pytest.raises(UpstreamUnavailable, match="invalid JSON"):
            await adapter.invoices_by_ids(["INV1"])
    assert client.breaker.state == "open"
