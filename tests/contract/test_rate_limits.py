"""Terms 12.2, rate limits counted across every instance through the shared store: tries at the endpoints that
check a secret per client address, reset mails per e-mail and per address (still 202), support reports per
user, every request of a session's user, GraphQL without a session per address; each refusal counted in
/metrics. (The partner banks' limit: tests/contract/test_bank_api.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.personas import JANIS_CLIENT
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_audit import records
from tests.contract.test_downloads import first_document
from tests.contract.test_identity import outbox_mails
from tests.contract.test_personas import ANNA, ILZE, JANIS, STAFF, codes
from tests.integration.test_metrics import value

REPORT = 'mutation { reportPortalIssue(message: "Rēķins netiek rādīts") }'
EMAIL = "{ viewer { user { email } } }"
PUBLIC = "{ termsOfUse { version } }"


async def limited(make_gateway: GatewayFactory, tmp_path: Path, **limits: object) -> tuple[Gateway, Gateway]:
    """Two instances over one store and database, with these limits and the test client's proxy trusted."""
    settings = gateway_settings(tmp_path, trusted_proxies=("127.0.0.1",), **limits)
    return await make_gateway(settings=settings), await make_gateway(settings=settings)


async def rate_limited_count(gateway: Gateway, limit: str) -> float:
    return value((await gateway.client.get("/metrics")).text, "gateway_rate_limited_total", limit=limit)


