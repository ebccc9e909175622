"""Applications and their receipts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from adapters.errors import UpstreamError
from adapters.paging import Page
from adapters.permits.records import ApplicationRecord, ReceiptRecord
from gateway.db import utcnow
from gateway.errors import BadUserInput, from_upstream
from gateway.idempotency import KeyReused
from resolvers.audit import audited, queue_side_effect
from resolvers.context import Context
from resolvers.paging import page_key


async def applications(
    ctx: Context, client_id: str, first: int | None, after: str | None
) -> Page[ApplicationRecord]:
    await ctx.principal.allow(client_id, "APPLICATIONS_SUBMIT")
    return await ctx.loaders.applications_by_client_id.load(page_key(client_id, first, after))


async def application(ctx: Context, application_id: str) -> ApplicationRecord | None:
    record = await ctx.loaders.application_by_id.load(application_id)
    if record is None:
        return None
    await ctx.principal.allow(record.client_id, "APPLICATIONS_SUBMIT")
    return record


MAX_SUBJECT, MAX_BODY = 200, 20_000


async def submit(
    ctx: Context,
    client_id: str,
    *,
    kind: str,
    subject: str,
    body: str,
    permit_id: str | None,
    confirm: bool,
    idempotency_key: str,
) -> ApplicationRecord:
    """Journalled as `submitApplication` (terms 18, 23.3), whatever its outcome."""
    async with audited(
        ctx,
        "submitApplication",
        {
            "kind": kind,
            "subject": subject,
            "permitId": permit_id,
            "confirm": confirm,
            "idempotencyKey": idempotency_key,
        },
        acting_for=client_id,
    ):
        return await _submit(
            ctx,
            client_id,
            kind=kind,
            subject=subject,
            body=body,
            permit_id=permit_id,
            confirm=confirm,
            idempotency_key=idempotency_key,
        )


async def _submit(
    ctx: Context,
    client_id: str,
    *,
    kind: str,
    subject: str,
    body: str,
    permit_id: str | None,
    confirm: bool,
    idempotency_key: str,
) -> ApplicationRecord:
    """Terms 20, 31: a confirmed submission binds the client; the receipt proves what, when and by whom.

    The receipt is made once per idempotency key and kept in the database, so a retry (concurrent, on
    another instance, after a crash between the registry's answer and ours) sends the registry the very
    same request under the same key, and the registry answers with the same application.
    """
    client = await ctx.principal.require(client_id, "APPLICATIONS_SUBMIT")
    account = ctx.principal.require_fresh_password()
    if not confirm:
        raise BadUserInput(
            f"Confirm the submission with `confirm: true`: once confirmed it binds {client.name} as if "
            "signed by hand (terms 20 and 31), and you receive a signed receipt."
        )
    subject, body = subject.strip(), body.strip()
    if not 0 < len(subject) <= MAX_SUBJECT or not 0 < len(body) <= MAX_BODY:
        raise BadUserInput(f"`subject` needs 1 to {MAX_SUBJECT} characters and `body` 1 to {MAX_BODY}.")
    if not 8 <= len(idempotency_key) <= 100:
        raise BadUserInput(
            "`idempotencyKey` needs 8 to 100 characters; use a new UUID for each new submission."
        )
    if permit_id is not None:
        permit = await ctx.loaders.permit_by_id.load(permit_id)
        if permit is None or permit.holder_id != client.id:
            raise BadUserInput("`permitId` is not a permit of this client.")
    content = {"client_id": client.id, "kind": kind, "subject": subject, "body": body, "permit_id": permit_id}
    key = f"submitApplication:{account.id}:{client.id}:{idempotency_key}"
    fresh = ctx.services.receipts.sign(
        content=content,
        signed_at=utcnow().replace(microsecond=0),
        signer={"user_id": account.id, "name": account.full_name, "email": account.email},
        client={"id": client.id, "name": client.name},
    )
    try:
        state = await ctx.services.idempotency.first_state(key, content, asdict(fresh))
    except KeyReused as exc:
        raise BadUserInput(
            "This `idempotencyKey` was used for a different submission; use a new key."
        ) from exc
    receipt = ReceiptRecord(
        number=state["number"],
        content_sha256=state["content_sha256"],
        signed_at=datetime.fromisoformat(str(state["signed_at"])),
        signature=state["signature"],
        document_id=None,
    )
    try:
        application = await ctx.services.permits.create_application(
            client_id=client.id,
            kind=kind,
            subject=subject,
            body=body,
            permit_id=permit_id,
            submitted_by=account.full_name,
            receipt=receipt,
            idempotency_key=key,
        )
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
    if application.receipt is None or application.receipt.document_id is None:
        await queue_side_effect(
            ctx,
            "archive_receipt",
            {"application_id": application.id, "signer": account.full_name},
            f"receipt:{key}",
            acting_for=client.id,
        )
    return application
