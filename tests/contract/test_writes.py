"""The write side (terms 2.10, 2.11, 15.7, 16.3, 17, 20, 31): every mutation per kind of caller, binding
receipts, idempotency under concurrency and crashes, and an outbox that loses nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from adapters.errors import UpstreamUnavailable
from sandbox.personas import BALTIJAS_RADIO_CLIENT, JANIS_CLIENT, JURAS_SAKARI_CLIENT
from schema.base import to_global_id
from tests.conftest import Gateway
from tests.contract.test_identity import outbox_mails
from tests.contract.test_personas import ANNA, ILZE, JANIS, PETERIS, codes, gid

SUBMIT = """mutation($c: ID!, $i: ApplicationInput!, $ok: Boolean!, $k: String!) {
  submitApplication(clientId: $c, input: $i, confirm: $ok, idempotencyKey: $k) {
    id kind subject status submittedBy
    receipt { number contentSha256 signedAt signature document { id title } }
  } }"""
APPLICATION = {"kind": "FREE_FORM", "subject": "Lūdzu pārbaudīt rēķinu", "body": "Rēķinā ir kļūda."}
COUNT = "query($id: ID!) { client(id: $id) { applications { totalCount } } }"


async def submit(
    gateway: Gateway,
    token: str | None,
    client_id: str,
    key: str | None = None,
    confirm: bool = True,
    **changes: Any,
) -> dict[str, Any]:
    variables = {
        "c": gid(client_id),
        "i": {**APPLICATION, **changes},
        "ok": confirm,
        "k": key or str(uuid.uuid4()),
    }
    return await gateway.gql(SUBMIT, variables, token=token)


@pytest.mark.parametrize(
    ("email", "client_id", "expected"),
    [
        (JANIS, JANIS_CLIENT, None),
        (ANNA, BALTIJAS_RADIO_CLIENT, None),
        (PETERIS, BALTIJAS_RADIO_CLIENT, "FORBIDDEN"),
        (ILZE, BALTIJAS_RADIO_CLIENT, "NOT_FOUND"),
        (None, JANIS_CLIENT, "UNAUTHENTICATED"),
        ("bank", JANIS_CLIENT, "UNTRUSTED_DOCUMENT"),
    ],
    ids=[
        "owner",
        "representative_with_scope",
        "representative_without_scope",
        "outsider",
        "anonymous",
        "bank",
    ],
)
async def test_submit_application_per_caller(
    gateway: Gateway, email: str | None, client_id: str, expected: str | None
) -> None:
    from tests.contract.test_bank_api import bank_token

    if email == "bank":
        token: str | None = await bank_token(gateway, "demo-bank")
    else:
        token = await gateway.login(email) if email else None
    body = await submit(gateway, token, client_id)
    got = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
    assert got == expected, body


async def test_a_confirmed_submission_has_a_receipt_anyone_can_verify(gateway: Gateway) -> None:
    body = await submit(gateway, await gateway.login(JANIS), JANIS_CLIENT)
    application = body["data"]["submitApplication"]
    assert application["status"] == "SUBMITTED" and application["submittedBy"] == "Jānis Bērziņš"
    receipt = application["receipt"]
    keys = (await gateway.client.get("/.well-known/jwks.json")).json()
    verified = jws.deserialize_compact(
        receipt["signature"], KeySet.import_key_set(keys), algorithms=["ES256"]
    )
    claims = json.loads(verified.payload)
    assert claims["content_sha256"] == receipt["contentSha256"] and claims["receipt"] == receipt["number"]
    assert claims["client"]["id"] == JANIS_CLIENT and claims["signer"]["email"] == JANIS


async def test_without_confirmation_nothing_is_submitted_and_the_error_says_why(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    before = (await gateway.gql(COUNT, {"id": gid(JANIS_CLIENT)}, token=token))["data"]["client"]
    body = await submit(gateway, token, JANIS_CLIENT, confirm=False)
    assert codes(body) == {"submitApplication": "BAD_USER_INPUT"}
    assert "binds" in body["errors"][0]["message"] and "confirm: true" in body["errors"][0]["message"]
    after = (await gateway.gql(COUNT, {"id": gid(JANIS_CLIENT)}, token=token))["data"]["client"]
    assert before == after


async def test_twenty_concurrent_identical_submissions_make_one_application(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    before = (await gateway.gql(COUNT, {"id": gid(JANIS_CLIENT)}, token=token))["data"]["client"]
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*(submit(gateway, token, JANIS_CLIENT, key) for _ in range(20)))
    ids = {a["data"]["submitApplication"]["id"] for a in answers}
    assert len(ids) == 1, answers[0]
    after = (await gateway.gql(COUNT, {"id": gid(JANIS_CLIENT)}, token=token))["data"]["client"]
    assert after["applications"]["totalCount"] == before["applications"]["totalCount"] + 1


async def test_a_key_reused_for_other_content_is_refused(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    key = str(uuid.uuid4())
    assert "errors" not in await submit(gateway, token, JANIS_CLIENT, key)
    other = await submit(gateway, token, JANIS_CLIENT, key, subject="Cits temats")
    assert codes(other) == {"submitApplication": "BAD_USER_INPUT"}


async def test_a_crash_between_the_registrys_answer_and_ours_is_healed_by_a_retry(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await gateway.login(JANIS)
    permits = gateway.app.state.services.permits
    real = permits.create_application

    async def lost_answer(**kwargs: Any) -> Any:
        await real(**kwargs)  # the registry did it ...
        raise UpstreamUnavailable("permits", "connection reset")  # ... but its answer never arrived

    key = str(uuid.uuid4())
    monkeypatch.setattr(permits, "create_application", lost_answer)
    failed = await submit(gateway, token, JANIS_CLIENT, key)
    assert codes(failed) == {"submitApplication": "UPSTREAM_UNAVAILABLE"}
    monkeypatch.setattr(permits, "create_application", real)
    retried = await submit(gateway, token, JANIS_CLIENT, key)
    again = await submit(gateway, token, JANIS_CLIENT, key)
    assert retried["data"]["submitApplication"]["id"] == again["data"]["submitApplication"]["id"]
    listed = await gateway.gql(
        "query($id: ID!) { client(id: $id) { applications(first: 100) {"
        " edges { node { id receipt { number } } } } } }",
        {"id": gid(JANIS_CLIENT)},
        token=token,
    )
    number = retried["data"]["submitApplication"]["receipt"]["number"]
    assert [
        e
        for e in listed["data"]["client"]["applications"]["edges"]
        if e["node"]["receipt"]["number"] == number
    ]
    assert (
        len(
            [
                e
                for e in listed["data"]["client"]["applications"]["edges"]
                if e["node"]["receipt"]["number"] == number
            ]
        )
        == 1
    )


async def test_the_document_store_down_delays_the_receipt_pdf_but_loses_nothing(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    await gateway.client.post("/sandbox/documents/_faults", json={"down": True})
    body = await submit(gateway, token, JANIS_CLIENT)
    application = body["data"]["submitApplication"]
    assert application["receipt"]["number"] and application["receipt"]["document"] is None
    outbox = gateway.app.state.services.outbox
    await outbox.deliver_due()
    assert await outbox.pending() >= 1
    await gateway.client.post("/sandbox/documents/_faults", json={"down": False})
    async with outbox.engine.begin() as conn:
        from gateway.db import outbox as table
        from gateway.db import utcnow

        await conn.execute(table.update().values(next_attempt_at=utcnow()))
    await outbox.deliver_due()
    assert await outbox.pending() == 0
    node = await gateway.gql(
        "query($id: ID!) { node(id: $id) {"
        " ... on Application { receipt { document { title mimeType } } } } }",
        {"id": application["id"]},
        token=token,
    )
    assert node["data"]["node"]["receipt"]["document"] == {
        "title": f"Kvīts Nr. {application['receipt']['number']}",
        "mimeType": "application/pdf",
    }


PAY = """mutation($c: ID!, $i: [ID!]!, $k: String!) {
  initiatePayment(clientId: $c, invoiceIds: $i, idempotencyKey: $k) {
    id redirectUrl amount { amount } expiresAt } }"""
INVOICES = """query($id: ID!) { client(id: $id) { balance { outstanding { amount } }
  invoices(first: 100) { edges { node { id status outstanding { amount } } } } } }"""


async def open_invoice(gateway: Gateway, token: str, client_id: str) -> str:
    body = await gateway.gql(INVOICES, {"id": gid(client_id)}, token=token)
    return str(
        next(
            e["node"]["id"]
            for e in body["data"]["client"]["invoices"]["edges"]
            if e["node"]["status"] != "PAID"
        )
    )


async def test_payment_opens_a_bank_session_and_completion_settles_the_invoice(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    invoice = await open_invoice(gateway, token, JANIS_CLIENT)
    key = str(uuid.uuid4())
    body = await gateway.gql(PAY, {"c": gid(JANIS_CLIENT), "i": [invoice], "k": key}, token=token)
    session = body["data"]["initiatePayment"]
    assert "/sandbox/bank/pay/" in session["redirectUrl"]
    again = await gateway.gql(PAY, {"c": gid(JANIS_CLIENT), "i": [invoice], "k": key}, token=token)
    assert again["data"]["initiatePayment"]["id"] == session["id"]
    paid = await gateway.client.post(f"/sandbox/bank/pay/{session['id']}/complete")
    assert paid.status_code in (200, 303)
    after = await gateway.gql(INVOICES, {"id": gid(JANIS_CLIENT)}, token=token)
    status = {e["node"]["id"]: e["node"]["status"] for e in after["data"]["client"]["invoices"]["edges"]}
    assert status[invoice] == "PAID"
    repeat = await gateway.gql(
        PAY, {"c": gid(JANIS_CLIENT), "i": [invoice], "k": str(uuid.uuid4())}, token=token
    )
    assert codes(repeat) == {"initiatePayment": "BAD_USER_INPUT"}


async def test_payment_per_caller(gateway: Gateway) -> None:
    anna = await gateway.login(ANNA)
    janis_invoice = await open_invoice(gateway, await gateway.login(JANIS), JANIS_CLIENT)
    baltijas_invoice = await open_invoice(gateway, anna, BALTIJAS_RADIO_CLIENT)
    cases = [
        (PETERIS, BALTIJAS_RADIO_CLIENT, baltijas_invoice, None),
        (ANNA, JANIS_CLIENT, janis_invoice, "FORBIDDEN"),
        (ILZE, JANIS_CLIENT, janis_invoice, "NOT_FOUND"),
        (None, JANIS_CLIENT, janis_invoice, "UNAUTHENTICATED"),
        (JANIS, JANIS_CLIENT, baltijas_invoice, "BAD_USER_INPUT"),
        ("bank", JANIS_CLIENT, janis_invoice, "UNTRUSTED_DOCUMENT"),
    ]
    from tests.contract.test_bank_api import bank_token

    for email, client_id, invoice, expected in cases:
        if email == "bank":
            token: str | None = await bank_token(gateway, "demo-bank")
        else:
            token = await gateway.login(email) if email else None
        body = await gateway.gql(
            PAY, {"c": gid(client_id), "i": [invoice], "k": str(uuid.uuid4())}, token=token
        )
        got = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
        assert got == expected, (email, body)


async def test_direct_debit_clients_have_no_payments(gateway: Gateway) -> None:
    token = await gateway.login("maris.ozolins@example.lv")
    await gateway.gql(
        'mutation { changePassword(currentPassword: "Radio-2026", newPassword: "Jauna-Parole-77")'
        " { mustChangePassword } }",
        token=token,
    )
    body = await gateway.gql(
        PAY,
        {
            "c": gid(JURAS_SAKARI_CLIENT),
            "i": [str(to_global_id("Invoice", "I100001"))],
            "k": str(uuid.uuid4()),
        },
        token=token,
    )
    assert codes(body) == {"initiatePayment": "FORBIDDEN"}


REPORT = """mutation($c: ID!, $k: ReportKind!, $f: Date!, $t: Date!) {
  generateReport(clientId: $c, kind: $k, from: $f, to: $t) {
    id title kind mimeType sizeBytes downloadUrl } }"""


async def test_reports_for_a_legal_person_are_real_pdfs(gateway: Gateway) -> None:
    token = await gateway.login(ANNA)
    for kind in ("STATEMENT", "RECONCILIATION"):
        body = await gateway.gql(
            REPORT,
            {"c": gid(BALTIJAS_RADIO_CLIENT), "k": kind, "f": "2025-01-01", "t": "2026-11-25"},
            token=token,
        )
        document = body["data"]["generateReport"]
        assert document["kind"] == "REPORT" and document["mimeType"] == "application/pdf"
        pdf = await gateway.client.get(document["downloadUrl"])
        assert pdf.content.startswith(b"%PDF") and len(pdf.content) == document["sizeBytes"]


async def test_report_rules_per_caller(gateway: Gateway) -> None:
    period = {"f": "2026-01-01", "t": "2026-06-30"}
    janis = await gateway.login(JANIS)
    natural = await gateway.gql(REPORT, {"c": gid(JANIS_CLIENT), "k": "STATEMENT", **period}, token=janis)
    assert codes(natural) == {"generateReport": "FORBIDDEN"}  # the policy keeps reports for legal persons
    peteris = await gateway.login(PETERIS)
    without = await gateway.gql(
        REPORT, {"c": gid(BALTIJAS_RADIO_CLIENT), "k": "STATEMENT", **period}, token=peteris
    )
    assert codes(without) == {"generateReport": "FORBIDDEN"}
    anna = await gateway.login(ANNA)
    backwards = await gateway.gql(
        REPORT,
        {"c": gid(BALTIJAS_RADIO_CLIENT), "k": "STATEMENT", "f": "2026-06-30", "t": "2026-01-01"},
        token=anna,
    )
    assert codes(backwards) == {"generateReport": "BAD_USER_INPUT"}


CONTACT = """mutation($c: ID!, $i: ContactInfoInput!) {
  updateContactInfo(clientId: $c, input: $i) { phone email } }"""


async def test_contact_data_is_validated_and_written_to_billing(gateway: Gateway) -> None:
    janis = await gateway.login(JANIS)
    bad = await gateway.gql(
        CONTACT, {"c": gid(JANIS_CLIENT), "i": {"phone": "29123", "email": "x"}}, token=janis
    )
    assert codes(bad) == {"updateContactInfo": "BAD_USER_INPUT"}
    assert len(bad["errors"][0]["extensions"]["reasons"]) == 2
    ok = await gateway.gql(CONTACT, {"c": gid(JANIS_CLIENT), "i": {"phone": "+371 2000 0001"}}, token=janis)
    assert ok["data"]["updateContactInfo"]["phone"] == "+37120000001"
    stored = await gateway.client.get(f"/sandbox/billing/clients/{JANIS_CLIENT}")
    assert stored.json()["phone"] == "+37120000001"
    peteris = await gateway.login(PETERIS)
    refused = await gateway.gql(
        CONTACT, {"c": gid(BALTIJAS_RADIO_CLIENT), "i": {"phone": "+37120000002"}}, token=peteris
    )
    assert codes(refused) == {"updateContactInfo": "FORBIDDEN"}


async def test_portal_issues_are_stored_and_mailed_to_support(gateway: Gateway) -> None:
    anonymous = await gateway.gql('mutation { reportPortalIssue(message: "x") }')
    assert codes(anonymous) == {"reportPortalIssue": "UNAUTHENTICATED"}
    token = await gateway.login(ILZE)
    body = await gateway.gql(
        'mutation { reportPortalIssue(message: "Rēķins netiek rādīts", page: "/invoices") }', token=token
    )
    assert body["data"]["reportPortalIssue"] is True
    mails = await outbox_mails(gateway)
    assert [to for to, _ in mails] == ["atbalsts@radioatlaujas.lv"]
    assert "Rēķins netiek rādīts" in mails[0][1] and ILZE in mails[0][1]


async def test_every_write_is_journalled_with_its_outcome(gateway: Gateway) -> None:
    import sqlalchemy as sa

    from gateway.db import audit_log

    token = await gateway.login(JANIS)
    await submit(gateway, token, JANIS_CLIENT)
    await submit(gateway, token, JANIS_CLIENT, confirm=False)
    await gateway.gql(CONTACT, {"c": gid(JANIS_CLIENT), "i": {"phone": "12"}}, token=token)
    async with gateway.app.state.runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(audit_log.c.operation, audit_log.c.outcome, audit_log.c.acting_for, audit_log.c.ip)
                .where(audit_log.c.operation.in_(["submitApplication", "updateContactInfo"]))
                .order_by(audit_log.c.seq)
            )
        ).all()
    assert [(r.operation, r.outcome, r.acting_for) for r in rows] == [
        ("submitApplication", "ok", JANIS_CLIENT),
        ("submitApplication", "bad_user_input", JANIS_CLIENT),
        ("updateContactInfo", "bad_user_input", JANIS_CLIENT),
    ]
    assert all(r.ip for r in rows)
    async with gateway.app.state.runtime.engine.connect() as conn:
        queued = (
            await conn.execute(
                sa.select(audit_log.c.outcome, audit_log.c.acting_for).where(
                    audit_log.c.operation == "outbox.archive_receipt"
                )
            )
        ).all()
    assert [(q.outcome, q.acting_for) for q in queued] == [("queued", JANIS_CLIENT)]
    result = await gateway.app.state.services.audit.verify()
    assert result.ok, result


CALLERS = {  # kind of caller → (e-mail, client acted for); "bank" uses a partner bank's token
    "owner": (JANIS, JANIS_CLIENT),
    "representative_with_scope": (ANNA, BALTIJAS_RADIO_CLIENT),
    "representative_without_scope": (PETERIS, BALTIJAS_RADIO_CLIENT),
    "outsider": (ILZE, BALTIJAS_RADIO_CLIENT),
    "anonymous": (None, JANIS_CLIENT),
    "partner_bank": ("bank", JANIS_CLIENT),
}
# mutation → expected code per caller (None: it works)
EXPECTED = {
    "updateContactInfo": [None, None, "FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED", "UNTRUSTED_DOCUMENT"],
    "generateReport": ["FORBIDDEN", None, "FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED", "UNTRUSTED_DOCUMENT"],
    "reportPortalIssue": [None, None, None, None, "UNAUTHENTICATED", "UNTRUSTED_DOCUMENT"],
}
DOCUMENTS = {
    "updateContactInfo": CONTACT,
    "generateReport": REPORT,
    "reportPortalIssue": 'mutation($c: String!) { reportPortalIssue(message: "Lapa neielādējas", page: $c) }',
}


@pytest.mark.parametrize("mutation", list(EXPECTED))
@pytest.mark.parametrize("caller", list(CALLERS))
async def test_write_mutations_per_caller(gateway: Gateway, mutation: str, caller: str) -> None:
    from tests.contract.test_bank_api import bank_token

    email, client_id = CALLERS[caller]
    expected = EXPECTED[mutation][list(CALLERS).index(caller)]
    if email == "bank":
        token: str | None = await bank_token(gateway, "demo-bank")
    else:
        token = await gateway.login(email) if email else None
    variables = {
        "updateContactInfo": {"c": gid(client_id), "i": {"phone": "+37120000009"}},
        "generateReport": {"c": gid(client_id), "k": "STATEMENT", "f": "2026-01-01", "t": "2026-06-30"},
        "reportPortalIssue": {"c": "/clients"},
    }[mutation]
    body = await gateway.gql(DOCUMENTS[mutation], variables, token=token)
    errors = body.get("errors") or []
    code = errors[0]["extensions"]["code"] if errors else None
    assert code == expected, body