async def test_tries_at_the_secret_checking_endpoints_are_limited_per_address(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    one, two = await limited(make_gateway, tmp_path, login_rate_limit=(4, 60))
    counted = await rate_limited_count(one, "login")
    wrong = {"email": JANIS, "password": "nope-1234"}
    assert (await one.client.post("/auth/login", json=wrong)).status_code == 401
    assert (await two.client.post("/auth/login", json={"email": ILZE, "password": "x"})).status_code == 401
    reset = await one.client.post("/auth/password/reset", json={"token": "t", "newPassword": "x"})
    assert reset.status_code == 400
    await two.login(ILZE)  # the fourth, from the same address through the other instance
    refused = await one.client.post("/auth/login", json={"email": ILZE, "password": "Radio-2026"})
    assert refused.status_code == 429
    retry_after = refused.json()["retryAfter"]
    assert refused.json()["error"] == "rate_limited" and 1 <= retry_after <= 60
    assert refused.headers["Retry-After"] == str(retry_after)
    entry = await two.client.post("/auth/bank/entry", data={"assertion": "x"})
    assert entry.status_code == 429
    # Another client address behind the trusted proxy has its own count; other routes are not limited.
    elsewhere = {"X-Forwarded-For": "192.0.2.10"}
    other = await one.client.post("/auth/login", json=wrong, headers=elsewhere)
    assert other.status_code == 401
    assert (await one.gql("{ viewer { user { email } } }"))["data"] == {"viewer": None}
    assert await rate_limited_count(one, "login") - counted == 2


async def test_reset_mails_are_limited_per_e_mail_and_the_answer_stays_202(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    one, two = await limited(make_gateway, tmp_path, reset_mail_rate_limit=(2, 3600))
    for instance in (one, two, one):
        response = await instance.client.post("/auth/password/forgot", json={"email": JANIS})
        assert response.status_code == 202 and response.json() == {"status": "accepted"}
    other = await two.client.post("/auth/password/forgot", json={"email": ILZE})
    assert other.status_code == 202
    assert sorted(to for to, _ in await outbox_mails(one)) == [ILZE, JANIS, JANIS]
    outcomes = [r.outcome for r in await records(one, operation="auth.password.forgot")]
    assert outcomes == ["accepted", "accepted", "rate_limited", "accepted"]


async def test_reset_requests_are_limited_per_address_too(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    one, _ = await limited(make_gateway, tmp_path, login_rate_limit=(2, 60))
    for email in ("a@example.lv", "b@example.lv", JANIS):
        response = await one.client.post("/auth/password/forgot", json={"email": email})
        assert response.status_code == 202
    assert await outbox_mails(one) == []  # the third, the only one with an account, was dropped
    assert await rate_limited_count(one, "reset_mail") >= 1


async def test_support_reports_are_limited_per_user(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    one, two = await limited(make_gateway, tmp_path, issue_rate_limit=(2, 3600))
    janis, ilze = await one.login(JANIS), await two.login(ILZE)
    assert (await one.gql(REPORT, token=janis))["data"] == {"reportPortalIssue": True}
    assert (await two.gql(REPORT, token=janis))["data"] == {"reportPortalIssue": True}
    refused = await one.gql(REPORT, token=janis)
    assert codes(refused) == {"reportPortalIssue": "RATE_LIMITED"}
    assert 1 <= refused["errors"][0]["extensions"]["retryAfter"] <= 3600
    assert "atbalsts@radioatlaujas.lv" in refused["errors"][0]["message"]
    assert (await one.gql(REPORT, token=ilze))["data"] == {"reportPortalIssue": True}  # her own count
    assert await rate_limited_count(two, "portal_issue") >= 1


async def test_a_users_requests_are_limited_across_sessions_and_instances(
    make_gateway: GatewayFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = await limited(make_gateway, tmp_path, user_rate_limit=(4, 60))
    counted = await rate_limited_count(one, "user")
    janis, again, anna = await one.login(JANIS), await two.login(JANIS), await two.login(ANNA)
    link = (await first_document(one, janis, JANIS_CLIENT))["downloadUrl"]  # the first of his four
    assert (await one.client.get(link, headers={"Authorization": f"Bearer {janis}"})).status_code == 200
    assert (await two.gql(EMAIL, token=again))["data"] == {"viewer": {"user": {"email": JANIS}}}
    assert (await one.gql(EMAIL, token=again))["data"] == {"viewer": {"user": {"email": JANIS}}}
    # The fifth, from either session on either instance: refused before the query runs.
    response = await two.client.post(
        "/graphql", json={"query": EMAIL}, headers={"Authorization": f"Bearer {janis}"}
    )
    assert response.status_code == 200
    refused = response.json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    retry_after = refused["errors"][0]["extensions"]["retryAfter"]
    assert 1 <= retry_after <= 60 and response.headers["Retry-After"] == str(retry_after)
    assert (
        refused["errors"][0]["message"]
        == f"Too many requests from your account; try again in {retry_after} s."
    )
    download = await one.client.get(link, headers={"Authorization": f"Bearer {again}"})
    assert download.status_code == 429 and download.json()["error"] == "rate_limited"
    assert download.headers["Retry-After"] == str(download.json()["retryAfter"])
    # Others keep their own count: another user, and requests without a session.
    assert (await one.gql(EMAIL, token=anna))["data"] == {"viewer": {"user": {"email": ANNA}}}
    assert "errors" not in await one.gql(PUBLIC)
    assert await rate_limited_count(one, "user") - counted == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "gateway.rate_limits"]
    assert len(logged) == 2 and logged[0].startswith("rate limit user: user ")
    assert logged[0].endswith(f" at /graphql refused for {retry_after} s")


async def test_a_link_used_without_a_session_counts_against_its_users_limit(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    one, two = await limited(make_gateway, tmp_path, user_rate_limit=(4, 60))
    janis, anna = await one.login(JANIS), await one.login(ANNA)
    link = (await first_document(one, janis, JANIS_CLIENT))["downloadUrl"]  # the first of his four
    assert (await two.client.get(link)).status_code == 200  # the link alone, as a mail client opens it
    assert (await one.client.get(link, headers={"Authorization": "Bearer ended"})).status_code == 200
    assert (await two.gql(EMAIL, token=janis))["data"] == {"viewer": {"user": {"email": JANIS}}}
    refused = await one.client.get(link)
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    after = await two.gql(EMAIL, token=janis)  # his session's next request: the same count
    assert after["data"] is None and after["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert (await one.gql(EMAIL, token=anna))["data"] == {"viewer": {"user": {"email": ANNA}}}


async def test_a_staff_members_export_counts_against_the_same_limit(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    one, _ = await limited(make_gateway, tmp_path, user_rate_limit=(1, 60))
    staff = await one.login(STAFF)
    headers = {"Authorization": f"Bearer {staff}"}
    assert (await one.client.get("/staff/audit.csv", headers=headers)).status_code == 200
    refused = await one.client.get("/staff/audit.csv", headers=headers)
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"


async def test_graphql_without_a_session_is_limited_per_address(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    one, two = await limited(make_gateway, tmp_path, anonymous_rate_limit=(2, 60))
    counted = await rate_limited_count(one, "anonymous")
    assert "errors" not in await one.gql(PUBLIC)
    assert "errors" not in await two.gql(PUBLIC)
    refused = await one.gql(PUBLIC)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused["errors"][0]["message"].startswith("Too many requests from your address; try again in")
    # An unknown or ended session is anonymous too; another address, or a user's session, is not.
    unknown = await two.gql(PUBLIC, token="no-such-session")
    assert unknown["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    elsewhere = await one.client.post(
        "/graphql", json={"query": PUBLIC}, headers={"X-Forwarded-For": "192.0.2.10"}
    )
    assert "errors" not in elsewhere.json()
    janis = await one.login(JANIS)
    assert (await one.gql(EMAIL, token=janis))["data"] == {"viewer": {"user": {"email": JANIS}}}
    assert await rate_limited_count(one, "anonymous") - counted == 2
