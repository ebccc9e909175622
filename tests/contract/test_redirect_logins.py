"""Unified login (2.8, 10) through the sandbox broker, and partner-bank entry (14, 23.2)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from auth.sessions import COOKIE_NAME
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import JANIS

VIEWER = "{ viewer { user { email } } }"
JANIS_CODE = "140385-12341"


async def redirect_gateway(make_gateway: GatewayFactory, tmp_path: Path) -> Gateway:
    """A gateway whose public URL is the test client's host (the default of the tests' settings)."""
    gateway = await make_gateway(settings=gateway_settings(tmp_path))
    assert gateway.app.state.services.settings.public_url == "http://gateway.test"
    return gateway


async def follow(client: httpx.AsyncClient, url: str, hops: int = 6) -> httpx.Response:
    """Follow redirects like a browser, keeping cookies."""
    response = await client.get(url)
    for _ in range(hops):
        if response.status_code not in (302, 303):
            break
        response = await client.get(response.headers["location"])
    return response


async def test_2_8_unified_login_with_login_hint_logs_in_the_matching_account(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway = await redirect_gateway(make_gateway, tmp_path)
    start = await gateway.client.get("/auth/unified/login", params={"login_hint": JANIS_CODE})
    assert start.status_code == 302
    authorize = urlsplit(start.headers["location"])
    query = parse_qs(authorize.query)
    assert authorize.path == "/sandbox/idp/authorize"
    assert query["code_challenge_method"] == ["S256"] and query["login_hint"] == [JANIS_CODE]
    at_broker = await gateway.client.get(start.headers["location"])
    assert at_broker.status_code == 302 and "/auth/unified/callback?" in at_broker.headers["location"]
    landed = await gateway.client.get(at_broker.headers["location"])
    assert landed.status_code == 303 and landed.headers["location"] == "/"
    assert COOKIE_NAME in gateway.client.cookies
    body = await gateway.gql(VIEWER)
    assert body["data"]["viewer"]["user"]["email"] == JANIS


async def test_10_unified_login_of_a_person_without_an_account_is_refused_plainly(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway = await redirect_gateway(make_gateway, tmp_path)
    persons = gateway.sandbox.broker.persons
    stranger = next(
        p
        for p in persons.values()
        if p.personal_code
        not in {"140385-12341", "030168-10774", "220791-15123", "111200-23455", "290274-19004"}
    )
    page = await follow(gateway.client, f"/auth/unified/login?login_hint={stranger.personal_code}")
    assert page.status_code == 403
    assert "does not match an active portal account" in page.text
    assert COOKIE_NAME not in gateway.client.cookies


async def test_a_forged_callback_is_refused(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = await redirect_gateway(make_gateway, tmp_path)
    page = await gateway.client.get("/auth/unified/callback", params={"code": "x", "state": "forged"})
    assert page.status_code == 403 and "not completed" in page.text


def _post_assertion(gateway: Gateway, assertion: str) -> httpx.Response:
    return gateway.client.post("/auth/bank/entry", data={"assertion": assertion})  # type: ignore[return-value]


async def test_14_bank_entry_with_a_fresh_assertion_logs_in(gateway: Gateway) -> None:
    page = await gateway.client.get("/sandbox/bank/entry", params={"personal_code": JANIS_CODE})
    assert page.status_code == 200 and 'action="http://gateway.test/auth/bank/entry"' in page.text
    assertion = gateway.sandbox.banks.make_assertion("demo-bank", JANIS_CODE)
    response = await _post_assertion(gateway, assertion)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert (await gateway.gql(VIEWER))["data"]["viewer"]["user"]["email"] == JANIS


async def test_23_2_forged_expired_replayed_and_wrong_audience_assertions_are_refused(
    gateway: Gateway,
) -> None:
    banks = gateway.sandbox.banks
    now = int(time.time())
    good = banks.make_assertion("demo-bank", JANIS_CODE)
    assert (await _post_assertion(gateway, good)).status_code == 303
    gateway.client.cookies.clear()
    from joserfc.jwk import RSAKey

    cases = {
        "replayed": good,
        "expired": banks.make_assertion("demo-bank", JANIS_CODE, iat=now - 900, exp=now - 600),
        "too old": banks.make_assertion("demo-bank", JANIS_CODE, iat=now - 600, exp=now + 60),
        "wrong audience": banks.make_assertion("demo-bank", JANIS_CODE, aud="someone-else"),
        "forged": banks.make_assertion("demo-bank", JANIS_CODE, key=RSAKey.generate_key(2048)),
        "tampered": good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB"),
        "garbage": "not-a-jwt",
    }
    for name, assertion in cases.items():
        response = await _post_assertion(gateway, assertion)
        assert response.status_code in (400, 403), name
        assert COOKIE_NAME not in gateway.client.cookies, name
        assert "140385" not in response.text


async def test_14_bank_data_not_matching_an_account_is_refused(gateway: Gateway) -> None:
    assertion = gateway.sandbox.banks.make_assertion("demo-bank", "010101-10005")
    response = await _post_assertion(gateway, assertion)
    assert response.status_code == 403 and "do not match an active portal account" in response.text
