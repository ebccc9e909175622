"""The changes the sandbox systems' write routes make to the data set, and the lookups the bank needs.

``Mutations`` is a mixin of ``sandbox.data.Dataset``. Its methods check the rules that need the data (an
invoice belongs to the client, a session is still open) and raise the systems' errors (``NotFound``,
``InvalidRequest``, ``Conflict``); the shape of the request bodies is checked by the routes. Time comes from
``clock`` (UTC now unless a test sets another), unlike the seeded records which are relative to ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from adapters.billing.records import ClientRecord, InvoiceRecord, PaymentRecord, PaymentSessionRecord
from adapters.documents.records import DocumentRecord
from adapters.permits.records import ApplicationRecord, ReceiptRecord
from sandbox.common import Conflict, InvalidRequest, NotFound
from sandbox.generate import DocumentDraft, RecordFactory

SESSION_LIFETIME = timedelta(minutes=30)
ZERO = Decimal("0.00")


def _normalised_code(code: str) -> str:
    # Personal codes are written with or without the hyphen (140385-12341 / 14038512341).
    return code.replace("-", "").replace(" ", "").upper()


class Mutations(RecordFactory):
    """The write operations, between ``RecordFactory`` (the seeding primitives) and ``Dataset``.

    The storage attributes are created by ``Dataset``.
    """

    clock: Callable[[], datetime]
    payment_sessions: dict[str, PaymentSessionRecord]
    _rendered: dict[str, tuple[DocumentRecord, bytes]]

    def now(self) -> datetime:
        """The clock's time to the second, like the seeded records (their sort keys compare as text)."""
        return self.clock().replace(microsecond=0)

    # -- billing -------------------------------------------------------------------------------------------

    def client(self, client_id: str) -> ClientRecord:
        """The client, or ``NotFound``."""
        found = self.clients.get(client_id)
        if found is None:
            raise NotFound(f"no client {client_id}")
        return found

    def client_by_code(self, code: str) -> ClientRecord | None:
        """The client with that personal code or registration number (hyphen optional), if any."""
        wanted = _normalised_code(code)
        return next((c for c in self.clients.values() if _normalised_code(c.code) == wanted), None)

    def invoice_by_reference(self, reference: str) -> InvoiceRecord | None:
        """The invoice with that RF payment reference (spaces and case ignored), if any."""
        wanted = reference.replace(" ", "").upper()
        return next((i for i in self.invoices.values() if i.payment_reference == wanted), None)

    def update_contact(self, client_id: str, changes: Mapping[str, str]) -> ClientRecord:
        """Set some of the client's ``email``, ``phone`` and ``address``."""
        updated = replace(self.client(client_id), **changes)
        self.clients[client_id] = updated
        return updated

    def open_payment_session(
        self, client_id: str, invoice_ids: Sequence[str], *, return_url: str, pay_page: str
    ) -> PaymentSessionRecord:
        """Open a session paying those invoices in full; ``pay_page`` + id is the bank's payment page."""
        if client_id not in self.clients:
            raise InvalidRequest(f"client_id: unknown client {client_id}")
        amount = ZERO
        for invoice_id in invoice_ids:
            invoice = self.invoices.get(invoice_id)
            if invoice is None or invoice.client_id != client_id:
                raise InvalidRequest(f"invoice_ids: {invoice_id} is not an invoice of client {client_id}")
            if invoice.outstanding <= 0:
                raise InvalidRequest(f"invoice_ids: invoice {invoice_id} has nothing outstanding")
            amount += invoice.outstanding
        session_id = self.new_id("PS")
        now = self.now()
        session = PaymentSessionRecord(
            id=session_id,
            client_id=client_id,
            invoice_ids=tuple(invoice_ids),
            amount=amount,
            currency="EUR",
            status="OPEN",
            redirect_url=pay_page + session_id,
            return_url=return_url,
            expires_at=now + SESSION_LIFETIME,
            created_at=now,
        )
        self.payment_sessions[session_id] = session
        return session

    def payment_session(self, session_id: str) -> PaymentSessionRecord:
        """The session (an OPEN one past its expiry becomes EXPIRED), or ``NotFound``."""
        session = self.payment_sessions.get(session_id)
        if session is None:
            raise NotFound(f"no payment session {session_id}")
        if session.status == "OPEN" and self.now() >= session.expires_at:
            session = self.payment_sessions[session_id] = replace(session, status="EXPIRED")
        return session

    def complete_payment_session(self, session_id: str) -> PaymentSessionRecord:
        """Mark the session's invoices PAID with one BANK_TRANSFER payment each; again is a no-op."""
        session = self._settle(session_id, "COMPLETED")
        if session.status == "COMPLETED":
            return session
        now = self.now()
        for invoice_id in session.invoice_ids:
            invoice = self.invoices[invoice_id]
            # An invoice settled meanwhile (another session, a cancellation) is not paid twice.
            if invoice.outstanding <= 0 or invoice.status == "CANCELLED":
                continue
            payment_id = self.new_id("M")
            self.payments[payment_id] = PaymentRecord(
                payment_id,
                invoice.client_id,
                invoice.outstanding,
                invoice.currency,
                now,
                "BANK_TRANSFER",
                invoice.payment_reference,
            )
            self.index["payments"][invoice.client_id].append(payment_id)
            self.invoices[invoice_id] = replace(invoice, status="PAID", outstanding=ZERO)
        completed = self.payment_sessions[session_id] = replace(session, status="COMPLETED")
        return completed

    def cancel_payment_session(self, session_id: str) -> PaymentSessionRecord:
        """Cancel an open session; cancelling a cancelled one again is a no-op."""
        session = self._settle(session_id, "CANCELLED")
        if session.status == "OPEN":
            session = self.payment_sessions[session_id] = replace(session, status="CANCELLED")
        return session

    def _settle(self, session_id: str, target: str) -> PaymentSessionRecord:
        # The session to move to ``target``: an OPEN one, or one already there (answered unchanged by the
        # caller, so that repeating the call is harmless); any other state is a conflict.
        session = self.payment_session(session_id)
        if session.status not in ("OPEN", target):
            raise Conflict(f"payment session {session_id} is {session.status}")
        return session

    # -- permit registry -----------------------------------------------------------------------------------

    def submit_application(
        self,
        *,
        client_id: str,
        kind: str,
        subject: str,
        body: str,
        permit_id: str | None,
        submitted_by: str,
        receipt: ReceiptRecord,
    ) -> ApplicationRecord:
        """Register a SUBMITTED application with its signed receipt, submitted now."""
        if client_id not in self.clients:
            raise InvalidRequest(f"client_id: unknown client {client_id}")
        if permit_id is not None:
            permit = self.permits.get(permit_id)
            if permit is None or permit.holder_id != client_id:
                raise InvalidRequest(f"permit_id: {permit_id} is not a permit of client {client_id}")
        application_id = self.new_id("A")
        application = ApplicationRecord(
            application_id,
            client_id,
            kind,
            subject,
            body,
            "SUBMITTED",
            self.now(),
            submitted_by,
            permit_id,
            receipt,
        )
        self.applications[application_id] = application
        self.index["applications"][client_id].append(application_id)
        return application

    def attach_receipt_document(self, application_id: str, document_id: str) -> ApplicationRecord:
        """Record the archived receipt PDF's document id on the application's receipt."""
        application = self.applications.get(application_id)
        if application is None:
            raise NotFound(f"no application {application_id}")
        if application.receipt is None:
            raise Conflict(f"application {application_id} has no receipt")
        receipt = replace(application.receipt, document_id=document_id)
        updated = self.applications[application_id] = replace(application, receipt=receipt)
        return updated

    # -- document store ------------------------------------------------------------------------------------

    def store_document(
        self,
        *,
        owner_id: str,
        kind: str,
        title: str,
        mime_type: str,
        content: bytes,
        permit_id: str | None = None,
        invoice_id: str | None = None,
        application_id: str | None = None,
    ) -> DocumentRecord:
        """Store an uploaded document, created now; its bytes are served as they came."""
        if owner_id not in self.clients:
            raise InvalidRequest(f"owner_id: unknown client {owner_id}")
        links = (
            ("permit_id", permit_id, self.permits, "holder_id"),
            ("invoice_id", invoice_id, self.invoices, "client_id"),
            ("application_id", application_id, self.applications, "client_id"),
        )
        for field, value, records, owner_field in links:
            linked = records.get(value) if value is not None else None
            if value is not None and (linked is None or getattr(linked, owner_field) != owner_id):
                raise InvalidRequest(f"{field}: {value} does not belong to owner {owner_id}")
        doc_id = self.add_document(
            owner_id,
            kind,
            title,
            self.now(),
            permit_id=permit_id,
            invoice_id=invoice_id,
            application_id=application_id,
            mime_type=mime_type,
        )
        return self.remember_document(self.drafts[doc_id], content)[0]

    def remember_document(self, draft: DocumentDraft, content: bytes) -> tuple[DocumentRecord, bytes]:
        """Cache a document's bytes with its metadata (now that its size is known) and return both."""
        record = DocumentRecord(
            id=draft.id,
            owner_id=draft.owner_id,
            kind=draft.kind,
            title=draft.title,
            mime_type=draft.mime_type,
            size_bytes=len(content),
            created_at=draft.created_at,
            permit_id=draft.permit_id,
            invoice_id=draft.invoice_id,
        )
        self._rendered[draft.id] = (record, content)
        return self._rendered[draft.id]
