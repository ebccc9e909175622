"""The audit journal as staff and the law see it (terms 9, 18, 23.1, 23.3): what is recorded, who may read
it, the CSV export, and `gateway audit verify` from a shell."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.audit import AuditJournal, AuditRecord
from gateway.db import audit_log, create_engine, migrate
from gateway.settings import normalise_database_url
from sandbox.personas import BALTIJAS_RADIO_CLIENT
from tests.conftest import Gateway
from tests.contract.test_personas import ANNA, ILZE, JANIS, LIGA, STAFF, codes, gid

AGENT = "audit-test/1.0 (contract)"
AUDIT_LOG = """query($first: Int, $after: String, $op: String, $who: String) {
  auditLog(first: $first, after: $after, operation: $op, principal: $who) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { seq at principalKind principal actingFor ip userAgent operation outcome requestId
      details prevHash hash } } } }"""
BLOCK = "mutation($e: String!) { blockUser(email: $e, reason: SUSPECTED_MISUSE) { state } }"


def journal(gateway: Gateway) -> AuditJournal:
    audit: AuditJournal = gateway.app.state.services.audit
    return audit


async def records(gateway: Gateway, **filters: Any) -> list[AuditRecord]:
    """Oldest first, every record of the test's journal."""
    page = await journal(gateway).page(first=1000, **filters)
    return list(reversed(page.records))


def text_of(rows: list[AuditRecord]) -> str:
    return json.dumps([[str(v) for v in vars_of(r)] for r in rows])


def vars_of(record: AuditRecord) -> list[object]:
    return [getattr(record, name) for name in record.__slots__]


async def test_login_failure_and_success_are_journalled_with_ip_agent_request_id_and_no_password(
    gateway: Gateway,
) -> None:
    headers = {"user-agent": AGENT, "x-request-id": "req-login-failure-1"}
    wrong = await gateway.client.post(
        "/auth/login", json={"email": JANIS, "password": "Wrong-Pass-99"}, headers=headers
    )
    assert wrong.status_code == 401
    headers["x-request-id"] = "req-login-success-1"
    right = await gateway.client.post(
        "/auth/login", json={"email": JANIS, "password": "Radio-2026"}, headers=headers
    )
    assert right.status_code == 200
    logins = await records(gateway, operation="auth.login")
    failure, success = logins[-2:]
    assert (failure.principal_kind, failure.principal, failure.outcome) == (
        "anonymous",
        JANIS,
        "invalid_credentials",
    )
    assert (failure.user_agent, failure.request_id) == (AGENT, "req-login-failure-1")
    assert failure.ip == "127.0.0.1"
    assert (success.principal_kind, success.outcome, success.request_id) == (
        "user",
        "ok",
        "req-login-success-1",
    )
    assert success.principal is not None and success.details["email"] == JANIS
    everything = text_of(await records(gateway))
    assert "Wrong-Pass-99" not in everything and "Radio-2026" not in everything
    assert right.json()["token"] not in everything


async def test_lockout_block_logout_and_unknown_users_each_leave_their_outcome(gateway: Gateway) -> None:
    for _ in range(6):
        await gateway.client.post("/auth/login", json={"email": "ghost@example.lv", "password": "nope-1234"})
    ghost = [r.outcome for r in await records(gateway, principals=("ghost@example.lv",))]
    assert ghost == ["invalid_credentials"] * 5 + ["locked"]
    staff = await gateway.login(STAFF)
    assert (await gateway.gql(BLOCK, {"e": ILZE}, token=staff))["data"]["blockUser"]["state"] == "BLOCKED"
    refused = await gateway.client.post("/auth/login", json={"email": ILZE, "password": "Radio-2026"})
    assert refused.status_code == 403
    assert (await records(gateway, operation="auth.login"))[-1].outcome == "account_blocked"
    janis = await gateway.login(JANIS)
    await gateway.client.post("/auth/logout", headers={"Authorization": f"Bearer {janis}"})
    [logout] = await records(gateway, operation="auth.logout")
    assert (logout.principal_kind, logout.outcome) == ("user", "ok")


