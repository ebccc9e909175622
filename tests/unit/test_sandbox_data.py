"""The sandbox data set: the contract's personas, check digits, consistency, determinism and scale."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sandbox import codes
from sandbox.common import to_json
from sandbox.data import LARGE_CLIENT_PERMITS, Dataset, build_dataset
from sandbox.personas import (
    BALTIJAS_RADIO_CLIENT,
    ILZE_CLIENT,
    JANIS_CLIENT,
    JURAS_SAKARI_CLIENT,
    PERSONAS,
)
from sandbox.seed_content import SERVICE_TYPES

TODAY = date(2026, 3, 15)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return build_dataset(today=TODAY)


@pytest.fixture(scope="module")
def scaled() -> Dataset:
    return build_dataset(clients=200, today=TODAY)


# -- check digits -------------------------------------------------------------------------------------------


# The contract fixes this code; its check digit is right but 29 February 1974 never existed.
IMPOSSIBLE_BIRTH_DATE = {"290274-19004"}


def test_contract_personal_codes_are_valid() -> None:
    for persona in PERSONAS:
        code = persona.personal_code
        if code is not None:
            assert codes.is_valid_personal_code(code, check_date=False), persona.email
            assert codes.is_valid_personal_code(code) == (code not in IMPOSSIBLE_BIRTH_DATE), persona.email


def test_personal_code_rules() -> None:
    assert codes.personal_code_check_digit("1403851234") == 1
    assert not codes.is_valid_personal_code("140385-12342")  # wrong check digit
    assert not codes.is_valid_personal_code("310285-12345")  # 31 February
    assert codes.is_valid_personal_code("320718-58291")  # new format: no checksum
    rng = random.Random(1)
    for _ in range(200):
        code = codes.make_personal_code(rng, date(1960, 1, 1))
        assert codes.is_valid_personal_code(code) and code.startswith("010160-1")


def test_registration_numbers() -> None:
    assert codes.is_valid_registration_number("40003571601")
    assert codes.is_valid_registration_number("40003128709")
    assert not codes.is_valid_registration_number("40003571602")
    assert not codes.is_valid_registration_number("30003571601")
    rng = random.Random(2)
    for prefix in ("4000", "5000"):
        number = codes.make_registration_number(rng, prefix)
        assert number.startswith(prefix) and codes.is_valid_registration_number(number)


def test_rf_references() -> None:
    assert codes.make_rf_reference("539007547034") == "RF18539007547034"  # the ISO 11649 example
    assert codes.is_valid_rf_reference("RF18 5390 0754 7034")
    assert codes.is_valid_rf_reference("RF712348231")
    assert not codes.is_valid_rf_reference("RF19539007547034")
    assert not codes.is_valid_rf_reference("RF18")
    assert not codes.is_valid_rf_reference("XX18539007547034")
    with pytest.raises(ValueError):
        codes.make_rf_reference("not valid!")


# -- personas -----------------------------------------------------------------------------------------------


def test_janis(ds: Dataset) -> None:
    janis = ds.clients[JANIS_CLIENT]
    assert (janis.name, janis.kind, janis.code, janis.billing_arrangement) == (
        "Jānis Bērziņš",
        "NATURAL_PERSON",
        "140385-12341",
        "INVOICE",
    )
    permits = {p.service_type: p for p in ds.permits_of(JANIS_CLIENT)}
    assert set(permits) == {"AMATEUR", "LAND_MOBILE"}
    assert [s.call_sign for s in ds.stations_of(permits["AMATEUR"].id)] == ["YL2JB"]
    assert len(ds.stations_of(permits["LAND_MOBILE"].id)) == 2
    invoices = ds.invoices_of(JANIS_CLIENT)
    assert sorted(i.status for i in invoices) == ["OVERDUE", "PAID", "UNPAID"]
    for invoice in invoices:
        assert (invoice.due_on < TODAY) == (invoice.status == "OVERDUE") or invoice.status == "PAID"


def test_baltijas_radio(ds: Dataset) -> None:
    client = ds.clients[BALTIJAS_RADIO_CLIENT]
    assert (client.kind, client.code, client.vat_number, client.billing_arrangement) == (
        "LEGAL_PERSON",
        "40003571601",
        "LV40003571601",
        "INVOICE",
    )
    stations = {p.service_type: ds.stations_of(p.id) for p in ds.permits_of(BALTIJAS_RADIO_CLIENT)}
    assert [s.station_class for s in stations["BROADCASTING"]] == ["BC"] * 3
    for station in stations["BROADCASTING"]:
        assert all(Decimal("87.5") <= a.frequency_mhz <= Decimal("108") for a in station.assignments)
    assert [s.station_class for s in stations["FIXED"]] == ["FX"] * 2
    invoices = ds.invoices_of(BALTIJAS_RADIO_CLIENT)
    assert len(invoices) >= 45
    assert len({i.status for i in invoices}) >= 4
    assert ds.payments_of(BALTIJAS_RADIO_CLIENT)


def test_juras_sakari_and_ilze(ds: Dataset) -> None:
    juras = ds.clients[JURAS_SAKARI_CLIENT]
    assert (juras.code, juras.billing_arrangement) == ("40003128709", "DIRECT_DEBIT")
    permits = ds.permits_of(JURAS_SAKARI_CLIENT)
    assert permits and {p.service_type for p in permits} == {"MARITIME"}
    ships = [s for p in permits for s in ds.stations_of(p.id) if s.station_class == "MS"]
    assert ships and all(s.call_sign and s.call_sign.startswith("YL") for s in ships)
    assert {p.method for p in ds.payments_of(JURAS_SAKARI_CLIENT)} == {"DIRECT_DEBIT"}

    ilze = ds.clients[ILZE_CLIENT]
    assert (ilze.kind, ilze.billing_arrangement) == ("NATURAL_PERSON", "PREPAYMENT")
    assert ilze.code.startswith("32") and codes.is_valid_personal_code(ilze.code)
    assert [p.service_type for p in ds.permits_of(ILZE_CLIENT)] == ["LAND_MOBILE"]
    balance = ds.balance(ILZE_CLIENT)
    assert balance is not None and balance.credit > 0


def test_bank_agreements(ds: Dataset) -> None:
    assert sorted(c for _, c in ds.agreements_of("demo-bank")) == [JANIS_CLIENT, BALTIJAS_RADIO_CLIENT]
    assert [c for _, c in ds.agreements_of("other-bank")] == [ILZE_CLIENT]


# -- consistency over the whole (scaled) data set -----------------------------------------------------------


def test_clients_codes_and_vat(scaled: Dataset) -> None:
    for client in scaled.clients.values():
        if client.kind == "NATURAL_PERSON":
            assert codes.is_valid_personal_code(client.code) and client.vat_number is None
        else:
            assert codes.is_valid_registration_number(client.code)
            assert client.vat_number == "LV" + client.code


def test_invoices_add_up_and_have_references_and_documents(scaled: Dataset) -> None:
    for invoice in scaled.invoices.values():
        assert codes.is_valid_rf_reference(invoice.payment_reference)
        for line in invoice.lines:
            expected = line.quantity * line.unit_price * (1 + line.vat_rate / 100)
            assert line.total == expected.quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert (line.vat_exemption_reason is not None) == (line.vat_rate == 0)
        assert invoice.total == sum(line.total for line in invoice.lines)
        if invoice.status in ("PAID", "CANCELLED"):
            assert invoice.outstanding == 0
        else:
            assert 0 < invoice.outstanding <= invoice.total
            assert (invoice.status == "OVERDUE") == (invoice.due_on < TODAY)
        if invoice.status == "PARTIALLY_PAID":
            assert invoice.outstanding < invoice.total
        assert invoice.document_id is not None
        draft = scaled.drafts[invoice.document_id]
        assert (draft.kind, draft.invoice_id, draft.owner_id) == ("INVOICE", invoice.id, invoice.client_id)
    rates = {line.vat_rate for i in scaled.invoices.values() for line in i.lines}
    assert rates == {Decimal("0"), Decimal("21")}


def test_balances_follow_invoices(ds: Dataset) -> None:
    balance = ds.balance(JANIS_CLIENT)
    assert balance is not None
    invoices = {i.status: i for i in ds.invoices_of(JANIS_CLIENT)}
    assert balance.outstanding == invoices["UNPAID"].outstanding + invoices["OVERDUE"].outstanding
    assert balance.overdue == invoices["OVERDUE"].outstanding
    assert ds.balance("K0") is None


def test_permits_stations_and_documents(scaled: Dataset) -> None:
    assert Counter(p.service_type for p in scaled.permits.values()).keys() == set(SERVICE_TYPES)
    classes = Counter(s.station_class for s in scaled.stations.values())
    assert {"FB", "ML", "FX", "BC", "MS", "AT", "TC", "FA"} <= classes.keys()
    for permit in scaled.permits.values():
        kinds = [d.kind for d in scaled.document_drafts_of_permit(permit.id)]
        assert "PERMIT" in kinds
        if permit.status == "VALID" and permit.valid_until is not None:
            assert permit.valid_until > TODAY
    for station in scaled.stations.values():
        assert station.assignments
        if station.latitude is not None and station.longitude is not None:
            assert 55.67 <= station.latitude <= 58.09 and 20.97 <= station.longitude <= 28.24
        for assignment in station.assignments:
            assert assignment.frequency_mhz > 0 and assignment.bandwidth_khz > 0
            if station.station_class == "BC":
                assert Decimal("87.5") <= assignment.frequency_mhz <= Decimal("108")
                assert assignment.erp_dbw is not None
            if station.station_class == "FX":
                assert assignment.frequency_mhz > 1000


def test_every_application_has_a_plausible_receipt(scaled: Dataset) -> None:
    assert scaled.applications
    for application in scaled.applications.values():
        receipt = application.receipt
        assert receipt is not None, application.id
        assert len(receipt.content_sha256) == 64
        assert receipt.signed_at >= application.submitted_at
        assert receipt.document_id in scaled.drafts


# -- determinism and scale ----------------------------------------------------------------------------------


def _dump(ds: Dataset) -> str:
    everything = {
        "clients": list(ds.clients.values()),
        "invoices": list(ds.invoices.values()),
        "payments": list(ds.payments.values()),
        "permits": list(ds.permits.values()),
        "stations": list(ds.stations.values()),
        "applications": list(ds.applications.values()),
        "documents": list(ds.drafts.values()),
    }
    return json.dumps(to_json(everything), ensure_ascii=False, sort_keys=True)


def test_same_seed_same_bytes() -> None:
    first, second = build_dataset(clients=20, today=TODAY), build_dataset(clients=20, today=TODAY)
    assert _dump(first) == _dump(second)
    assert first.document_content("D100001") == second.document_content("D100001")
    assert _dump(build_dataset(clients=20, seed=7, today=TODAY)) != _dump(first)


def test_scaled_dataset_builds_fast_with_a_large_client() -> None:
    started = time.perf_counter()
    big = build_dataset(clients=1000, today=TODAY)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, elapsed
    assert len(big.clients) == 1004
    assert big.large_client_id == "K300001"
    assert len(big.permits_of("K300001")) == LARGE_CLIENT_PERMITS
    others = [len(big.permits_of(c)) for c in big.clients if c.startswith("K3") and c != "K300001"]
    assert max(others) <= 4
    for prefix, store in (("P", big.permits), ("S", big.stations), ("I", big.invoices), ("D", big.drafts)):
        assert all(key.startswith(prefix) and key[1:].isdigit() for key in store)


def test_add_client_with_40_permits() -> None:
    dataset = build_dataset(today=TODAY)
    client_id = dataset.add_client("LEGAL_PERSON", 'SIA "Četrdesmit Atļaujas"', permits=40, invoices=40)
    assert client_id.startswith("K3") and len(client_id) == 7
    permits = dataset.permits_of(client_id)
    assert len(permits) == 40
    for permit in permits:
        stations = dataset.stations_of(permit.id)
        assert len(stations) == 2 and all(s.assignments for s in stations)
    assert len(dataset.invoices_of(client_id)) == 40
    other = dataset.add_client("NATURAL_PERSON", "Anna Liepa", arrangement="PREPAYMENT")
    assert other != client_id and dataset.permits_of(other) == []
    with pytest.raises(ValueError):
        dataset.add_client("ROBOT", "R2")
