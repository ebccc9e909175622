"""The partner-bank API: bank principals, settlementStatus by agreement, trusted documents, rate limits."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from resolvers.bank import OPEN_STATUSES
from sandbox.app import build_sandbox
from sandbox.data import build_dataset
from sandbox.personas import BALTIJAS_RADIO_CLIENT, ILZE_CLIENT, JANIS_CLIENT
from schema.trusted import build_registry
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import JANIS, gid

ISSUER = "http://gateway.test/sandbox/idp"


def trusted(name: str) -> str:
    return next(h for h, entry in build_registry().items() if entry["name"] == name)


async def bank_token(gateway: Gateway, bank: str) -> str:
    """A token as a bank gets it: the client-credentials grant at the broker's token endpoint."""
    response = await gateway.client.post(
        "/sandbox/idp/token",
        data={"grant_type": "client_credentials", "scope": "settlement:read"},
        auth=(bank, f"{bank}-secret"),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def settlement(
    gateway: Gateway, token: str | None, *, reference: str | None = None, code: str | None = None
) -> dict[str, Any]:
    name, variables = (
        ("SettlementByReference", {"paymentReference": reference})
        if reference
        else ("SettlementByClientCode", {"clientCode": code})
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": trusted(name)}},
    }
    response = await gateway.client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def reference_of(gateway: Gateway, client_id: str) -> str:
    response = await gateway.client.get("/sandbox/billing/invoices", params={"client_ids": client_id})
    return str(response.json()["groups"][0]["edges"][0]["node"]["payment_reference"])


def code(result: dict[str, Any]) -> str | None:
    return result["errors"][0]["extensions"]["code"] if result.get("errors") else None


async def test_each_bank_sees_only_the_clients_of_its_agreements(gateway: Gateway) -> None:
    demo, other = await bank_token(gateway, "demo-bank"), await bank_token(gateway, "other-bank")
    janis_ref, ilze_ref = await reference_of(gateway, JANIS_CLIENT), await reference_of(gateway, ILZE_CLIENT)

    seen = await settlement(gateway, demo, reference=janis_ref)
    status = seen["data"]["settlementStatus"]
    assert status["state"] == "OVERDUE" and status["overdue"]["currency"] == "EUR"
    assert {i["paymentReference"] for i in status["openInvoices"]} and status["lastPaymentAt"]
    by_code = await settlement(gateway, demo, code="40003571601")
    assert by_code["data"]["settlementStatus"]["state"] in ("OUTSTANDING", "OVERDUE")

    assert (await settlement(gateway, other, reference=ilze_ref))["data"]["settlementStatus"][
        "state"
    ] == "SETTLED"
    refused = await settlement(gateway, other, reference=janis_ref)
    unknown = await settlement(gateway, other, reference="RF18539007547034")
    assert code(refused) == code(unknown) == "NOT_FOUND"
    assert refused["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert code(await settlement(gateway, demo, reference=ilze_ref)) == "NOT_FOUND"


async def test_settlement_lists_every_open_invoice_however_many(make_gateway: GatewayFactory) -> None:
    dataset = build_dataset()
    client_id = dataset.add_client("LEGAL_PERSON", 'SIA "Daudz Rēķinu"', invoices=2000)
    dataset.agreements.append(("demo-bank", client_id))
    open_ones = [
        i for i in dataset.invoices.values() if i.client_id == client_id and i.status in OPEN_STATUSES
    ]
    assert max(Counter(i.status for i in open_ones).values()) > 100  # more than one page in a status
    gateway = await make_gateway(sandbox=build_sandbox(dataset))
    token = await bank_token(gateway, "demo-bank")
    seen = await settlement(gateway, token, code=dataset.clients[client_id].code)
    listed = seen["data"]["settlementStatus"]["openInvoices"]
    assert sorted(i["number"] for i in listed) == sorted(i.number for i in open_ones if i.outstanding > 0)


async def test_settlement_reveals_nothing_personal(gateway: Gateway) -> None:
    demo = await bank_token(gateway, "demo-bank")
    result = await settlement(gateway, demo, reference=await reference_of(gateway, JANIS_CLIENT))
    text = json.dumps(result)
    assert "Bērziņš" not in text and "140385" not in text and "example.lv" not in text


def _forge_none(token: str) -> str:
    payload = token.split(".")[1]
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    return f"{none}.{payload}."


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["client_id"] = "other-bank"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_bad_tokens_are_each_unauthenticated(gateway: Gateway) -> None:
    broker = gateway.sandbox.broker
    now = int(time.time())
    good = await bank_token(gateway, "demo-bank")
    reference = await reference_of(gateway, JANIS_CLIENT)
    bad = {
        "expired": broker.client_credentials_token("demo-bank", issuer=ISSUER, iat=now - 900, exp=now - 600),
        "wrong issuer": broker.client_credentials_token("demo-bank", issuer="https://evil.example/idp"),
        "wrong audience": broker.client_credentials_token("demo-bank", issuer=ISSUER, aud="another-api"),
        "wrong scope": broker.client_credentials_token("demo-bank", issuer=ISSUER, scope="payments:write"),
        "not a bank": broker.client_credentials_token("esakari-gateway", issuer=ISSUER),
        "unsigned": _forge_none(good),
        "tampered": _tamper(good),
        "an id token": broker.keys.sign(
            {
                "iss": ISSUER,
                "aud": "esakari-gateway",
                "client_id": "demo-bank",
                "scope": "settlement:read",
                "iat": now,
                "exp": now + 300,
            }
        ),
        "garbage": "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
    }
    assert code(await settlement(gateway, good, reference=reference)) is None
    for name, token in bad.items():
        assert code(await settlement(gateway, token, reference=reference)) == "UNAUTHENTICATED", name


async def test_a_rotated_broker_key_is_followed(gateway: Gateway) -> None:
    reference = await reference_of(gateway, JANIS_CLIENT)
    assert (
        code(await settlement(gateway, await bank_token(gateway, "demo-bank"), reference=reference)) is None
    )
    # Refetching is rate-limited (5 s) against forged kids; this test needs it at once.
    gateway.app.state.services.bank_tokens.keys.min_refetch = 0
    gateway.sandbox.broker.rotate_keys()
    assert (
        code(await settlement(gateway, await bank_token(gateway, "demo-bank"), reference=reference)) is None
    )


async def test_a_bank_may_run_only_trusted_documents(gateway: Gateway) -> None:
    demo = await bank_token(gateway, "demo-bank")
    headers = {"Authorization": f"Bearer {demo}"}
    for query in (
        "{ viewer { user { email } } }",
        "{ priceList { code } }",
        '{ settlementStatus(clientCode: "40003571601") { state } }',
    ):
        response = await gateway.client.post("/graphql", json={"query": query}, headers=headers)
        assert code(response.json()) == "UNTRUSTED_DOCUMENT", query
    unknown = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    response = await gateway.client.post("/graphql", json=unknown, headers=headers)
    assert code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"
    text = build_registry()[trusted("SettlementByClientCode")]["document"]
    full = {"query": text, "variables": {"clientCode": "40003571601"}}
    assert code((await gateway.client.post("/graphql", json=full, headers=headers)).json()) is None


async def test_portal_users_and_anonymous_callers_do_not_reach_settlement_status(gateway: Gateway) -> None:
    user = await gateway.login(JANIS)
    result = await settlement(gateway, user, code="40003571601")
    assert code(result) == "FORBIDDEN"
    assert code(await settlement(gateway, None, code="40003571601")) == "UNAUTHENTICATED"
    # Portal users are not limited to the trusted list.
    body = await gateway.gql(
        "query($id: ID!) { client(id: $id) { name } }", {"id": gid(JANIS_CLIENT)}, token=user
    )
    assert body["data"]["client"]["name"] == "Jānis Bērziņš"


async def test_the_rate_limit_holds_across_two_instances(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    settings = replace(
        gateway_settings(tmp_path), bank_rate_limit="4/60", bank_rate_limits=(("other-bank", "1/60"),)
    )
    one = await make_gateway(settings=settings)
    two = await make_gateway(settings=settings, sandbox=one.sandbox)
    demo = await bank_token(one, "demo-bank")
    reference = await reference_of(one, BALTIJAS_RADIO_CLIENT)
    for attempt in range(4):
        assert code(await settlement(one if attempt % 2 else two, demo, reference=reference)) in (
            None,
            "NOT_FOUND",
        )
    response = await two.client.post(
        "/graphql",
        json={
            "variables": {"clientCode": "40003571601"},
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": trusted("SettlementByClientCode")}},
        },
        headers={"Authorization": f"Bearer {demo}"},
    )
    assert code(response.json()) == "RATE_LIMITED"
    assert 0 < int(response.headers["retry-after"]) <= 60
    other = await bank_token(one, "other-bank")
    assert code(await settlement(one, other, code="x")) == "NOT_FOUND"
    assert code(await settlement(two, other, code="x")) == "RATE_LIMITED"


def test_the_committed_trusted_documents_are_generated_from_the_graphql_files() -> None:
    from schema.trusted import REGISTRY, render

    assert REGISTRY.read_text() == render(build_registry()), "run `gateway trusted-documents`"
    assert {entry["name"] for entry in build_registry().values()} == {
        "SettlementByReference",
        "SettlementByClientCode",
    }