async def test_a_staff_block_is_journalled_and_a_portal_users_attempt_too(gateway: Gateway) -> None:
    staff = await gateway.login(STAFF)
    response = await gateway.client.post(
        "/graphql",
        json={"query": BLOCK, "variables": {"e": LIGA}},
        headers={"Authorization": f"Bearer {staff}", "user-agent": AGENT},
    )
    assert response.json()["data"]["blockUser"]["state"] == "BLOCKED"
    [block] = await records(gateway, operation="blockUser")
    assert (block.principal_kind, block.outcome, block.user_agent) == ("staff", "ok", AGENT)
    assert block.details["email"] == LIGA and block.details["reason"] == "SUSPECTED_MISUSE"
    assert block.details["userId"] and block.request_id
    janis = await gateway.login(JANIS)
    assert codes(await gateway.gql(BLOCK, {"e": ANNA}, token=janis)) == {"blockUser": "FORBIDDEN"}
    attempt = (await records(gateway, operation="blockUser"))[-1]
    assert (attempt.principal_kind, attempt.outcome, attempt.details["email"]) == ("user", "forbidden", ANNA)


async def test_secrets_and_personal_codes_never_reach_the_journal(gateway: Gateway) -> None:
    janis = await gateway.login(JANIS)
    change = """mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
      mustChangePassword } }"""
    body = await gateway.gql(change, {"c": "Not-The-One-1", "n": "Brand-New-Pass-2"}, token=janis)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await gateway.client.post(
        "/auth/password/reset", json={"token": "tok-abc-123", "newPassword": "Xyz-98765"}
    )
    staff = await gateway.login(STAFF)
    register = """mutation($i: RegisterPortalUserInput!) { registerPortalUser(input: $i) { email } }"""
    person = {"email": "zane.kalnina@example.lv", "fullName": "Zane Kalniņa", "personalCode": "250590-11111"}
    assert (await gateway.gql(register, {"i": person}, token=staff))["data"]["registerPortalUser"]
    rows = await records(gateway)
    everything = text_of(rows)
    for secret in ("Not-The-One-1", "Brand-New-Pass-2", "tok-abc-123", "Xyz-98765", "250590-11111", janis):
        assert secret not in everything
    [changed] = [r for r in rows if r.operation == "changePassword"]
    assert changed.outcome == "bad_user_input"
    [reset] = [r for r in rows if r.operation == "auth.password.reset"]
    assert reset.outcome == "invalid_token"
    [registered] = [r for r in rows if r.operation == "registerPortalUser"]
    assert registered.details["personalCode"] == "[redacted]" and registered.outcome == "ok"


async def test_granting_a_representative_records_the_client_acted_for(gateway: Gateway) -> None:
    anna = await gateway.login(ANNA)
    grant = """mutation($c: ID!, $e: String!) {
      grantRepresentative(clientId: $c, email: $e, scopes: [BILLING_READ]) { id } }"""
    assert (await gateway.gql(grant, {"c": gid(BALTIJAS_RADIO_CLIENT), "e": LIGA}, token=anna))["data"]
    [granted] = await records(gateway, operation="grantRepresentative")
    assert (granted.acting_for, granted.outcome) == (BALTIJAS_RADIO_CLIENT, "ok")
    assert granted.details["scopes"] == ["BILLING_READ"] and granted.details["representativeId"]


