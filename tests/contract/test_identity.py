"""Identity as the terms require: passwords (11, 15.2-15.4), reset (13), terms versions (4, 30),
representatives (6), account states and registration (5, 10, 12.2, 21). Tests name the clause."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.db import outbox, utcnow
from sandbox.personas import BALTIJAS_RADIO_CLIENT, JANIS_CLIENT
from tests.conftest import Gateway
from tests.contract.test_personas import ANNA, JANIS, LIGA, MARIS, PETERIS, STAFF, codes, gid

VIEWER = "{ viewer { user { email state } mustChangePassword termsAccepted } }"
CHANGE = """mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
  mustChangePassword passwordExpiresAt } }"""


async def deliver_until(gateway: Gateway, done: Callable[[], Awaitable[bool]]) -> None:
    """Runs the outbox's deliveries (beside the gateway's own worker) until ``done()``, 10 s at most."""
    outbox = gateway.app.state.services.outbox
    for _ in range(200):
        await outbox.deliver_due()
        if await done():
            return
        await asyncio.sleep(0.05)


async def outbox_mails(gateway: Gateway) -> list[tuple[str, str]]:
    """(recipient, body) of every mail the gateway wrote to its outbox folder, oldest first, once the outbox
    table has delivered everything queued (by this call or the gateway's own worker)."""
    outbox = gateway.app.state.services.outbox

    async def delivered() -> bool:
        return not await outbox.pending()

    await deliver_until(gateway, delivered)
    return written_mails(Path(gateway.app.state.services.settings.outbox_dir))


def written_mails(directory: Path) -> list[tuple[str, str]]:
    """(recipient, body) of every mail in a mail folder (the embedded mailer's), oldest first; not async:
    the folder is read without awaiting."""
    mails = []
    for path in sorted(directory.glob("*.eml")) if directory.exists() else []:
        mail = message_from_bytes(path.read_bytes())
        payload = mail.get_payload(decode=True)
        assert isinstance(payload, bytes)
        mails.append((str(mail["To"]), payload.decode()))
    return mails


def token_in(body: str) -> str:
    match = re.search(r"token=([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


async def test_15_2_weak_passwords_are_refused_with_every_reason(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    body = await gateway.gql(CHANGE, {"c": "Radio-2026", "n": "abc"}, token=token)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reasons"] == ["at least 8 characters", "at least one digit"]
    common = await gateway.gql(CHANGE, {"c": "Radio-2026", "n": "Parole123"}, token=token)
    assert common["errors"][0]["extensions"]["reasons"] == ["not a commonly used password"]
    named = await gateway.gql(CHANGE, {"c": "Radio-2026", "n": "berzins-77"}, token=token)
    assert named["errors"][0]["extensions"]["reasons"] == ["not built on your name or e-mail"]


async def test_15_3_an_expired_password_allows_only_viewer_and_change_password(gateway: Gateway) -> None:
    token = await gateway.login(MARIS)
    clients = "{ viewer { mustChangePassword clients { client { name } scopes } } }"
    before = await gateway.gql(clients, token=token)
    assert before == {"data": {"viewer": {"mustChangePassword": True, "clients": []}}}
    body = await gateway.gql(
        'mutation { grantRepresentative(clientId: "x", email: "a@b.lv", scopes: [BILLING_READ]) { id } }',
        token=token,
    )
    assert body["errors"][0]["extensions"]["code"] in ("PASSWORD_CHANGE_REQUIRED", "NOT_FOUND")
    for field, mutation in (
        ("acceptTerms", "mutation { acceptTerms(version: 1) { termsAccepted } }"),
        ("reportPortalIssue", 'mutation { reportPortalIssue(message: "help") }'),
    ):
        assert codes(await gateway.gql(mutation, token=token)) == {field: "PASSWORD_CHANGE_REQUIRED"}
    changed = await gateway.gql(CHANGE, {"c": "Radio-2026", "n": "Jauna-Parole-77"}, token=token)
    assert changed["data"]["changePassword"]["mustChangePassword"] is False
    after_change = (await gateway.gql(clients, token=token))["data"]["viewer"]["clients"]
    assert [row["client"]["name"] for row in after_change] == ['SIA "Jūras Sakari"']
    query = "query($id: ID!) { client(id: $id) { name } }"
    from sandbox.personas import JURAS_SAKARI_CLIENT

    after = await gateway.gql(query, {"id": gid(JURAS_SAKARI_CLIENT)}, token=token)
    assert after["data"]["client"]["name"] == 'SIA "Jūras Sakari"'


async def test_15_3_changing_the_password_ends_the_other_sessions_but_not_this_one(gateway: Gateway) -> None:
    first = await gateway.login(JANIS)
    second = await gateway.login(JANIS)
    body = await gateway.gql(CHANGE, {"c": "Radio-2026", "n": "Jauna-Parole-77"}, token=second)
    assert "errors" not in body
    assert (await gateway.gql(VIEWER, token=first))["data"]["viewer"] is None
    assert (await gateway.gql(VIEWER, token=second))["data"]["viewer"]["user"]["email"] == JANIS
    await gateway.login(JANIS, "Jauna-Parole-77")


async def test_15_4_wrong_current_password_changes_nothing(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    body = await gateway.gql(CHANGE, {"c": "not-it-123", "n": "Jauna-Parole-77"}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await gateway.login(JANIS)


async def test_13_forgot_always_202_and_a_single_use_link_resets_and_ends_sessions(gateway: Gateway) -> None:
    old_session = await gateway.login(JANIS)
    for email in (JANIS, "nobody@example.lv"):
        response = await gateway.client.post("/auth/password/forgot", json={"email": email})
        assert response.status_code == 202 and response.json() == {"status": "accepted"}
    mails = await outbox_mails(gateway)
    assert [to for to, _ in mails] == [JANIS]
    token = token_in(mails[0][1])

    weak = await gateway.client.post("/auth/password/reset", json={"token": token, "newPassword": "short"})
    assert weak.status_code == 400 and weak.json()["error"] == "weak_password"
    assert "at least 8 characters" in weak.json()["reasons"]
    ok = await gateway.client.post(
        "/auth/password/reset", json={"token": token, "newPassword": "Jauna-Parole-77"}
    )
    assert ok.status_code == 204
    again = await gateway.client.post(
        "/auth/password/reset", json={"token": token, "newPassword": "Cita-Parole-88"}
    )
    assert again.status_code == 400 and again.json() == {"error": "invalid_token"}
    assert (await gateway.gql(VIEWER, token=old_session))["data"]["viewer"] is None
    await gateway.login(JANIS, "Jauna-Parole-77")


async def test_13_reset_page_is_served_for_the_mailed_link(gateway: Gateway) -> None:
    page = await gateway.client.get("/auth/password/reset", params={"token": "x"})
    assert page.status_code == 200 and "newPassword" in page.text


async def test_4_30_login_records_acceptance_of_the_terms_in_force(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    assert (await gateway.gql(VIEWER, token=token))["data"]["viewer"]["termsAccepted"] is True
    wrong = await gateway.gql("mutation { acceptTerms(version: 3) { termsAccepted } }", token=token)
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    right = await gateway.gql("mutation { acceptTerms(version: 4) { termsAccepted } }", token=token)
    assert right["data"]["acceptTerms"]["termsAccepted"] is True


async def test_4_a_newer_version_asks_again(gateway: Gateway, monkeypatch: object) -> None:
    import datetime

    import pytest

    from auth import terms

    token = await gateway.login(JANIS)
    newer = (*terms.TERMS_VERSIONS, terms.TermsVersionRecord(5, datetime.date(2026, 11, 1), "5. versija"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(terms, "TERMS_VERSIONS", newer)
        assert (await gateway.gql(VIEWER, token=token))["data"]["viewer"]["termsAccepted"] is False
        body = await gateway.gql("mutation { acceptTerms(version: 5) { termsAccepted } }", token=token)
        assert body["data"]["acceptTerms"]["termsAccepted"] is True


GRANT = """mutation($c: ID!, $e: String!, $s: [Scope!]!) {
  grantRepresentative(clientId: $c, email: $e, scopes: $s) { id email scopes revoked } }"""
REVOKE = "mutation($c: ID!, $r: ID!) { revokeRepresentative(clientId: $c, representativeId: $r) }"
INVOICES = "query($id: ID!) { client(id: $id) { invoices(first: 1) { totalCount } } }"


async def test_6_grant_and_revoke_a_representative_take_effect_on_the_next_request(gateway: Gateway) -> None:
    anna = await gateway.login(ANNA)
    liga = await gateway.login(LIGA)
    baltijas = gid(BALTIJAS_RADIO_CLIENT)
    assert codes(await gateway.gql(INVOICES, {"id": baltijas}, token=liga)) == {"client": "NOT_FOUND"}
    granted = await gateway.gql(GRANT, {"c": baltijas, "e": LIGA, "s": ["BILLING_READ"]}, token=anna)
    representative = granted["data"]["grantRepresentative"]
    assert representative["scopes"] == ["BILLING_READ"] and representative["revoked"] is False
    assert (await gateway.gql(INVOICES, {"id": baltijas}, token=liga))["data"]["client"]["invoices"]
    revoked = await gateway.gql(REVOKE, {"c": baltijas, "r": representative["id"]}, token=anna)
    assert revoked["data"]["revokeRepresentative"] is True
    assert codes(await gateway.gql(INVOICES, {"id": baltijas}, token=liga)) == {"client": "NOT_FOUND"}
    listed = await gateway.gql(
        "query($id: ID!) { client(id: $id) { representatives { email revoked } } }",
        {"id": baltijas},
        token=anna,
    )
    assert {"email": LIGA, "revoked": True} in listed["data"]["client"]["representatives"]


async def test_6_no_granting_scopes_one_does_not_hold_nor_without_the_manage_scope(gateway: Gateway) -> None:
    peteris = await gateway.login(PETERIS)
    body = await gateway.gql(
        GRANT, {"c": gid(BALTIJAS_RADIO_CLIENT), "e": LIGA, "s": ["BILLING_READ"]}, token=peteris
    )
    assert codes(body) == {"grantRepresentative": "FORBIDDEN"}
    janis = await gateway.login(JANIS)
    body = await gateway.gql(GRANT, {"c": gid(JANIS_CLIENT), "e": LIGA, "s": ["BILLING_READ"]}, token=janis)
    assert codes(body) == {"grantRepresentative": "FORBIDDEN"}
    outsider = await gateway.gql(
        GRANT, {"c": gid(BALTIJAS_RADIO_CLIENT), "e": LIGA, "s": ["BILLING_READ"]}, token=janis
    )
    assert codes(outsider) == {"grantRepresentative": "NOT_FOUND"}


async def test_6_revoking_another_clients_mandate_is_not_found(gateway: Gateway) -> None:
    anna = await gateway.login(ANNA)
    granted = await gateway.gql(
        GRANT, {"c": gid(BALTIJAS_RADIO_CLIENT), "e": LIGA, "s": ["BILLING_READ"]}, token=anna
    )
    rep_id = granted["data"]["grantRepresentative"]["id"]
    body = await gateway.gql(REVOKE, {"c": gid(JANIS_CLIENT), "r": rep_id}, token=anna)
    assert codes(body)["revokeRepresentative"] in ("FORBIDDEN", "NOT_FOUND")


async def mail_server_down(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The mailer refuses every mail from now on (its recipients are listed); the outbox has tried once."""
    refused: list[str] = []

    async def down(mail: EmailMessage) -> None:
        refused.append(str(mail["To"]))
        raise OSError("the mail server is away")

    monkeypatch.setattr(gateway.app.state.services.mailer, "send", down)
    return refused


async def outbox_rows(gateway: Gateway) -> list[dict[str, object]]:
    async with gateway.app.state.services.outbox.engine.begin() as conn:
        return [dict(row._mapping) for row in await conn.execute(sa.select(outbox))]


async def tried_while_down(gateway: Gateway, refused: list[str]) -> None:
    """Waits for the outbox's first try, then makes every row due again, as after its backoff."""

    async def tried() -> bool:
        return bool(refused)

    await deliver_until(gateway, tried)
    assert refused
    async with gateway.app.state.services.outbox.engine.begin() as conn:
        await conn.execute(outbox.update().values(next_attempt_at=utcnow()))


async def test_13_a_reset_link_waits_out_a_mail_outage_and_no_token_is_stored(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = await mail_server_down(gateway, monkeypatch)
    response = await gateway.client.post("/auth/password/forgot", json={"email": JANIS})
    assert response.status_code == 202
    await tried_while_down(gateway, refused)
    [row] = await outbox_rows(gateway)
    assert row["delivered_at"] is None and "the mail server is away" in str(row["last_error"])
    assert json.loads(str(row["payload"])).keys() == {"user_id", "purpose"}  # whom and why, no token
    monkeypatch.undo()
    [(to, mail)] = await outbox_mails(gateway)
    assert to == JANIS and set(refused) == {JANIS}
    reset = {"token": token_in(mail), "newPassword": "Jauna-Parole-77"}
    assert (await gateway.client.post("/auth/password/reset", json=reset)).status_code == 204


async def test_13_a_link_queued_for_an_account_blocked_before_it_went_out_is_not_sent(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = await mail_server_down(gateway, monkeypatch)
    await gateway.client.post("/auth/password/forgot", json={"email": JANIS})
    await tried_while_down(gateway, refused)
    staff = await gateway.login(STAFF)
    blocked = await gateway.gql(STATE, {"e": JANIS}, token=staff)
    assert blocked["data"]["blockUser"]["state"] == "BLOCKED"
    monkeypatch.undo()
    assert await outbox_mails(gateway) == []
    [row] = await outbox_rows(gateway)
    assert row["delivered_at"] is not None  # done: there was nothing to send


STATE = """mutation($e: String!) { blockUser(email: $e, reason: SUSPECTED_MISUSE) { state stateReason } }"""


async def test_5_12_2_staff_block_ends_sessions_and_refuses_login_then_unblock(gateway: Gateway) -> None:
    staff = await gateway.login(STAFF)
    janis = await gateway.login(JANIS)
    body = await gateway.gql(STATE, {"e": JANIS}, token=staff)
    assert body["data"]["blockUser"] == {"state": "BLOCKED", "stateReason": "SUSPECTED_MISUSE"}
    assert (await gateway.gql(VIEWER, token=janis))["data"]["viewer"] is None
    refused = await gateway.client.post("/auth/login", json={"email": JANIS, "password": "Radio-2026"})
    assert refused.status_code == 403 and refused.json() == {"error": "account_blocked"}
    unblocked = await gateway.gql(
        'mutation { unblockUser(email: "janis.berzins@example.lv") { state } }', token=staff
    )
    assert unblocked["data"]["unblockUser"]["state"] == "ACTIVE"
    await gateway.login(JANIS)


async def test_21_termination_is_final(gateway: Gateway) -> None:
    staff = await gateway.login(STAFF)
    body = await gateway.gql(
        'mutation { terminateUser(email: "liga.liepa@example.lv", reason: USER_REQUEST) { state } }',
        token=staff,
    )
    assert body["data"]["terminateUser"]["state"] == "TERMINATED"
    refused = await gateway.client.post("/auth/login", json={"email": LIGA, "password": "Radio-2026"})
    assert refused.json() == {"error": "account_terminated"}
    again = await gateway.gql(
        'mutation { unblockUser(email: "liga.liepa@example.lv") { state } }', token=staff
    )
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_staff_operations_are_forbidden_to_portal_users(gateway: Gateway) -> None:
    anna = await gateway.login(ANNA)
    body = await gateway.gql(STATE, {"e": JANIS}, token=anna)
    assert codes(body) == {"blockUser": "FORBIDDEN"}
    anonymous = await gateway.gql(STATE, {"e": JANIS})
    assert codes(anonymous) == {"blockUser": "UNAUTHENTICATED"}


async def test_15_4_staff_can_require_a_password_change(gateway: Gateway) -> None:
    staff = await gateway.login(STAFF)
    await gateway.gql(
        'mutation { requirePasswordChange(email: "janis.berzins@example.lv") { email } }', token=staff
    )
    response = await gateway.client.post("/auth/login", json={"email": JANIS, "password": "Radio-2026"})
    assert response.json()["mustChangePassword"] is True


REGISTER = """mutation($i: RegisterPortalUserInput!) { registerPortalUser(input: $i) { email state } }"""


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ({"selfClientId": gid(BALTIJAS_RADIO_CLIENT), "personalCode": "010190-12345"}, "never logs in"),
        ({"selfClientId": gid(JANIS_CLIENT), "personalCode": "010190-12345"}, "must be the personal code"),
        ({"selfClientId": gid(JANIS_CLIENT)}, "must be the personal code"),
        ({"selfClientId": gid("K999999"), "personalCode": "010190-12345"}, "not a client the billing"),
        ({"mandates": [{"clientId": gid("K999999"), "scopes": ["BILLING_READ"]}]}, "does not know"),
        # the clients check out; the personal code is Jānis's, who has an account already
        ({"selfClientId": gid(JANIS_CLIENT), "personalCode": "140385-12341"}, "exists already"),
    ],
)
async def test_2_5_registration_checks_the_users_own_client_and_the_mandates_clients(
    gateway: Gateway, given: dict[str, object], refusal: str
) -> None:
    staff = await gateway.login(STAFF)
    new = {"email": "karlis.kalns@example.lv", "fullName": "Kārlis Kalns", **given}
    body = await gateway.gql(REGISTER, {"i": new}, token=staff)
    assert codes(body) == {"registerPortalUser": "BAD_USER_INPUT"}
    assert refusal in body["errors"][0]["message"]
    assert await outbox_mails(gateway) == []


async def test_10_staff_registers_a_user_who_sets_the_first_password_by_the_mailed_link(
    gateway: Gateway,
) -> None:
    staff = await gateway.login(STAFF)
    new = {
        "email": "karlis.kalns@example.lv",
        "fullName": "Kārlis Kalns",
        "mandates": [{"clientId": gid(BALTIJAS_RADIO_CLIENT), "scopes": ["BILLING_READ"]}],
    }
    body = await gateway.gql(REGISTER, {"i": new}, token=staff)
    assert body["data"]["registerPortalUser"] == {"email": "karlis.kalns@example.lv", "state": "ACTIVE"}
    duplicate = await gateway.gql(REGISTER, {"i": new}, token=staff)
    assert duplicate["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    [(to, mail)] = await outbox_mails(gateway)
    assert to == "karlis.kalns@example.lv"
    response = await gateway.client.post(
        "/auth/password/reset", json={"token": token_in(mail), "newPassword": "Pirma-Parole-42"}
    )
    assert response.status_code == 204
    token = await gateway.login("karlis.kalns@example.lv", "Pirma-Parole-42")
    invoices = await gateway.gql(INVOICES, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
    assert invoices["data"]["client"]["invoices"]["totalCount"] >= 45


async def test_12_1_the_account_shows_locked_while_the_lockout_runs(gateway: Gateway) -> None:
    staff = await gateway.login(STAFF)
    for _ in range(5):
        await gateway.client.post("/auth/login", json={"email": JANIS, "password": "nope-1234"})
    body = await gateway.gql('{ portalUser(email: "janis.berzins@example.lv") { state } }', token=staff)
    assert body["data"]["portalUser"]["state"] == "LOCKED"
