"""The sandbox's deterministic data set: clients, invoices, payments, permits, stations, applications and
documents.

Everything is drawn from one seeded ``random.Random``; the only outside input is ``today`` (dates are relative
to it), so the same seed and day give byte-identical answers. Document bytes are rendered on first use and
cached, which keeps building a scaled data set (``build_dataset(clients=1000)``) quick.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from adapters.billing.records import (
    BalanceRecord,
    ClientRecord,
    InvoiceRecord,
    PaymentRecord,
    PaymentSessionRecord,
    PriceListItemRecord,
)
from adapters.documents.records import DocumentRecord
from adapters.permits.records import ApplicationRecord, PermitRecord, StationRecord
from sandbox import codes, pdf
from sandbox.generate import OPEN_STATUSES, DocumentDraft
from sandbox.mutations import Mutations
from sandbox.seed_content import (
    CITIES,
    COMPANY_FIRST,
    COMPANY_SECOND,
    FEMALE_NAMES,
    MALE_NAMES,
    PRICE_LIST,
    SERVICE_TYPES,
    STREETS,
    SURNAMES,
)

LARGE_CLIENT_PERMITS = 1000
_ASCII = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")


class Dataset(Mutations):
    """All records of the three sandbox systems, indexed by id and by owner.

    The ``add_*`` primitives (inherited from ``RecordFactory``) keep ids, indexes and documents consistent;
    ``add_client`` generates a whole plausible client on top of them. The write routes' changes are the
    methods inherited from ``Mutations``; they read the time from ``clock`` (a test may replace it).
    """

    def __init__(self, *, seed: int = 2026, today: date | None = None) -> None:
        self.seed = seed
        self.today = today if today is not None else date.today()
        # A fixed instant of "today" instead of the wall clock keeps answers byte-identical within a day.
        self.as_of = datetime.combine(self.today, time(6, 0), tzinfo=UTC)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.rng = random.Random(seed)
        self.clients: dict[str, ClientRecord] = {}
        self.invoices: dict[str, InvoiceRecord] = {}
        self.payments: dict[str, PaymentRecord] = {}
        self.credits: dict[str, Decimal] = {}
        self.price_list: tuple[PriceListItemRecord, ...] = PRICE_LIST
        self.agreements: list[tuple[str, str]] = []
        self.permits: dict[str, PermitRecord] = {}
        self.stations: dict[str, StationRecord] = {}
        self.applications: dict[str, ApplicationRecord] = {}
        self.payment_sessions: dict[str, PaymentSessionRecord] = {}
        self.drafts: dict[str, DocumentDraft] = {}
        self.large_client_id: str | None = None
        self.index: dict[str, defaultdict[str, list[str]]] = {
            name: defaultdict(list)
            for name in (
                "invoices",
                "payments",
                "permits",
                "stations",
                "applications",
                "documents",
                "by_permit",
            )
        }
        self._counters: dict[str, int] = {}
        self._rendered: dict[str, tuple[DocumentRecord, bytes]] = {}

    # -- reads ---------------------------------------------------------------------------------------------

    def invoices_of(self, client_id: str) -> list[InvoiceRecord]:
        """The client's invoices in insertion order."""
        return [self.invoices[i] for i in self.index["invoices"].get(client_id, ())]

    def payments_of(self, client_id: str) -> list[PaymentRecord]:
        """The client's payments in insertion order."""
        return [self.payments[i] for i in self.index["payments"].get(client_id, ())]

    def permits_of(self, holder_id: str) -> list[PermitRecord]:
        """The holder's permits in insertion order."""
        return [self.permits[i] for i in self.index["permits"].get(holder_id, ())]

    def stations_of(self, permit_id: str) -> list[StationRecord]:
        """The permit's stations in insertion order."""
        return [self.stations[i] for i in self.index["stations"].get(permit_id, ())]

    def applications_of(self, client_id: str) -> list[ApplicationRecord]:
        """The client's applications in insertion order."""
        return [self.applications[i] for i in self.index["applications"].get(client_id, ())]

    def document_drafts_of(self, owner_id: str) -> list[DocumentDraft]:
        """The owner's documents (metadata without size) in insertion order."""
        return [self.drafts[i] for i in self.index["documents"].get(owner_id, ())]

    def document_drafts_of_permit(self, permit_id: str) -> list[DocumentDraft]:
        """The documents that concern a permit, in insertion order."""
        return [self.drafts[i] for i in self.index["by_permit"].get(permit_id, ())]

    def agreements_of(self, bank_id: str | None) -> list[tuple[str, str]]:
        """``(bank_id, client_id)`` pairs, of one bank or of all."""
        return [a for a in self.agreements if bank_id is None or a[0] == bank_id]

    def balance(self, client_id: str) -> BalanceRecord | None:
        """The client's balance derived from its open invoices and prepayment credit; ``None`` if unknown."""
        if client_id not in self.clients:
            return None
        invoices = self.invoices_of(client_id)
        outstanding = sum((i.outstanding for i in invoices if i.status in OPEN_STATUSES), Decimal("0.00"))
        overdue = sum((i.outstanding for i in invoices if i.status == "OVERDUE"), Decimal("0.00"))
        credit = self.credits.get(client_id, Decimal("0.00"))
        return BalanceRecord(client_id, "EUR", outstanding, overdue, credit, self.as_of)

    def document(self, document_id: str) -> DocumentRecord | None:
        """A document's metadata with its real size (renders and caches the bytes on first use)."""
        rendered = self._render(document_id)
        return None if rendered is None else rendered[0]

    def document_content(self, document_id: str) -> bytes | None:
        """A document's bytes, or ``None`` for an unknown id."""
        rendered = self._render(document_id)
        return None if rendered is None else rendered[1]

    def _render(self, document_id: str) -> tuple[DocumentRecord, bytes] | None:
        cached = self._rendered.get(document_id)
        if cached is not None:
            return cached
        draft = self.drafts.get(document_id)
        if draft is None:
            return None
        return self.remember_document(draft, self._content_of(draft))

    def _content_of(self, draft: DocumentDraft) -> bytes:
        owner = self.clients[draft.owner_id]
        if draft.kind == "INVOICE" and draft.invoice_id is not None:
            return pdf.render_invoice(self.invoices[draft.invoice_id], owner, draft.created_at)
        if draft.kind == "PERMIT" and draft.permit_id is not None:
            permit = self.permits[draft.permit_id]
            return pdf.render_permit(permit, owner, self.stations_of(permit.id), draft.created_at)
        if draft.kind == "REPORT" and draft.mime_type == "text/csv":
            return self._permit_report_csv(owner.id)
        paragraphs = [draft.body or ""]
        if draft.application_id is not None:
            application = self.applications[draft.application_id]
            paragraphs = [application.subject, application.body, f"Iesniedza: {application.submitted_by}"]
            if draft.kind == "RECEIPT" and application.receipt is not None:
                receipt = application.receipt
                paragraphs += [f"Kvīts Nr. {receipt.number}", f"SHA-256: {receipt.content_sha256}"]
        return pdf.render_letter(draft.title, owner, paragraphs, draft.created_at)

    def _permit_report_csv(self, owner_id: str) -> bytes:
        rows = ["number;service_type;status;valid_until;stations"]
        for permit in self.permits_of(owner_id):
            until = permit.valid_until.isoformat() if permit.valid_until else ""
            stations = len(self.index["stations"].get(permit.id, ()))
            rows.append(f"{permit.number};{permit.service_type};{permit.status};{until};{stations}")
        return ("\n".join(rows) + "\n").encode("utf-8")

    # -- generated clients ---------------------------------------------------------------------------------

    def add_client(
        self,
        kind: str,
        name: str,
        *,
        permits: int = 0,
        stations_per_permit: int = 2,
        invoices: int = 0,
        arrangement: str = "INVOICE",
        applications: int = 0,
    ) -> str:
        """Add a generated client (id ``K3nnnnn``) with that many permits (each with that many stations),
        invoices and applications.

        Codes, addresses, radio parameters and invoice statuses come from the data set's seeded generator.
        """
        if kind not in ("NATURAL_PERSON", "LEGAL_PERSON"):
            raise ValueError(f"unknown client kind {kind!r}")
        if arrangement not in ("INVOICE", "PREPAYMENT", "DIRECT_DEBIT"):
            raise ValueError(f"unknown billing arrangement {arrangement!r}")
        rng = self.rng
        client_id = self.new_id("K3")
        city, postal, _, _ = rng.choice(CITIES)
        address = f"{rng.choice(STREETS)} {rng.randint(1, 120)}, {city}, {postal}"
        slug = name.translate(_ASCII).lower().replace('"', "").replace("sia ", "").replace("as ", "")
        slug = ".".join(part for part in slug.replace("-", " ").split() if part.isalnum())
        if kind == "NATURAL_PERSON":
            if rng.random() < 0.1:
                code = codes.make_new_personal_code(rng)
            else:
                born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
                code = codes.make_personal_code(rng, born)
            vat = None
        else:
            code = codes.make_registration_number(rng, "4000" if rng.random() < 0.85 else "5000")
            vat = "LV" + code
        phone = f"+371{rng.choice('26')}{rng.randrange(10**7):07d}"
        email = f"{slug or client_id.lower()}@example.lv"
        self.clients[client_id] = ClientRecord(
            client_id, kind, name, code, vat, address, email, phone, arrangement
        )
        if arrangement == "PREPAYMENT":
            self.credits[client_id] = Decimal(rng.randint(500, 20000)) / 100
        services = SERVICE_TYPES if kind == "LEGAL_PERSON" else ("AMATEUR", "LAND_MOBILE", "MARITIME")
        # A client with many permits holds every service it may, before random ones.
        cover = permits >= len(services)
        chosen = [
            services[k] if cover and k < len(services) else rng.choice(services) for k in range(permits)
        ]
        permit_ids = [self.add_random_permit(client_id, service, stations_per_permit) for service in chosen]
        self.add_random_invoices(client_id, invoices, permit_ids)
        for _ in range(applications):
            self.add_random_application(client_id, rng.choice(permit_ids) if permit_ids else None)
        return client_id

    def add_generated_client(self, *, large: bool = False) -> str:
        """Add one client with random size; ``large`` gives the benchmark client with 1,000 permits."""
        rng = self.rng
        if large:
            client_id = self.add_client(
                "LEGAL_PERSON",
                'AS "Lielais Tīkls"',
                permits=LARGE_CLIENT_PERMITS,
                stations_per_permit=2,
                invoices=120,
                applications=10,
            )
            self.large_client_id = client_id
            return client_id
        if rng.random() < 0.45:
            male = rng.random() < 0.5
            first = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
            surname = rng.choice(SURNAMES)[0 if male else 1]
            kind, name = "NATURAL_PERSON", f"{first} {surname}"
        else:
            form = rng.choice(("SIA", "SIA", "SIA", "AS"))
            kind, name = "LEGAL_PERSON", f'{form} "{rng.choice(COMPANY_FIRST)} {rng.choice(COMPANY_SECOND)}"'
        arrangement = rng.choices(("INVOICE", "PREPAYMENT", "DIRECT_DEBIT"), weights=(7, 2, 1))[0]
        return self.add_client(
            kind,
            name,
            permits=rng.randint(1, 4),
            stations_per_permit=rng.randint(1, 3),
            invoices=rng.randint(2, 10),
            arrangement=arrangement,
            applications=rng.randint(0, 2),
        )


def build_dataset(clients: int = 0, seed: int = 2026, today: date | None = None) -> Dataset:
    """The contract's personas plus ``clients`` generated ones; the first generated one has 1,000 permits."""
    from sandbox.seed_personas import seed_personas

    dataset = Dataset(seed=seed, today=today)
    seed_personas(dataset)
    for number in range(clients):
        dataset.add_generated_client(large=number == 0)
    return dataset
