"""What the outbox delivers: mails, and the archiving of receipts as PDFs in the document store."""

from __future__ import annotations

from typing import Any

from auth.identity import LINK_MAIL, Identity
from gateway.mail import message
from gateway.outbox import Handler
from gateway.pdf import receipt_pdf
from resolvers.services import Services


def handlers(services: Services) -> dict[str, Handler]:
    async def mail(payload: dict[str, Any], key: str) -> None:
        await services.mailer.send(message(payload["to"], payload["subject"], payload["body"]))

    async def archive_receipt(payload: dict[str, Any], key: str) -> None:
        """Render the receipt, store it (idempotently), attach it to the application (idempotently)."""
        application = (await services.permits.applications_by_ids([payload["application_id"]])).get(
            payload["application_id"]
        )
        if application is None or application.receipt is None:
            raise LookupError(f"application {payload['application_id']} has no receipt to archive yet")
        receipt = application.receipt
        if receipt.document_id is None:
            content = receipt_pdf(
                number=receipt.number,
                fields=[
                    ("Iesniegums / Application", application.id),
                    ("Veids / Kind", application.kind),
                    ("Klients / Client", application.client_id),
                    ("Iesniedza / Submitted by", application.submitted_by),
                    ("Parakstits / Signed at", receipt.signed_at.isoformat()),
                    ("SHA-256", receipt.content_sha256),
                ],
                content=f"{application.subject}\n\n{application.body}",
                signature=receipt.signature,
            )
            document = await services.documents.create_document(
                owner_id=application.client_id,
                kind="RECEIPT",
                title=f"Kvīts Nr. {receipt.number}",
                mime_type="application/pdf",
                content=content,
                permit_id=application.permit_id,
                application_id=application.id,
                idempotency_key=f"{key}:document",
            )
            await services.permits.attach_receipt_document(
                application.id, document.id, idempotency_key=f"{key}:attach"
            )

    return {"mail": mail, "archive_receipt": archive_receipt, LINK_MAIL: password_link(services.identity)}


def password_link(identity: Identity) -> Handler:
    """The outbox's delivery of a password link: the token is made as the mail goes out (``Identity``)."""

    async def deliver(payload: dict[str, Any], key: str) -> None:
        await identity.send_password_link(payload["user_id"], payload["purpose"])

    return deliver
