"""PDFs the gateway produces itself: receipts (terms 20, 31) and reports (terms 2.10, 17), with fpdf2.

The PDF core fonts cover Windows-1252 only, so Latvian letters are transliterated inside the PDF; the
document's metadata and the signed receipt keep the exact text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from fpdf import FPDF

COMPANY = 'SIA "Elektroniskie sakari"'
_TRANSLIT = str.maketrans(dict(zip("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ", strict=True)))


def _ascii(text: str) -> str:
    return text.translate(_TRANSLIT).encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()
        self.line_of(COMPANY, size=14, bold=True)
        self.line_of(title, size=12, bold=True)
        self.ln(4)

    def line_of(self, text: str, *, size: float = 10, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, 5.5, _ascii(text), new_x="LMARGIN", new_y="NEXT")

    def bytes(self) -> bytes:
        return bytes(self.output())


def receipt_pdf(*, number: str, fields: Sequence[tuple[str, str]], content: str, signature: str) -> bytes:
    pdf = _Pdf(f"Kvits / Receipt {number}")
    for label, value in fields:
        pdf.line_of(f"{label}: {value}")
    pdf.ln(3)
    pdf.line_of("Iesniegtais saturs / Content submitted:", bold=True)
    pdf.line_of(content, size=9)
    pdf.ln(3)
    pdf.line_of("Paraksts (JWS, ES256; atslega: /.well-known/jwks.json) / Signature:", bold=True)
    pdf.line_of(signature, size=6)
    return pdf.bytes()


def report_pdf(
    *,
    title: str,
    client: str,
    period: tuple[date, date],
    rows: Sequence[Sequence[str]],
    totals: Sequence[str],
) -> bytes:
    pdf = _Pdf(title)
    pdf.line_of(f"Klients / Client: {client}")
    pdf.line_of(f"Periods / Period: {period[0].isoformat()} - {period[1].isoformat()}")
    pdf.line_of(f"Sagatavots / Prepared: {datetime.now().date().isoformat()}")
    pdf.ln(3)
    for row in rows:
        pdf.line_of("   ".join(row), size=9)
    pdf.ln(3)
    for line in totals:
        pdf.line_of(line, bold=True)
    return pdf.bytes()
