"""The contract's clients (``shared/contract/API.md``, "The sandbox"): fixed ids, codes and promised data.

Jānis Bērziņš: an AMATEUR permit (YL2JB) and a LAND_MOBILE permit with 2 stations; exactly one PAID, one
UNPAID and one OVERDUE invoice. SIA "Baltijas Radio": a BROADCASTING permit with 3 FM stations, a FIXED
permit with 2 links, 48 invoices. SIA "Jūras Sakari": DIRECT_DEBIT, MARITIME permits (ship stations with
call signs). Ilze Kalna: PREPAYMENT, one LAND_MOBILE permit, a credit balance.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.billing.records import ClientRecord
from sandbox.generate import LineSpec, at
from sandbox.personas import (
    BALTIJAS_RADIO_CLIENT,
    ILZE_CLIENT,
    JANIS_CLIENT,
    JURAS_SAKARI_CLIENT,
    PERSONAS,
)
from sandbox.seed_content import CITIES, PROFILES

if TYPE_CHECKING:
    from sandbox.data import Dataset

BALTIJAS_RADIO_REG = "40003571601"
JURAS_SAKARI_REG = "40003128709"
ILZE_PERSONAL_CODE = "320718-58291"  # new format: no birth date, no checksum
ILZE_CREDIT = Decimal("42.50")
BALTIJAS_RADIO_INVOICES = 48
BANK_AGREEMENTS = (
    ("demo-bank", JANIS_CLIENT),
    ("demo-bank", BALTIJAS_RADIO_CLIENT),
    ("other-bank", ILZE_CLIENT),
)


def _city(name: str) -> tuple[str, str, float, float]:
    return next(c for c in CITIES if c[0] == name)


def _personal_code(email: str) -> str:
    code = next(p.personal_code for p in PERSONAS if p.email == email)
    assert code is not None
    return code


def seed_personas(ds: Dataset) -> None:
    """Add the four contract clients with their permits, invoices, payments, documents and bank agreements."""
    _janis(ds)
    _baltijas_radio(ds)
    _juras_sakari(ds)
    _ilze(ds)
    ds.agreements.extend(BANK_AGREEMENTS)


def _janis(ds: Dataset) -> None:
    cid, today = JANIS_CLIENT, ds.today
    email = "janis.berzins@example.lv"
    ds.clients[cid] = ClientRecord(
        cid,
        "NATURAL_PERSON",
        "Jānis Bērziņš",
        _personal_code(email),
        None,
        "Skolas iela 7, Sigulda, LV-2150",
        email,
        "+37129123456",
        "INVOICE",
    )
    sigulda = _city("Sigulda")
    amateur = ds.add_permit(
        cid, "AMATEUR", status="VALID", issued_on=today - timedelta(days=3 * 365), valid_until=None
    )
    ds.add_station(
        amateur,
        PROFILES["AMATEUR"][0],
        name="Amatieru stacija YL2JB",
        call_sign="YL2JB",
        city=sigulda,
        frequencies=("145.5000", "433.5000"),
    )
    mobile_issued = today - timedelta(days=400)
    mobile = ds.add_permit(
        cid,
        "LAND_MOBILE",
        status="VALID",
        issued_on=mobile_issued,
        valid_until=mobile_issued + timedelta(days=1826),
    )
    ds.add_station(
        mobile,
        PROFILES["LAND_MOBILE"][0],
        name="Bāzes stacija Sigulda",
        city=sigulda,
        frequencies=("151.0125",),
    )
    ds.add_station(
        mobile,
        PROFILES["LAND_MOBILE"][2],
        name="Mobilā stacija (traktors)",
        city=sigulda,
        frequencies=("151.0125",),
    )
    amateur_number = ds.permits[amateur].number
    mobile_number = ds.permits[mobile].number
    ds.add_invoice(
        cid,
        issued_on=today - timedelta(days=150),
        status="PAID",
        permit_id=amateur,
        lines=[("SP-AM", 1, f"atļauja {amateur_number}"), ("AT-GROZ", 1, None)],
    )
    ds.add_invoice(
        cid,
        issued_on=today - timedelta(days=75),
        status="OVERDUE",
        permit_id=mobile,
        lines=[("SP-ZM", 2, f"atļauja {mobile_number}")],
    )
    ds.add_invoice(
        cid,
        issued_on=today - timedelta(days=10),
        status="UNPAID",
        permit_id=mobile,
        lines=[("AT-IZS", 1, None), ("EMS-NOV", 1, f"atļauja {mobile_number}")],
    )
    ds.add_application(
        cid,
        "AMEND_PERMIT",
        status="APPROVED",
        submitted_at=at(today - timedelta(days=30), 9, 12),
        submitted_by=email,
        permit_id=mobile,
    )


def _baltijas_radio(ds: Dataset) -> None:
    cid, today, rng = BALTIJAS_RADIO_CLIENT, ds.today, ds.rng
    ds.clients[cid] = ClientRecord(
        cid,
        "LEGAL_PERSON",
        'SIA "Baltijas Radio"',
        BALTIJAS_RADIO_REG,
        "LV" + BALTIJAS_RADIO_REG,
        "Dzirnavu iela 37, Rīga, LV-1010",
        "birojs@baltijasradio.example.lv",
        "+37167001234",
        "INVOICE",
    )
    issued = today - timedelta(days=2 * 365)
    until = issued + timedelta(days=10 * 365)
    broadcast = ds.add_permit(cid, "BROADCASTING", status="VALID", issued_on=issued, valid_until=until)
    for city, frequency in (("Rīga", "104.3"), ("Liepāja", "99.8"), ("Daugavpils", "101.6")):
        ds.add_station(
            broadcast,
            PROFILES["BROADCASTING"][0],
            name=f"FM raidītājs {city}",
            city=_city(city),
            frequencies=(frequency,),
        )
    links = ds.add_permit(
        cid,
        "FIXED",
        status="VALID",
        issued_on=issued + timedelta(days=40),
        valid_until=issued + timedelta(days=40 + 5 * 365),
    )
    ds.add_station(links, PROFILES["FIXED"][0], name="Radiolīnija Rīga–Ogre", city=_city("Rīga"))
    ds.add_station(links, PROFILES["FIXED"][1], name="Radiolīnija Rīga–Jelgava", city=_city("Rīga"))
    broadcast_number, links_number = ds.permits[broadcast].number, ds.permits[links].number
    special = {0: "UNPAID", 1: "PARTIALLY_PAID", 2: "OVERDUE", 5: "OVERDUE", 9: "CANCELLED", 20: "CANCELLED"}
    for k in range(BALTIJAS_RADIO_INVOICES):
        status = special.get(k, "PAID")
        lines: list[LineSpec]
        if k % 3 == 0:
            permit_id, lines = broadcast, [("SP-BC", 3, f"atļauja {broadcast_number}")]
        elif k % 3 == 1:
            permit_id, lines = links, [("SP-FX", 2, f"atļauja {links_number}"), ("AT-GROZ", 1, None)]
        else:
            permit_id, lines = None, [("MON-H", rng.randint(2, 8), None), ("EMS-NOV", 1, None)]
        ds.add_invoice(
            cid,
            issued_on=today - timedelta(days=(4, 18)[k] if k < 2 else 4 + 30 * k),
            status=status,
            permit_id=permit_id,
            lines=lines,
            paid_share=Decimal("0.5") if k in (1, 5) else None,
        )
    ds.add_application(
        cid,
        "NEW_PERMIT",
        status="IN_REVIEW",
        submitted_at=at(today - timedelta(days=6), 11, 40),
        submitted_by="anna.ozola@example.lv",
    )
    ds.add_application(
        cid,
        "AMEND_PERMIT",
        status="APPROVED",
        submitted_at=at(today - timedelta(days=90), 14, 5),
        submitted_by="anna.ozola@example.lv",
        permit_id=links,
    )
    ds.add_document(
        cid,
        "CORRESPONDENCE",
        "Paziņojums par frekvenču plāna izmaiņām",
        at(today - timedelta(days=45), 12),
        permit_id=broadcast,
        body="Informējam, ka no nākamā gada mainās FM apraides frekvenču plāns.",
    )
    ds.add_document(
        cid, "REPORT", "Atļauju pārskats (CSV)", at(today - timedelta(days=2), 8), mime_type="text/csv"
    )


def _juras_sakari(ds: Dataset) -> None:
    cid, today = JURAS_SAKARI_CLIENT, ds.today
    ds.clients[cid] = ClientRecord(
        cid,
        "LEGAL_PERSON",
        'SIA "Jūras Sakari"',
        JURAS_SAKARI_REG,
        "LV" + JURAS_SAKARI_REG,
        "Ostas iela 12, Ventspils, LV-3601",
        "info@jurassakari.example.lv",
        "+37163601234",
        "DIRECT_DEBIT",
    )
    ventspils = _city("Ventspils")
    permit_ids = []
    ships = (("Kurzeme", "YLAK2", "156.800"), ("Venta", "YLBV7", "156.525"), ("Irbe", "YLCI4", "156.300"))
    for k, (ship, call_sign, frequency) in enumerate(ships):
        issued = today - timedelta(days=200 + 300 * k)
        permit_id = ds.add_permit(
            cid,
            "MARITIME",
            status="VALID",
            issued_on=issued,
            valid_until=issued + timedelta(days=5 * 365 + 1),
        )
        ds.add_station(
            permit_id,
            PROFILES["MARITIME"][0],
            name=f"Kuģis {ship}",
            call_sign=call_sign,
            city=ventspils,
            frequencies=(frequency, "156.650"),
        )
        permit_ids.append(permit_id)
    coast_issued = today - timedelta(days=700)
    coast = ds.add_permit(
        cid,
        "MARITIME",
        status="VALID",
        issued_on=coast_issued,
        valid_until=coast_issued + timedelta(days=5 * 365 + 1),
    )
    ds.add_station(
        coast,
        PROFILES["MARITIME"][1],
        name="Krasta stacija Ventspils",
        city=ventspils,
        frequencies=("161.000",),
    )
    ds.add_random_invoices(cid, 8, [*permit_ids, coast])
    ds.add_application(
        cid,
        "RENEW_PERMIT",
        status="SUBMITTED",
        submitted_at=at(today - timedelta(days=3), 10, 20),
        submitted_by="maris.ozolins@example.lv",
        permit_id=permit_ids[0],
    )


def _ilze(ds: Dataset) -> None:
    cid, today = ILZE_CLIENT, ds.today
    ds.clients[cid] = ClientRecord(
        cid,
        "NATURAL_PERSON",
        "Ilze Kalna",
        ILZE_PERSONAL_CODE,
        None,
        "Rīgas iela 21, Valmiera, LV-4201",
        "ilze.kalna@example.lv",
        "+37120202020",
        "PREPAYMENT",
    )
    ds.credits[cid] = ILZE_CREDIT
    issued = today - timedelta(days=500)
    permit_id = ds.add_permit(
        cid, "LAND_MOBILE", status="VALID", issued_on=issued, valid_until=issued + timedelta(days=5 * 365 + 1)
    )
    ds.add_station(
        permit_id,
        PROFILES["LAND_MOBILE"][0],
        name="Bāzes stacija Valmiera",
        city=_city("Valmiera"),
        frequencies=("163.4125",),
    )
    number = ds.permits[permit_id].number
    for days in (480, 115):
        ds.add_invoice(
            cid,
            issued_on=today - timedelta(days=days),
            status="PAID",
            permit_id=permit_id,
            lines=[("SP-ZM", 1, f"atļauja {number}")],
        )