async def test_staff_pages_through_the_audit_log_newest_first(gateway: Gateway) -> None:
    for _ in range(3):
        await gateway.client.post("/auth/login", json={"email": JANIS, "password": "nope-1234"})
    staff = await gateway.login(STAFF)
    first = await gateway.gql(AUDIT_LOG, {"first": 2, "op": "auth.login"}, token=staff)
    log = first["data"]["auditLog"]
    assert log["totalCount"] == 4 and log["pageInfo"]["hasNextPage"] is True
    newest, second = (e["node"] for e in log["edges"])
    assert newest["seq"] > second["seq"] and newest["principalKind"] == "staff"
    assert second["principal"] == JANIS and second["outcome"] == "invalid_credentials"
    assert len(newest["hash"]) == 64 and json.loads(newest["details"])["email"] == STAFF
    rest = await gateway.gql(
        AUDIT_LOG, {"first": 10, "op": "auth.login", "after": log["pageInfo"]["endCursor"]}, token=staff
    )
    assert [e["node"]["outcome"] for e in rest["data"]["auditLog"]["edges"]] == ["invalid_credentials"] * 2
    by_email = await gateway.gql(AUDIT_LOG, {"first": 50, "who": JANIS}, token=staff)
    assert by_email["data"]["auditLog"]["totalCount"] == 3


async def test_audit_log_is_forbidden_to_a_portal_user_and_needs_a_login(gateway: Gateway) -> None:
    janis = await gateway.login(JANIS)
    assert codes(await gateway.gql(AUDIT_LOG, {"first": 5}, token=janis)) == {"auditLog": "FORBIDDEN"}
    assert codes(await gateway.gql(AUDIT_LOG, {"first": 5})) == {"auditLog": "UNAUTHENTICATED"}
    staff = await gateway.login(STAFF)
    assert codes(await gateway.gql(AUDIT_LOG, {"first": 0}, token=staff)) == {"auditLog": "BAD_USER_INPUT"}


async def test_staff_export_the_journal_as_csv_and_no_one_else(gateway: Gateway) -> None:
    janis = await gateway.login(JANIS)
    assert (await gateway.client.get("/staff/audit.csv")).status_code == 403
    forbidden = await gateway.client.get("/staff/audit.csv", headers={"Authorization": f"Bearer {janis}"})
    assert forbidden.status_code == 403
    staff = await gateway.login(STAFF)
    response = await gateway.client.get("/staff/audit.csv", headers={"Authorization": f"Bearer {staff}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["operation"] for r in rows] == ["auth.login", "auth.login", "audit.export"]
    assert rows[0]["principal"] and len(rows[0]["hash"]) == 64 and rows[1]["prev_hash"] == rows[0]["hash"]
    later = await gateway.client.get(
        "/staff/audit.csv?since=2999-01-01", headers={"Authorization": f"Bearer {staff}"}
    )
    assert later.text.count("\n") == 1
    assert (await journal(gateway).verify()).ok


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "GATEWAY_VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        "PUBLIC_URL": "https://portal.example",
    }
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


async def test_audit_verify_from_a_shell_exits_1_at_the_first_altered_record(tmp_path: Path) -> None:
    added = cli(tmp_path, "users", "add", "--email", "ilga@example.lv", "--name", "Ilga Zariņa")
    assert added.returncode == 0, added.stderr
    assert cli(tmp_path, "users", "block", "ilga@example.lv", "--reason", "USER_REQUEST").returncode == 0
    assert cli(tmp_path, "users", "unblock", "nobody@example.lv").returncode == 1
    intact = cli(tmp_path, "audit", "verify")
    assert (intact.returncode, intact.stdout.strip()) == (0, "3 records, chain intact"), intact.stderr

    exported = cli(tmp_path, "audit", "export", "--since", "2000-01-01")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert exported.returncode == 0 and [
        (r["operation"], r["outcome"], r["principal_kind"]) for r in rows
    ] == [
        ("registerPortalUser", "ok", "system"),
        ("blockUser", "ok", "system"),
        ("unblockUser", "not_found", "system"),
    ]
    assert rows[0]["principal"].startswith("cli:")

    engine = create_engine(normalise_database_url(f"sqlite:///{tmp_path / 'cli.db'}"))
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(audit_log).where(audit_log.c.seq == 2).values(outcome="bad_user_input")
            )
    finally:
        await engine.dispose()
    broken = cli(tmp_path, "audit", "verify")
    assert broken.returncode == 1 and "seq 2" in broken.stderr and "altered" in broken.stderr
