"""Secure defaults: error codes, masking, limits, GraphiQL and introspection in dev only, no GET mutation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.billing.records import PriceListItemRecord
from resolvers import billing
from sandbox.personas import BALTIJAS_RADIO_CLIENT, JANIS_CLIENT
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import ANNA, JANIS, codes, gid


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What was logged as an error: a fault of the gateway's (a caller's mistake logs none)."""
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


async def test_syntax_error_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.gql("{ viewer { ")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_unknown_field_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.gql("{ viewer { password } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_too_deep_query_is_refused(gateway: Gateway) -> None:
    deep = (
        "{ viewer { clients { client { permits { edges { node { holder { permits { edges { node { holder {"
        " permits { edges { node { number } } } } } } } } } } } } } } }"
    )
    body = await gateway.gql(deep)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert body.get("data") is None


async def test_too_many_aliases_are_refused(gateway: Gateway) -> None:
    query = "{ " + " ".join(f"a{i}: termsOfUse {{ version }}" for i in range(25)) + " }"
    body = await gateway.gql(query)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_too_many_tokens_are_refused(gateway: Gateway) -> None:
    query = "{ termsOfUse { " + " ".join(["version"] * 3500) + " } }"
    body = await gateway.gql(query)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_document_too_large_to_check_is_too_complex(gateway: Gateway) -> None:
    """2,500 fields side by side: within the token limit, but past the stack graphql-core's checks need."""
    body = await gateway.gql("{ " + "__typename " * 2500 + "}")
    [error] = body["errors"]
    assert body.get("data") is None and error["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert error["message"] == "The document is too large to check; ask for less in one query."


# Twenty clients' pages of 100 permits with their stations and assignments: within depth, aliases and tokens,
# but an answer of over a million values.
HUGE = (
    "query($id: ID!) { "
    + " ".join(
        f"c{n}: client(id: $id) {{ permits(first: 100) {{ edges {{ node {{ number stations {{ name "
        "assignments { frequencyMHz bandwidthKHz powerW } } } } } }"
        for n in range(20)
    )
    + " }"
)


async def test_a_query_whose_answer_could_be_huge_is_refused_before_it_runs(gateway: Gateway) -> None:
    token = await gateway.login(ANNA)
    body = await gateway.gql(HUGE, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
    [error] = body["errors"]
    assert body.get("data") is None and error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "estimated cost" in error["message"] and "300,000" in error["message"]


@pytest.mark.parametrize(
    ("query", "variables", "refused", "reason"),
    [
        ("query($id: ID!) { client(id: $id) { id } }", {"id": {"a": 1}}, "id", "ID cannot represent value"),
        (
            "query($n: Int) { viewer { clients { client { permits(first: $n) { totalCount } } } } }",
            {"n": "ten"},
            "n",
            "Int cannot represent non-integer value",
        ),
        (
            "mutation($id: ID!, $from: Date!, $to: Date!) "
            "{ generateReport(clientId: $id, kind: STATEMENT, from: $from, to: $to) { id } }",
            {"id": gid(JANIS_CLIENT), "from": "1 March", "to": "2026-03-31"},
            "from",
            "Invalid isoformat string",
        ),
    ],
    ids=["ID", "Int", "Date"],
)
async def test_a_variable_its_type_refuses_is_bad_user_input_and_nothing_runs(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, object],
    refused: str,
    reason: str,
) -> None:
    body = await gateway.gql(query, variables, token=await gateway.login(JANIS))
    [error] = body["errors"]
    assert body["data"] is None and error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith(f"Variable '${refused}' has invalid value")
    assert reason in error["message"]
    assert errors_logged(caplog) == []


async def test_unexpected_error_is_masked_with_a_request_id(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: object) -> None:
        raise RuntimeError("secret internals: db password hunter2")

    monkeypatch.setattr(billing, "price_list", broken)
    response = await gateway.client.post("/graphql", json={"query": "{ priceList { code } }"})
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_a_value_of_ours_its_type_refuses_is_internal_not_the_callers_fault(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """graphql-core refuses it with a GraphQLError as it refuses a variable's value, but on a field's path."""

    async def broken(ctx: object) -> list[PriceListItemRecord]:
        code: Any = {"secret": "internal value"}  # a String cannot represent a dict
        return [PriceListItemRecord(code, "Fee", "year", Decimal("10.00"), "EUR", Decimal("21"))]

    monkeypatch.setattr(billing, "price_list", broken)
    response = await gateway.client.post("/graphql", json={"query": "{ priceList { code } }"})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL" and "internal value" not in response.text
    logged = errors_logged(caplog)
    assert len(logged) == 1 and logged[0].startswith("unexpected error in ['priceList', 0, 'code']")


async def test_first_is_capped_at_100_and_zero_or_a_bad_cursor_are_bad_user_input(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    query = """query($id: ID!, $f: Int, $a: String) { client(id: $id) {
      invoices(first: $f, after: $a) { totalCount edges { cursor } pageInfo { hasNextPage } } } }"""
    many = await gateway.gql(query, {"id": gid(JANIS_CLIENT), "f": 2}, token=token)
    two = many["data"]["client"]["invoices"]
    assert len(two["edges"]) == 2 and two["totalCount"] > 2 and two["pageInfo"]["hasNextPage"]
    capped = await gateway.gql(query, {"id": gid(JANIS_CLIENT), "f": 5000}, token=token)
    assert "errors" not in capped
    assert len(capped["data"]["client"]["invoices"]["edges"]) == min(100, two["totalCount"])
    zero = await gateway.gql(query, {"id": gid(JANIS_CLIENT), "f": 0}, token=token)
    assert codes(zero) == {"client.invoices": "BAD_USER_INPUT"}
    assert "1 or more" in zero["errors"][0]["message"]
    token = await gateway.login(ANNA)
    bad_cursor = await gateway.gql(query, {"id": gid(BALTIJAS_RADIO_CLIENT), "a": "%%%"}, token=token)
    assert codes(bad_cursor) == {"client.invoices": "BAD_USER_INPUT"}


async def test_paging_through_all_invoices_with_cursors(gateway: Gateway) -> None:
    token = await gateway.login(ANNA)
    query = """query($id: ID!, $a: String) { client(id: $id) { invoices(first: 20, after: $a) {
      totalCount edges { cursor node { number } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[str] = []
    after = None
    while True:
        body = await gateway.gql(query, {"id": gid(BALTIJAS_RADIO_CLIENT), "a": after}, token=token)
        connection = body["data"]["client"]["invoices"]
        seen += [e["node"]["number"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == connection["totalCount"] >= 45


async def test_mutation_over_get_is_refused(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code in (400, 405)


async def test_query_over_get_runs(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", params={"query": "{ termsOfUse { version } }"})
    assert response.json()["data"]["termsOfUse"]["version"] == 4


async def test_graphiql_and_introspection_in_dev(gateway: Gateway) -> None:
    page = await gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    body = await gateway.gql("{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_no_graphiql_and_no_introspection_in_prod(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = await make_gateway(settings=gateway_settings(tmp_path, env="prod"))
    page = await gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    body = await gateway.gql("{ __schema { queryType { name } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body.get("data") is None
    public = await gateway.gql("{ termsOfUse { version history { version approvedOn } } }")
    assert [v["approvedOn"] for v in public["data"]["termsOfUse"]["history"]] == [
        "2017-12-19",
        "2019-06-11",
        "2022-06-07",
        "2023-04-18",
    ]


async def test_price_list_is_public(gateway: Gateway) -> None:
    body = await gateway.gql("{ priceList { code description unit price { amount currency } vatRate } }")
    items = body["data"]["priceList"]
    assert len(items) >= 8 and all(i["price"]["currency"] == "EUR" for i in items)


async def test_the_price_list_is_cached_in_the_shared_store_for_every_instance(
    make_gateway: GatewayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = await make_gateway(), await make_gateway()
    query = "{ priceList { code price { amount } vatRate } }"
    first = await one.gql(query)

    async def away() -> None:
        raise AssertionError("the billing system was asked again")

    monkeypatch.setattr(two.app.state.services.billing, "price_list", away)
    assert await two.gql(query) == first  # from the store, with its decimals as they were
    await two.app.state.services.store.put("cache:price-list", "not json", ttl=60)
    monkeypatch.undo()
    assert await two.gql(query) == first  # a malformed entry is read again from the system


async def test_every_response_carries_a_request_id_and_echoes_a_good_one(gateway: Gateway) -> None:
    response = await gateway.client.get("/healthz", headers={"x-request-id": "abc-12345678"})
    assert response.headers["x-request-id"] == "abc-12345678"
    response = await gateway.client.get("/healthz", headers={"x-request-id": "bad id\n"})
    assert response.headers["x-request-id"] != "bad id\n" and len(response.headers["x-request-id"]) == 32


async def test_readyz_reports_each_part_and_fails_when_one_is_down(gateway: Gateway) -> None:
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    await gateway.client.post("/sandbox/billing/_faults", json={"down": True})
    not_ready = await gateway.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["billing"] == "unavailable"
    assert not_ready.json()["checks"]["permits"] == "ok"


async def test_personal_code_of_a_client_is_masked_for_a_representative(gateway: Gateway) -> None:
    body = await gateway.as_persona(
        ANNA, "query($id: ID!) { client(id: $id) { code } }", {"id": gid(JANIS_CLIENT)}
    )
    assert body["data"]["client"]["code"] == "140385-*****"
    own = await gateway.as_persona(
        JANIS, "query($id: ID!) { client(id: $id) { code } }", {"id": gid(JANIS_CLIENT)}
    )
    assert own["data"]["client"]["code"] == "140385-12341"


async def test_a_body_over_max_request_bytes_is_refused_with_413(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway = await make_gateway(settings=gateway_settings(tmp_path, max_request_bytes=2000))
    big = {"query": "{ termsOfUse { version } }", "variables": {"x": "a" * 3000}}
    response = await gateway.client.post("/graphql", json=big)
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error == {
        "message": "The request body is over 2,000 bytes; send less in one request.",
        "extensions": {"code": "BAD_USER_INPUT"},
    }

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"query": "{ termsOfUse { version } }", "variables": {"x": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}}'

    streamed = await gateway.client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (
        streamed.status_code == 413 and streamed.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    )
    login = await gateway.client.post("/auth/login", json={"email": JANIS, "password": "x" * 3000})
    assert login.status_code == 413 and login.json()["error"] == "payload_too_large"
    assert "errors" not in await gateway.gql("{ termsOfUse { version } }")  # under the limit, as before
    assert (
        await gateway.client.post("/auth/login", json={"email": JANIS, "password": "x"})
    ).status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "Unable to parse request body as JSON"),
        (
            '{"query": "{ termsOfUse { version } }\xff"}'.encode("latin-1"),
            "Unable to parse request body as JSON",
        ),
        (
            b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
            "Unable to parse",
        ),
        (b'[{"query": "{ __typename }"}]', "Batching is not enabled"),
        (b'{"query": 5}', "must be a string"),
    ],
    ids=["not-json", "not-utf-8", "nested-5000-deep", "batch", "query-not-a-string"],
)
async def test_a_request_graphql_cannot_read_is_400_with_a_code(
    gateway: Gateway, caplog: pytest.LogCaptureFixture, body: bytes, reason: str
) -> None:
    response = await gateway.client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"} and reason in error["message"]
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("path", ["/auth/login", "/auth/password/forgot", "/auth/password/reset"])
async def test_the_auth_endpoints_answer_400_to_json_they_cannot_read(gateway: Gateway, path: str) -> None:
    for body in (b'{"email": "\xff"}', b"[" * 5000 + b"]" * 5000):
        response = await gateway.client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
