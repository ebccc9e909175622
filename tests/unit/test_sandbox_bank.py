"""The sandbox partner banks over HTTP: JWKS per bank, the bank-entry page and its signed assertion,
``make_assertion`` for forged assertions, and the payment pages calling the billing system."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from sandbox.app import SandboxSystems, build_sandbox
from sandbox.bank import PartnerBanks, banks_of, create_bank_app
from sandbox.keys import new_signing_key
from sandbox.personas import JANIS_CLIENT

HOST = "http://portal.example"
JANIS = "140385-12341"


@pytest.fixture
def systems() -> SandboxSystems:
    return build_sandbox()


@pytest.fixture
async def http(systems: SandboxSystems) -> AsyncIterator[httpx.AsyncClient]:
    # Mounted as in the gateway: /sandbox/bank on the gateway's host.
    app = Starlette(routes=[Mount("/sandbox", routes=systems.routes())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
        yield client


async def bank_keys(http: httpx.AsyncClient, bank_id: str) -> KeySet:
    response = await http.get(f"/sandbox/bank/{bank_id}/jwks")
    assert response.status_code == 200
    return KeySet.import_key_set(response.json())


def form_of(page: str) -> tuple[str, str]:
    """The form's action and its ``assertion`` field."""
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page)
    assertion = re.search(r'<input type="hidden" name="assertion" value="([^"]+)"', page)
    assert action is not None and assertion is not None, page
    return html.unescape(action.group(1)), html.unescape(assertion.group(1))


# -- keys and entry ------------------------------------------------------------------------------------------


async def test_each_bank_publishes_its_own_keys(http: httpx.AsyncClient) -> None:
    demo, other = await bank_keys(http, "demo-bank"), await bank_keys(http, "other-bank")
    assert {k.kid for k in demo}.isdisjoint({k.kid for k in other})
    assert all("d" not in k.as_dict() and k.as_dict()["alg"] == "RS256" for k in [*demo, *other])
    assert (await http.get("/sandbox/bank/no-bank/jwks")).status_code == 404


async def test_entry_page_posts_a_signed_assertion_to_the_gateway(http: httpx.AsyncClient) -> None:
    response = await http.get("/sandbox/bank/entry", params={"personal_code": JANIS})
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "You are being sent to the radioatlaujas.lv portal" in response.text
    assert ".submit()" in response.text and '<button type="submit"' in response.text
    action, assertion = form_of(response.text)
    assert action == f"{HOST}/auth/bank/entry"
    token = jwt.decode(assertion, await bank_keys(http, "demo-bank"), algorithms=["RS256"])
    assert token.header["alg"] == "RS256" and token.header["kid"]
    JWTClaimsRegistry(
        iss={"essential": True, "value": "demo-bank"},
        aud={"essential": True, "value": "esakari-gateway"},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    ).validate(token.claims)
    claims = token.claims
    assert claims["exp"] - claims["iat"] == 300 and abs(claims["iat"] - time.time()) < 60
    assert (claims["personal_code"], claims["given_name"], claims["family_name"]) == (
        JANIS,
        "Jānis",
        "Bērziņš",
    )
    again = await http.get("/sandbox/bank/entry", params={"personal_code": JANIS})
    assert (
        jwt.decode(form_of(again.text)[1], await bank_keys(http, "demo-bank")).claims["jti"] != claims["jti"]
    )


async def test_entry_from_the_other_bank(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/sandbox/bank/entry", params={"personal_code": "050982-12346", "bank": "other-bank"}
    )
    _, assertion = form_of(response.text)
    claims = jwt.decode(assertion, await bank_keys(http, "other-bank")).claims
    assert claims["iss"] == "other-bank" and claims["given_name"] == "Kārlis"
    with pytest.raises(JoseError):  # not verifiable with the demo bank's keys
        jwt.decode(assertion, await bank_keys(http, "demo-bank"))


