"""POST /auth/login and /auth/logout as the contract fixes them; sessions by cookie and by bearer token."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from auth.passwords import verify_password
from auth.sessions import COOKIE_NAME
from gateway import auth_routes
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import ILZE, JANIS

VIEWER_EMAIL = "{ viewer { user { email } } }"


async def test_login_gives_token_expiry_and_an_httponly_lax_cookie(gateway: Gateway) -> None:
    response = await gateway.client.post("/auth/login", json={"email": JANIS, "password": "Radio-2026"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiresAt", "mustChangePassword"}
    assert body["mustChangePassword"] is False
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE_NAME}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # dev runs on plain http://127.0.0.1


async def test_wrong_password_and_unknown_email_get_the_same_401(gateway: Gateway) -> None:
    wrong = await gateway.client.post("/auth/login", json={"email": JANIS, "password": "Radio-2027"})
    unknown = await gateway.client.post("/auth/login", json={"email": "nobody@example.lv", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "invalid_credentials"}


async def test_malformed_login_body_is_a_clear_400(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/login", content=b"email=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert "email" in response.json()["detail"]


async def test_five_failures_lock_known_and_unknown_emails_alike(gateway: Gateway) -> None:
    for email in (ILZE, "ghost@example.lv"):
        for _ in range(5):
            response = await gateway.client.post(
                "/auth/login", json={"email": email, "password": "nope-1234"}
            )
            assert response.status_code == 401
        locked = await gateway.client.post("/auth/login", json={"email": email, "password": "Radio-2026"})
        assert locked.status_code == 423
        assert locked.json()["error"] == "locked" and 0 < locked.json()["retryAfter"] <= 900


async def test_parallel_tries_get_five_password_checks_between_them(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty wrong passwords sent at once (each waits for its hash check off the loop): five are checked
    and answered 401, the others 423, and the right password after them is locked out too (terms 12.1)."""
    checks: list[str] = []

    async def counted(stored_hash: str | None, password: str) -> bool:
        checks.append(password)
        return await verify_password(stored_hash, password)

    monkeypatch.setattr(auth_routes, "verify_password", counted)
    tries = [
        gateway.client.post("/auth/login", json={"email": ILZE, "password": f"guess-{n}"}) for n in range(20)
    ]
    statuses = sorted(response.status_code for response in await asyncio.gather(*tries))
    assert statuses == [401] * 5 + [423] * 15
    assert len(checks) == 5
    locked = await gateway.client.post("/auth/login", json={"email": ILZE, "password": "Radio-2026"})
    assert locked.status_code == 423 and len(checks) == 5


async def test_a_success_resets_the_failure_count(gateway: Gateway) -> None:
    for _ in range(4):
        await gateway.client.post("/auth/login", json={"email": JANIS, "password": "nope-1234"})
    await gateway.login(JANIS)
    for _ in range(4):
        await gateway.client.post("/auth/login", json={"email": JANIS, "password": "nope-1234"})
    await gateway.login(JANIS)


async def test_bearer_token_and_cookie_both_authenticate(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    by_bearer = await gateway.gql(VIEWER_EMAIL, token=token)
    assert by_bearer["data"]["viewer"]["user"]["email"] == JANIS
    assert (await gateway.gql(VIEWER_EMAIL))["data"]["viewer"] is None
    await gateway.client.post("/auth/login", json={"email": JANIS, "password": "Radio-2026"})
    # The client keeps the cookie now: a JSON POST is not a simple request, so the cookie counts.
    by_cookie = await gateway.gql(VIEWER_EMAIL)
    assert by_cookie["data"]["viewer"]["user"]["email"] == JANIS


async def test_simple_cross_site_style_posts_to_graphql_are_refused(gateway: Gateway) -> None:
    """A form or text/plain POST (which a browser sends cross-site without a preflight) never executes."""
    await gateway.login(JANIS)
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        response = await gateway.client.post(
            "/graphql",
            content=b'{"query": "{ viewer { user { email } } }"}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 400, content_type
        assert JANIS not in response.text


def test_csrf_rule_needs_a_non_simple_content_type_or_x_requested_with() -> None:
    from starlette.requests import Request

    from gateway.context import csrf_safe

    def request(method: str, headers: dict[str, str]) -> Request:
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        return Request({"type": "http", "method": method, "headers": raw, "path": "/", "query_string": b""})

    assert csrf_safe(request("GET", {}))
    assert csrf_safe(request("POST", {"content-type": "application/json"}))
    assert csrf_safe(request("POST", {"content-type": "text/plain", "x-requested-with": "fetch"}))
    assert not csrf_safe(request("POST", {"content-type": "text/plain"}))
    assert not csrf_safe(
        request("POST", {"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
    )
    assert not csrf_safe(request("POST", {}))


async def test_logout_ends_the_session(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    response = await gateway.client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    body = await gateway.gql(VIEWER_EMAIL, token=token)
    assert body["data"]["viewer"] is None


async def test_an_invalid_bearer_token_is_anonymous(gateway: Gateway) -> None:
    body = await gateway.gql(VIEWER_EMAIL, token="not-a-token")
    assert body["data"]["viewer"] is None


async def test_12_1_an_unknown_email_costs_about_as_much_time_as_a_wrong_password(gateway: Gateway) -> None:
    """No timing oracle: both paths verify one Argon2id hash (a loose bound; the cost dwarfs the rest)."""
    import time

    async def cost(email: str) -> float:
        started = time.perf_counter()
        for _ in range(3):
            await gateway.client.post("/auth/login", json={"email": email, "password": "wrong-123"})
        return time.perf_counter() - started

    known, unknown = await cost(JANIS), await cost("nobody@example.lv")
    assert unknown > known * 0.4, (known, unknown)


async def test_15_6_idle_and_absolute_session_timeouts(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    import asyncio

    # Windows of a few seconds, so that a slow machine's request (well under them) does not decide it.
    idle = await make_gateway(settings=gateway_settings(tmp_path, session_idle_seconds=3))
    token = await idle.login(JANIS)
    assert (await idle.gql(VIEWER_EMAIL, token=token))["data"]["viewer"] is not None
    await asyncio.sleep(3.3)
    assert (await idle.gql(VIEWER_EMAIL, token=token))["data"]["viewer"] is None

    absolute = await make_gateway(settings=gateway_settings(tmp_path, session_absolute_seconds=4))
    token = await absolute.login(JANIS)
    for _ in range(3):  # kept busy, so never idle, yet the absolute limit ends it
        await asyncio.sleep(1.4)
        body = await absolute.gql(VIEWER_EMAIL, token=token)
    assert body["data"]["viewer"] is None
