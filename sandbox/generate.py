"""The primitives that add records to the sandbox data set, keeping ids, indexes and documents consistent.

``RecordFactory`` is the base of ``sandbox.data.Dataset``; the seeded persona content and the random clients
are both built with these methods, so every invoice gets an RF reference and a document, every permit a
document, and every total adds up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from adapters.billing.records import ClientRecord, InvoiceLineRecord, InvoiceRecord, PaymentRecord
from adapters.permits.records import (
    ApplicationRecord,
    AssignmentRecord,
    PermitRecord,
    ReceiptRecord,
    StationRecord,
)
from sandbox import codes
from sandbox.seed_content import (
    ANNUAL_FEE_CODE,
    APPLICATION_BODIES,
    APPLICATION_KINDS,
    APPLICATION_SUBJECTS,
    CITIES,
    LATVIA_LAT,
    LATVIA_LON,
    PERMIT_PREFIX,
    PRICE_BY_CODE,
    PROFILES,
    SHIP_NAMES,
    STREETS,
    VAT_EXEMPTION_REASON,
    RadioProfile,
)

CENT = Decimal("0.01")
OPEN_STATUSES = ("UNPAID", "PARTIALLY_PAID", "OVERDUE")
_RECEIPT_KEY = b"sandbox-receipt-signing-key"
_FIVE_YEARS = timedelta(days=5 * 365 + 1)
City = tuple[str, str, float, float]
LineSpec = tuple[str, int | str | Decimal, str | None]  # price-list code, quantity, note


@dataclass(frozen=True, slots=True)
class DocumentDraft:
    """A document's metadata before its bytes exist; ``size_bytes`` is only known once rendered."""

    id: str
    owner_id: str
    kind: str
    title: str
    mime_type: str
    created_at: datetime
    permit_id: str | None = None
    invoice_id: str | None = None
    application_id: str | None = None
    body: str | None = None


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A UTC instant on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class RecordFactory:
    """Mixin holding the ``add_*`` primitives; the storage attributes are created by ``Dataset``."""

    today: date
    as_of: datetime
    rng: random.Random
    clients: dict[str, ClientRecord]
    invoices: dict[str, InvoiceRecord]
    payments: dict[str, PaymentRecord]
    permits: dict[str, PermitRecord]
    stations: dict[str, StationRecord]
    applications: dict[str, ApplicationRecord]
    drafts: dict[str, DocumentDraft]
    index: dict[str, defaultdict[str, list[str]]]
    _counters: dict[str, int]

    def new_id(self, prefix: str) -> str:
        """The next id of a series: ``P100001``, ``P100002``... (``K3`` clients: ``K300001``...)."""
        number = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = number
        if prefix == "K3":
            return f"K3{number:05d}"
        return f"{prefix}{100000 + number}"

    def add_document(
        self,
        owner_id: str,
        kind: str,
        title: str,
        created_at: datetime,
        *,
        permit_id: str | None = None,
        invoice_id: str | None = None,
        application_id: str | None = None,
        body: str | None = None,
        mime_type: str = "application/pdf",
    ) -> str:
        """Register a document (bytes are rendered later, on first use)."""
        doc_id = self.new_id("D")
        self.drafts[doc_id] = DocumentDraft(
            doc_id, owner_id, kind, title, mime_type, created_at, permit_id, invoice_id, application_id, body
        )
        self.index["documents"][owner_id].append(doc_id)
        if permit_id is not None:
            self.index["by_permit"][permit_id].append(doc_id)
        return doc_id

    # -- permits and stations ------------------------------------------------------------------------------

    def add_permit(
        self, holder_id: str, service_type: str, *, status: str, issued_on: date, valid_until: date | None
    ) -> str:
        """Add a permit (number ``<service prefix>-<year>/<serial>``) and its PERMIT document."""
        permit_id = self.new_id("P")
        number = f"{PERMIT_PREFIX[service_type]}-{issued_on.year}/{int(permit_id[1:]) - 100000:06d}"
        self.permits[permit_id] = PermitRecord(
            permit_id, holder_id, number, service_type, status, issued_on, issued_on, valid_until
        )
        self.index["permits"][holder_id].append(permit_id)
        created = at(issued_on, 10, self.rng.randrange(60))
        self.add_document(holder_id, "PERMIT", f"Atļauja Nr. {number}", created, permit_id=permit_id)
        return permit_id

    def add_station(
        self,
        permit_id: str,
        profile: RadioProfile,
        *,
        name: str | None = None,
        call_sign: str | None = None,
        city: City | None = None,
        frequencies: Sequence[str] = (),
    ) -> str:
        """Add a station with assignments (given frequencies, or random ones inside the profile's band)."""
        rng = self.rng
        city = city if city is not None else rng.choice(CITIES)
        station_id = self.new_id("S")
        existing = self.index["stations"][permit_id]
        if name is None:
            name = f"{profile.name_lv} {city[0]}"
            if any(self.stations[s].name == name for s in existing):
                name = f"{name} {len(existing) + 1}"
        lat = lon = None
        address = None
        if profile.fixed_site:
            lat = round(min(max(city[2] + rng.uniform(-0.08, 0.08), LATVIA_LAT[0]), LATVIA_LAT[1]), 5)
            lon = round(min(max(city[3] + rng.uniform(-0.12, 0.12), LATVIA_LON[0]), LATVIA_LON[1]), 5)
            address = f"{rng.choice(STREETS)} {rng.randint(1, 90)}, {city[0]}, {city[1]}"
        self.stations[station_id] = StationRecord(
            id=station_id,
            permit_id=permit_id,
            name=name,
            call_sign=call_sign,
            station_class=profile.station_class,
            latitude=lat,
            longitude=lon,
            address=address,
            antenna_height_m=round(rng.uniform(*profile.height_m), 1),
            azimuth_deg=round(rng.uniform(0, 359.9), 1) if profile.directional else None,
            polarization=rng.choice(profile.polarizations),
            assignments=self._assignments(profile, frequencies),
        )
        existing.append(station_id)
        return station_id

    def _assignments(self, profile: RadioProfile, frequencies: Sequence[str]) -> tuple[AssignmentRecord, ...]:
        rng = self.rng
        low, high, step = Decimal(profile.low_mhz), Decimal(profile.high_mhz), Decimal(profile.step_mhz)
        channels = int((high - low) / step)
        plan: list[tuple[Decimal, str]]
        if frequencies:
            direction = "TX" if profile.station_class == "BC" else "TXRX"
            plan = [(Decimal(f), direction) for f in frequencies]
        elif profile.station_class in ("FX", "TC"):
            # A link transmits in one half of the band and receives in the other (duplex spacing).
            tx = low + step * rng.randrange(channels // 2)
            plan = [(tx, "TX"), (tx + step * (channels // 2), "RX")]
        elif profile.station_class == "BC":
            plan = [(low + step * rng.randint(0, channels), "TX")]
        else:
            count = rng.choice((1, 1, 2, 3))
            plan = [(low + step * k, "TXRX") for k in sorted(rng.sample(range(channels + 1), count))]
        result = []
        for frequency, direction in plan:
            power = erp = None
            if profile.power_w is not None:
                power = Decimal(str(round(rng.uniform(*profile.power_w), 2)))
            if profile.erp_dbw is not None:
                erp = Decimal(str(round(rng.uniform(*profile.erp_dbw), 1)))
            if direction == "RX":
                power = erp = None
            result.append(
                AssignmentRecord(
                    frequency, Decimal(profile.bandwidth_khz), profile.emission, power, erp, direction
                )
            )
        return tuple(result)

    def add_random_permit(self, holder_id: str, service_type: str, stations: int) -> str:
        """A permit of that service with ``stations`` stations and a plausible status and validity."""
        rng = self.rng
        status = rng.choices(("VALID", "EXPIRED", "SUSPENDED", "CANCELLED"), weights=(85, 8, 4, 3))[0]
        if status == "EXPIRED":
            issued = self.today - timedelta(days=rng.randint(5 * 365 + 30, 9 * 365))
        else:
            issued = self.today - timedelta(days=rng.randint(20, 4 * 365))
        until = None if service_type == "AMATEUR" and status != "EXPIRED" else issued + _FIVE_YEARS
        permit_id = self.add_permit(
            holder_id, service_type, status=status, issued_on=issued, valid_until=until
        )
        city = rng.choice(CITIES)
        for _ in range(stations):
            profile = rng.choice(PROFILES[service_type])
            name = call_sign = None
            if profile.station_class == "MS":
                name = f"Kuģis {rng.choice(SHIP_NAMES)}"
                letters = "ABCDEFGHKLMNPRSTUV"
                call_sign = f"YL{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(10)}"
            elif profile.station_class == "AT":
                call_sign = f"YL{rng.choice('23')}{chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
            self.add_station(permit_id, profile, name=name, call_sign=call_sign, city=city)
        return permit_id

    # -- invoices and payments -----------------------------------------------------------------------------

    def add_invoice(
        self,
        client_id: str,
        *,
        issued_on: date,
        lines: Sequence[LineSpec],
        status: str,
        permit_id: str | None = None,
        due_days: int = 30,
        paid_share: Decimal | None = None,
    ) -> str:
        """Add an invoice with its lines, RF reference, INVOICE document and the payments its status implies.

        ``paid_share`` (0..1) is the part already paid of a PARTIALLY_PAID or OVERDUE invoice.
        """
        invoice_id = self.new_id("I")
        serial = int(invoice_id[1:]) - 100000
        due_on = issued_on + timedelta(days=due_days)
        line_records = tuple(self._line(code, Decimal(quantity), note) for code, quantity, note in lines)
        total = sum((line.total for line in line_records), Decimal("0.00"))
        paid = Decimal("0.00")
        if status == "PAID":
            paid = total
        elif status in ("PARTIALLY_PAID", "OVERDUE") and paid_share is not None:
            paid = (total * paid_share).quantize(CENT, ROUND_HALF_UP)
        past_due = due_on < self.today
        wrong_due = status in OPEN_STATUSES and (status == "OVERDUE") != past_due
        if wrong_due or (status == "PARTIALLY_PAID" and not Decimal("0") < paid < total):
            raise ValueError(f"invoice status {status} contradicts its due date or payments")
        outstanding = Decimal("0.00") if status in ("PAID", "CANCELLED") else total - paid
        number = f"ES-{issued_on.year}-{serial:06d}"
        reference = codes.make_rf_reference(f"{issued_on.year}{serial:06d}{client_id[1:]}")
        created = at(issued_on, 7, self.rng.randrange(60))
        doc_id = self.add_document(
            client_id, "INVOICE", f"Rēķins Nr. {number}", created, invoice_id=invoice_id, permit_id=permit_id
        )
        self.invoices[invoice_id] = InvoiceRecord(
            invoice_id,
            client_id,
            number,
            issued_on,
            due_on,
            "EUR",
            total,
            outstanding,
            status,
            reference,
            line_records,
            doc_id,
            permit_id,
        )
        self.index["invoices"][client_id].append(invoice_id)
        if paid > 0:
            latest = min(due_on, self.today - timedelta(days=1))
            paid_on = issued_on + timedelta(days=self.rng.randint(0, max(0, (latest - issued_on).days)))
            self.add_payment(
                client_id, paid, at(paid_on, self.rng.randint(7, 20), self.rng.randrange(60)), reference
            )
        return invoice_id

    def _line(self, code: str, quantity: Decimal, note: str | None) -> InvoiceLineRecord:
        item = PRICE_BY_CODE[code]
        total = (quantity * item.price * (1 + item.vat_rate / 100)).quantize(CENT, ROUND_HALF_UP)
        reason = VAT_EXEMPTION_REASON if item.vat_rate == 0 else None
        description = f"{item.description} ({note})" if note else item.description
        return InvoiceLineRecord(description, quantity, item.price, item.vat_rate, reason, total)

    def add_payment(self, client_id: str, amount: Decimal, paid_at: datetime, reference: str | None) -> str:
        """Add a payment; its method follows the client's billing arrangement."""
        arrangement = self.clients[client_id].billing_arrangement
        if arrangement == "DIRECT_DEBIT":
            method = "DIRECT_DEBIT"
        elif arrangement == "PREPAYMENT":
            method = "PREPAYMENT"
        else:
            method = "BANK_TRANSFER" if self.rng.random() < 0.7 else "CARD"
        payment_id = self.new_id("M")
        self.payments[payment_id] = PaymentRecord(
            payment_id, client_id, amount, "EUR", paid_at, method, reference
        )
        self.index["payments"][client_id].append(payment_id)
        return payment_id

    def add_random_invoices(self, client_id: str, count: int, permit_ids: Sequence[str]) -> None:
        """``count`` invoices a month apart, the newest a few days old, statuses consistent with due dates."""
        rng = self.rng
        arrangement = self.clients[client_id].billing_arrangement
        for k in range(count):
            issued = self.today - timedelta(days=3 + 30 * k + rng.randint(0, 20))
            past_due = issued + timedelta(days=30) < self.today
            share = None
            if arrangement != "INVOICE":
                status = "PAID" if past_due or arrangement == "PREPAYMENT" else "UNPAID"
            elif past_due:
                status = rng.choices(("PAID", "OVERDUE", "CANCELLED"), weights=(86, 10, 4))[0]
                share = Decimal("0.4") if status == "OVERDUE" and rng.random() < 0.3 else None
            else:
                status = rng.choices(("UNPAID", "PARTIALLY_PAID", "PAID"), weights=(60, 15, 25))[0]
                share = Decimal("0.5") if status == "PARTIALLY_PAID" else None
            permit_id = rng.choice(permit_ids) if permit_ids else None
            lines: list[LineSpec]
            if permit_id is not None:
                permit = self.permits[permit_id]
                stations = max(1, len(self.index["stations"][permit_id]))
                lines = [(ANNUAL_FEE_CODE[permit.service_type], stations, f"atļauja {permit.number}")]
                if rng.random() < 0.25:
                    lines.append((rng.choice(("AT-GROZ", "EMS-NOV")), 1, None))
            else:
                lines = [("MON-H", rng.randint(1, 6), None)]
            self.add_invoice(
                client_id, issued_on=issued, lines=lines, status=status, permit_id=permit_id, paid_share=share
            )

    # -- applications --------------------------------------------------------------------------------------

    def add_application(
        self,
        client_id: str,
        kind: str,
        *,
        status: str,
        submitted_at: datetime,
        submitted_by: str,
        permit_id: str | None = None,
        with_receipt: bool = True,
    ) -> str:
        """Add an application with its APPLICATION document and, unless told otherwise, its signed receipt."""
        application_id = self.new_id("A")
        subject, body = APPLICATION_SUBJECTS[kind], APPLICATION_BODIES[kind]
        receipt = None
        if with_receipt:
            number = f"KV-{submitted_at.year}-{int(application_id[1:]) - 100000:06d}"
            digest = hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest()
            signature = hmac.new(_RECEIPT_KEY, f"{number}:{digest}".encode(), hashlib.sha256).digest()
            signed_at = submitted_at + timedelta(seconds=2)
            doc_id = self.add_document(
                client_id,
                "RECEIPT",
                f"Kvīts Nr. {number}",
                signed_at,
                permit_id=permit_id,
                application_id=application_id,
            )
            receipt = ReceiptRecord(
                number, digest, signed_at, base64.urlsafe_b64encode(signature).decode().rstrip("="), doc_id
            )
        self.applications[application_id] = ApplicationRecord(
            application_id,
            client_id,
            kind,
            subject,
            body,
            status,
            submitted_at,
            submitted_by,
            permit_id,
            receipt,
        )
        self.index["applications"][client_id].append(application_id)
        self.add_document(
            client_id,
            "APPLICATION",
            f"Iesniegums: {subject}",
            submitted_at,
            permit_id=permit_id,
            application_id=application_id,
        )
        return application_id

    def add_random_application(self, client_id: str, permit_id: str | None) -> str:
        """An application of a plausible kind and status, submitted within the last year."""
        rng = self.rng
        kinds = APPLICATION_KINDS[:4] if permit_id else ("NEW_PERMIT", "SERVICE_REGISTRATION")
        kind = rng.choice(kinds)
        status = rng.choices(("SUBMITTED", "IN_REVIEW", "APPROVED", "REJECTED"), weights=(2, 2, 5, 1))[0]
        submitted = self.as_of - timedelta(days=rng.randint(1, 365), minutes=rng.randrange(600))
        by = self.clients[client_id].email or client_id
        return self.add_application(
            client_id,
            kind,
            status=status,
            submitted_at=submitted,
            submitted_by=by,
            permit_id=permit_id,
            with_receipt=True,
        )
