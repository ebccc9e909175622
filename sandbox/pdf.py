"""Real PDF bytes for the sandbox documents, rendered with fpdf2.

The PDF core fonts only cover Windows-1252, which lacks the Latvian letters, and embedding a TrueType font
costs about 150 ms per document against 2 ms for a core font. Because a document's ``size_bytes`` is only
known once rendered, and listings of many documents must stay fast, the text is transliterated to ASCII
inside the PDF only (the metadata keeps the Latvian spelling).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF

from adapters.billing.records import ClientRecord, InvoiceRecord
from adapters.permits.records import PermitRecord, StationRecord

COMPANY = 'SIA "Elektroniskie sakari"'
COMPANY_LINES = (
    "Reg. Nr. 40005260188 | PVN LV40005260188",
    "Ernesta Birznieka-Upisa iela 20a, Riga, LV-1050",
    "Konts: LV44HABA0551000000001, info@esakari.example",
)
_TRANSLIT = str.maketrans(
    {
        **dict(zip("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ", strict=True)),
        "–": "-",
        "—": "-",
        "„": '"',
        "“": '"',
        "”": '"',
        "€": "EUR",
    }
)


def ascii_text(text: str) -> str:
    """``text`` with Latvian letters and typographic marks replaced by ASCII (what core fonts can show)."""
    return text.translate(_TRANSLIT).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, created_at: datetime) -> None:
        super().__init__(format="A4")
        # A fixed creation date keeps the bytes (and the file id derived from them) deterministic.
        self.set_creation_date(created_at)
        self.set_producer("esakari sandbox")
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def text_line(self, text: str, *, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, height, ascii_text(text), new_x="LMARGIN", new_y="NEXT")

    def header_block(self, title: str) -> None:
        self.text_line(COMPANY, size=14, bold=True, height=7)
        for line in COMPANY_LINES:
            self.text_line(line, size=8, height=4)
        self.ln(6)
        self.text_line(title, size=13, bold=True, height=7)
        self.ln(2)

    def client_block(self, client: ClientRecord) -> None:
        self.text_line(f"Klients: {client.name} ({client.id})", bold=True)
        code_label = "Personas kods" if client.kind == "NATURAL_PERSON" else "Reg. Nr."
        self.text_line(
            f"{code_label}: {client.code}" + (f" | PVN {client.vat_number}" if client.vat_number else "")
        )
        if client.address:
            self.text_line(f"Adrese: {client.address}")
        self.ln(3)

    def row(self, cells: Sequence[tuple[str, float, str]], *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 8.5)
        for text, width, align in cells:
            self.cell(width, 6, ascii_text(text), border=1, align=align)
        self.ln(6)

    def finish(self) -> bytes:
        return bytes(self.output())


def render_invoice(invoice: InvoiceRecord, client: ClientRecord, created_at: datetime) -> bytes:
    """An invoice: company header, client, lines with VAT, totals and the RF payment reference."""
    doc = _Document(created_at)
    doc.header_block(f"Rekins Nr. {invoice.number}")
    doc.text_line(
        f"Izrakstits: {invoice.issued_on.isoformat()}    Apmaksat lidz: {invoice.due_on.isoformat()}"
    )
    doc.ln(2)
    doc.client_block(client)
    widths = (78.0, 18.0, 24.0, 16.0, 24.0)
    doc.row(
        list(zip(("Apraksts", "Daudz.", "Cena", "PVN %", "Summa"), widths, "LRRRR", strict=True)), bold=True
    )
    for line in invoice.lines:
        texts = (
            line.description[:52],
            str(line.quantity),
            str(line.unit_price),
            str(line.vat_rate),
            str(line.total),
        )
        doc.row(list(zip(texts, widths, "LRRRR", strict=True)))
    doc.ln(2)
    for line in invoice.lines:
        if line.vat_exemption_reason:
            doc.text_line(f"PVN 0%: {line.vat_exemption_reason}", size=8)
            break
    doc.text_line(f"Kopa apmaksai: {invoice.total} {invoice.currency}", size=11, bold=True)
    doc.text_line(f"Neapmaksatais atlikums: {invoice.outstanding} {invoice.currency}")
    doc.text_line(f"Maksajuma merkis (RF atsauce): {invoice.payment_reference}", bold=True)
    doc.ln(4)
    doc.text_line("Rekins sagatavots elektroniski un ir derigs bez paraksta.", size=8)
    return doc.finish()


def render_permit(
    permit: PermitRecord, holder: ClientRecord, stations: Sequence[StationRecord], created_at: datetime
) -> bytes:
    """A permit: holder, validity and a table of its stations and frequency assignments."""
    doc = _Document(created_at)
    doc.header_block(f"Radioiekartas lietosanas atlauja Nr. {permit.number}")
    doc.client_block(holder)
    until = permit.valid_until.isoformat() if permit.valid_until else "beztermina"
    doc.text_line(f"Dienests: {permit.service_type}    Statuss: {permit.status}")
    doc.text_line(f"Deriga no {permit.valid_from.isoformat()} lidz {until}")
    doc.ln(3)
    widths = (52.0, 16.0, 26.0, 30.0, 36.0)
    doc.row(
        list(
            zip(("Stacija", "Klase", "Frekv., MHz", "Emisija", "Koordinates"), widths, "LLRLL", strict=True)
        ),
        bold=True,
    )
    for station in stations:
        place = (
            f"{station.latitude:.4f}, {station.longitude:.4f}" if station.latitude is not None else "mobila"
        )
        for assignment in station.assignments:
            texts = (
                station.name[:34],
                station.station_class,
                str(assignment.frequency_mhz),
                assignment.emission_designator,
                place,
            )
            doc.row(list(zip(texts, widths, "LLRLL", strict=True)))
    return doc.finish()


def render_letter(title: str, owner: ClientRecord, paragraphs: Sequence[str], created_at: datetime) -> bytes:
    """A plain document (application, receipt, correspondence): header, addressee, title and paragraphs."""
    doc = _Document(created_at)
    doc.header_block(title)
    doc.client_block(owner)
    doc.text_line(f"Datums: {created_at.date().isoformat()}")
    doc.ln(2)
    for paragraph in paragraphs:
        doc.text_line(paragraph)
        doc.ln(1)
    return doc.finish()