async def test_entry_without_a_known_person_or_bank(http: httpx.AsyncClient) -> None:
    listing = await http.get("/sandbox/bank/entry")
    assert listing.status_code == 200 and "personal_code=140385-12341" in listing.text
    assert "assertion" not in listing.text
    unknown = await http.get("/sandbox/bank/entry", params={"personal_code": "010101-00000"})
    assert unknown.status_code == 400 and "no customer" in unknown.text
    no_bank = await http.get("/sandbox/bank/entry", params={"personal_code": JANIS, "bank": "evil-bank"})
    assert no_bank.status_code == 400 and "assertion" not in no_bank.text


async def test_configured_gateway_url_and_audience() -> None:
    app = create_bank_app(gateway_url="https://gw.example/", audience="other-gateway")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        page = (await client.get("/entry", params={"personal_code": JANIS})).text
        action, assertion = form_of(page)
        keys = KeySet.import_key_set((await client.get("/demo-bank/jwks")).json())
    assert action == "https://gw.example/auth/bank/entry"
    assert jwt.decode(assertion, keys).claims["aud"] == "other-gateway"


# -- make_assertion ------------------------------------------------------------------------------------------


async def test_make_assertion_options(http: httpx.AsyncClient, systems: SandboxSystems) -> None:
    banks = systems.banks
    keys = await bank_keys(http, "demo-bank")
    expired = jwt.decode(banks.make_assertion("demo-bank", JANIS, iat=1000, exp=1300), keys).claims
    assert (expired["iat"], expired["exp"]) == (1000, 1300)
    with pytest.raises(JoseError):
        JWTClaimsRegistry(exp={"essential": True}).validate(expired)
    wrong_aud = jwt.decode(banks.make_assertion("demo-bank", JANIS, aud="someone-else"), keys).claims
    with pytest.raises(JoseError):
        JWTClaimsRegistry(aud={"essential": True, "value": "esakari-gateway"}).validate(wrong_aud)
    first = jwt.decode(banks.make_assertion("demo-bank", JANIS, jti="same"), keys).claims
    second = jwt.decode(banks.make_assertion("demo-bank", JANIS, jti="same"), keys).claims
    assert first["jti"] == second["jti"] == "same"
    stranger = banks.make_assertion("demo-bank", JANIS, key=new_signing_key())
    with pytest.raises(JoseError):
        jwt.decode(stranger, keys)
    unknown = jwt.decode(banks.make_assertion("demo-bank", "321111-11111", given_name="X"), keys).claims
    assert (unknown["given_name"], unknown["family_name"]) == ("X", "")
    rogue = new_signing_key()
    rogue_token = banks.make_assertion("rogue-bank", JANIS, key=rogue)
    assert jwt.decode(rogue_token, KeySet([rogue])).claims["iss"] == "rogue-bank"
    with pytest.raises(KeyError):
        banks.make_assertion("rogue-bank", JANIS)
    assert banks_of(systems.bank) is banks


# -- payments ------------------------------------------------------------------------------------------------


def fake_billing(answers: dict[str, Response], calls: list[str]) -> Starlette:
    async def finish(request: Request) -> Response:
        calls.append(f"{request.url.path} {request.headers.get('idempotency-key')}")
        return answers[request.path_params["id"]]

    async def session(request: Request) -> Response:
        return JSONResponse({"error": "not_found"}, status_code=404)

    return Starlette(
        routes=[
            Route("/payment-sessions/{id}", session, methods=["GET"]),
            Route("/payment-sessions/{id}/{action}", finish, methods=["POST"]),
        ]
    )


