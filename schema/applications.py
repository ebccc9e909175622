"""Applications and their binding receipts (terms 20, 31)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from adapters.permits.records import ApplicationRecord, ReceiptRecord
from gateway.errors import UpstreamUnavailableError
from resolvers.context import Context
from schema.base import Node, to_global_id
from schema.documents import Document, linked_document
from schema.enums import ApplicationKind, ApplicationStatus
from schema.permits import Permit, linked_permit

Info = strawberry.Info[Context, None]


@strawberry.type(
    description="Proof of a submission: what was submitted, when and by whom, signed by the gateway."
)
class Receipt:
    number: str = strawberry.field(description="Receipt number.")
    content_sha256: str = strawberry.field(description="SHA-256 of the canonical content submitted.")
    signed_at: datetime = strawberry.field(description="When it was signed.")
    signature: str = strawberry.field(description="The gateway's signature (compact JWS).")
    record: strawberry.Private[ReceiptRecord]

    @strawberry.field(description="The receipt as a PDF document, once archived.")
    async def document(self, info: Info) -> Document | None:
        return await linked_document(info, self.record.document_id)

    @classmethod
    def from_record(cls, r: ReceiptRecord) -> Receipt:
        return cls(
            number=r.number,
            content_sha256=r.content_sha256,
            signed_at=r.signed_at,
            signature=r.signature,
            record=r,
        )


@strawberry.type(description="An application or request submitted to the company.")
class Application(Node):
    kind: ApplicationKind = strawberry.field(description="What is applied for.")
    subject: str = strawberry.field(description="Subject line.")
    status: ApplicationStatus = strawberry.field(description="Where it stands.")
    submitted_at: datetime = strawberry.field(description="When it was submitted.")
    submitted_by: str = strawberry.field(description="The representative's or the person's name.")
    record: strawberry.Private[ApplicationRecord]

    @strawberry.field(description="The signed receipt of the submission.")
    def receipt(self) -> Receipt:
        if self.record.receipt is None:
            raise UpstreamUnavailableError("The receipt of this application is not available yet; try later.")
        return Receipt.from_record(self.record.receipt)

    @strawberry.field(description="The permit the application concerns, if any (needs PERMITS_READ).")
    async def permit(self, info: Info) -> Permit | None:
        return await linked_permit(info, self.record.permit_id)

    @classmethod
    def from_record(cls, r: ApplicationRecord) -> Application:
        return cls(
            id=to_global_id("Application", r.id),
            kind=ApplicationKind(r.kind),
            subject=r.subject,
            status=ApplicationStatus(r.status),
            submitted_at=r.submitted_at,
            submitted_by=r.submitted_by,
            record=r,
        )
