"""CORS_ORIGINS: a frontend on another origin may call the gateway, with credentials; no other origin may
read an answer or send the non-simple requests the session cookie's CSRF check asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import JANIS

PORTAL = "https://portal.radioatlaujas.lv"
EMAIL = "{ viewer { user { email } } }"


def preflight(origin: str, headers: str = "content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def with_origins(make_gateway: GatewayFactory, tmp_path: Path, **overrides: object) -> Gateway:
    return await make_gateway(settings=gateway_settings(tmp_path, cors_origins=(PORTAL,), **overrides))


async def test_a_listed_origin_may_call_with_credentials_and_read_the_request_id(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway = await with_origins(make_gateway, tmp_path)
    allowed = await gateway.client.options(
        "/graphql", headers=preflight(PORTAL, "content-type,authorization")
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PORTAL
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert {"authorization", "content-type"} <= set(
        allowed.headers["access-control-allow-headers"].lower().split(", ")
    )
    token = await gateway.login(JANIS)
    answer = await gateway.client.post(
        "/graphql", json={"query": EMAIL}, headers={"Origin": PORTAL, "Authorization": f"Bearer {token}"}
    )
    assert answer.json()["data"] == {"viewer": {"user": {"email": JANIS}}}
    assert answer.headers["access-control-allow-origin"] == PORTAL
    assert answer.headers["access-control-allow-credentials"] == "true"
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and "retry-after" in exposed
    assert "origin" in answer.headers["vary"].lower()


async def test_another_origin_gets_no_cors_headers(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = await with_origins(make_gateway, tmp_path)
    refused = await gateway.client.options("/graphql", headers=preflight("https://evil.example"))
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    also = await gateway.client.options("/graphql", headers=preflight(PORTAL, "x-secret-header"))
    assert also.status_code == 400  # a header the gateway does not take
    answer = await gateway.client.post(
        "/graphql", json={"query": EMAIL}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


async def test_without_cors_origins_only_the_gateways_own_origin_is_served(gateway: Gateway) -> None:
    preflighted = await gateway.client.options("/graphql", headers=preflight(PORTAL))
    assert preflighted.status_code == 405 and "access-control-allow-origin" not in preflighted.headers
    answer = await gateway.client.post("/graphql", json={"query": EMAIL}, headers={"Origin": PORTAL})
    assert "access-control-allow-origin" not in answer.headers


async def test_a_refusal_reaches_the_page_readable(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = await with_origins(make_gateway, tmp_path, login_rate_limit=(1, 60))
    wrong = {"email": JANIS, "password": "nope-1234"}
    assert (
        await gateway.client.post("/auth/login", json=wrong, headers={"Origin": PORTAL})
    ).status_code == 401
    refused = await gateway.client.post("/auth/login", json=wrong, headers={"Origin": PORTAL})
    assert refused.status_code == 429 and refused.headers["access-control-allow-origin"] == PORTAL
    assert refused.headers["retry-after"] == str(refused.json()["retryAfter"])


def test_cors_origins_are_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", f" {PORTAL}, http://localhost:5173 ")
    assert Settings.from_env(dotenv=False).cors_origins == (PORTAL, "http://localhost:5173")
    for bad in ("*", "portal.radioatlaujas.lv", f"{PORTAL}/", f"{PORTAL}/app", "ftp://x.lv"):
        monkeypatch.setenv("CORS_ORIGINS", bad)
        with pytest.raises(SystemExit, match=f"CORS_ORIGINS lists origins .* got {re.escape(repr(bad))}$"):
            Settings.from_env(dotenv=False)
    monkeypatch.delenv("CORS_ORIGINS")
    assert Settings.from_env(dotenv=False).cors_origins == ()