async def test_payment_pages_call_billing() -> None:
    calls: list[str] = []
    answers: dict[str, Response] = {
        "S1": JSONResponse({"status": "COMPLETED", "return_url": "https://portal.example/paid"}),
        "S2": JSONResponse({"status": "CANCELLED"}),
        "S3": JSONResponse({"error": "not_found"}, status_code=404),
        "S4": JSONResponse({"error": "conflict"}, status_code=409),
        "S5": JSONResponse({"error": "unavailable"}, status_code=503),
    }
    bank = create_bank_app(billing=fake_billing(answers, calls))
    app = Starlette(routes=[Mount("/sandbox/bank", app=bank)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
        assert (await client.get("/sandbox/bank/pay/S1")).status_code == 404  # billing does not know it
        paid = await client.post("/sandbox/bank/pay/S1/complete")
        assert paid.status_code == 303 and paid.headers["location"] == "https://portal.example/paid"
        cancelled = await client.post("/sandbox/bank/pay/S2/cancel")
        assert cancelled.status_code == 200 and "Payment cancelled" in cancelled.text
        assert (await client.post("/sandbox/bank/pay/S3/complete")).status_code == 404
        assert (await client.post("/sandbox/bank/pay/S4/complete")).status_code == 409
        assert (await client.post("/sandbox/bank/pay/S5/complete")).status_code == 502
        assert (await client.post("/sandbox/bank/pay/S1/refund")).status_code == 404
    assert calls == [
        "/payment-sessions/S1/complete bank-S1-complete",
        "/payment-sessions/S2/cancel bank-S2-cancel",
        "/payment-sessions/S3/complete bank-S3-complete",
        "/payment-sessions/S4/complete bank-S4-complete",
        "/payment-sessions/S5/complete bank-S5-complete",
    ]


async def test_payment_through_the_sandbox_billing_system(
    http: httpx.AsyncClient, systems: SandboxSystems
) -> None:
    unpaid = [i.id for i in systems.dataset.invoices_of(JANIS_CLIENT) if i.status in ("UNPAID", "OVERDUE")]
    opened = await http.post(
        "/sandbox/billing/payment-sessions",
        json={"client_id": JANIS_CLIENT, "invoice_ids": unpaid, "return_url": f"{HOST}/back"},
        headers={"Idempotency-Key": "open-1"},
    )
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert session["redirect_url"] == f"{HOST}/sandbox/bank/pay/{session['id']}"
    page = await http.get(session["redirect_url"])
    assert page.status_code == 200 and session["id"] in page.text and "OPEN" in page.text
    assert f'action="/sandbox/bank/pay/{session["id"]}/complete"' in page.text
    assert f'action="/sandbox/bank/pay/{session["id"]}/cancel"' in page.text
    assert ">Pay<" in page.text and ">Cancel<" in page.text
    paid = await http.post(f"/sandbox/bank/pay/{session['id']}/complete")
    assert paid.status_code == 303 and paid.headers["location"] == f"{HOST}/back"
    again = await http.post(f"/sandbox/bank/pay/{session['id']}/complete")  # a double click
    assert again.status_code == 303
    after = await http.get(f"/sandbox/billing/payment-sessions/{session['id']}")
    assert after.json()["status"] == "COMPLETED"
    done = await http.get(session["redirect_url"])
    assert "COMPLETED" in done.text and ">Pay<" not in done.text
    assert (await http.post(f"/sandbox/bank/pay/{session['id']}/cancel")).status_code == 409
    assert (await http.get("/sandbox/bank/pay/PS-nope")).status_code == 404


async def test_payment_without_billing_or_with_billing_down() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_bank_app()), base_url="http://sandbox"
    ) as client:
        assert (await client.post("/pay/S1/complete")).status_code == 503
    down = create_bank_app(billing="http://127.0.0.1:9")  # nothing listens on the discard port
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=down), base_url="http://sandbox"
    ) as client:
        assert (await client.post("/pay/S1/complete")).status_code == 502


def test_build_sandbox_connects_the_bank_to_billing(systems: SandboxSystems) -> None:
    assert isinstance(systems.banks, PartnerBanks)
    assert systems.banks.billing is systems.billing
    assert [getattr(r, "path", None) for r in systems.routes()][-2:] == ["/idp", "/bank"]
