"""HttpPermits against an in-memory permit registry: permits, stations with assignments, applications."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.permits.http import HttpPermits
from adapters.permits.port import PermitsPort
from adapters.permits.records import AssignmentRecord, ReceiptRecord
from tests.unit.adapter_fakes import APPLICATION, PERMIT, STATION, FakeUpstream, make_client, variant


def permits(upstream: FakeUpstream) -> HttpPermits:
    adapter: PermitsPort = HttpPermits(make_client(upstream, system="permits"))
    assert isinstance(adapter, HttpPermits)
    return adapter


@pytest.mark.asyncio
async def test_permits_by_ids() -> None:
    upstream = FakeUpstream({"/permits": [PERMIT, variant(PERMIT, id="P2", valid_until="2030-12-31")]})
    found = await permits(upstream).permits_by_ids(["P2", "P1", "P404"])
    assert list(found) == ["P2", "P1"]
    assert found["P1"].issued_on == date(2025, 1, 2) and found["P1"].valid_until is None
    assert found["P2"].valid_until == date(2030, 12, 31)


@pytest.mark.asyncio
async def test_permit_pages_with_filters() -> None:
    upstream = FakeUpstream({"/permits": [PERMIT, variant(PERMIT, id="P2")]})
    pages = await permits(upstream).permit_pages(
        ["K200001", "K1"], status="VALID", service_type=None, limit=1, after=None
    )
    assert [p.id for p in pages["K200001"].items] == ["P1"] and pages["K200001"].has_more
    assert pages["K1"].items == () and pages["K1"].total == 0
    assert upstream.params() == {"holder_ids": "K200001,K1", "status": "VALID", "limit": "1"}


@pytest.mark.asyncio
async def test_station_with_assignments_and_numbers() -> None:
    station = (await permits(FakeUpstream({"/stations": [STATION]})).stations_by_ids(["S1"]))["S1"]
    assert station.latitude == 56.92 and station.call_sign is None
    assert station.antenna_height_m == 368.0 and isinstance(station.antenna_height_m, float)
    assert station.assignments == (
        AssignmentRecord(
            frequency_mhz=Decimal("99.5"),
            bandwidth_khz=Decimal(200),
            emission_designator="200KF8EHF",
            power_w=Decimal(10000),
            erp_dbw=None,
            direction="TX",
        ),
    )


@pytest.mark.asyncio
async def test_stations_by_permit_ids_one_entry_per_permit() -> None:
    stations = [STATION, variant(STATION, id="S2"), variant(STATION, id="S3", permit_id="P3")]
    upstream = FakeUpstream({"/stations": stations})
    groups = await permits(upstream).stations_by_permit_ids(["P3", "P2", "P1"])
    assert list(groups) == ["P3", "P2", "P1"]
    assert [s.id for s in groups["P1"]] == ["S1", "S2"]
    assert groups["P2"] == ()
    assert upstream.params() == {"permit_ids": "P3,P2,P1"}


@pytest.mark.asyncio
async def test_applications_with_and_without_receipt() -> None:
    upstream = FakeUpstream({"/applications": [APPLICATION, variant(APPLICATION, id="A2", receipt=None)]})
    adapter = permits(upstream)
    found = await adapter.applications_by_ids(["A1", "A2"])
    assert found["A1"].submitted_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert found["A1"].receipt == ReceiptRecord(
        number="RC-1",
        content_sha256="ab" * 32,
        signed_at=datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC),
        signature="c2lnbmF0dXJl",
        document_id=None,
    )
    assert found["A2"].receipt is None
    pages = await adapter.application_pages(["K200001"], limit=20, after=None)
    assert [a.id for a in pages["K200001"].items] == ["A1", "A2"]
    assert pages["K200001"].cursors == ("c:A1", "c:A2")
