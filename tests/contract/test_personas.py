"""Who sees what: every persona of the contract against the read graph (shared/contract/API.md)."""

from __future__ import annotations

from typing import Any

from sandbox.personas import BALTIJAS_RADIO_CLIENT, ILZE_CLIENT, JANIS_CLIENT, JURAS_SAKARI_CLIENT
from schema.base import to_global_id
from tests.conftest import Gateway

JANIS = "janis.berzins@example.lv"
ANNA = "anna.ozola@example.lv"
PETERIS = "peteris.kalnins@example.lv"
LIGA = "liga.liepa@example.lv"
MARIS = "maris.ozolins@example.lv"
ILZE = "ilze.kalna@example.lv"
STAFF = "staff@esakari.example"

VIEWER = """
{ viewer { user { email fullName personalCode } mustChangePassword termsAccepted
    clients { role scopes validUntil client { id kind name code billingArrangement } } } }
"""

CLIENT_ALL = """
query($id: ID!) { client(id: $id) {
  name myScopes
  balance { outstanding { amount currency } }
  invoices(first: 5) { totalCount edges { node { number status } } }
  permits { totalCount edges { node { number serviceType
    stations { callSign assignments { frequencyMHz } } } } }
  documents(first: 2) { totalCount }
  applications { totalCount }
  representatives { fullName }
} }
"""


def gid(client_id: str) -> str:
    return str(to_global_id("Client", client_id))


def codes(body: dict[str, Any]) -> dict[str, str]:
    """path (dotted) → error code."""
    return {".".join(str(p) for p in e["path"]): e["extensions"]["code"] for e in body.get("errors", [])}


async def test_anonymous_viewer_is_null_and_client_is_unauthenticated(gateway: Gateway) -> None:
    body = await gateway.gql(VIEWER)
    assert body["data"]["viewer"] is None
    body = await gateway.gql(CLIENT_ALL, {"id": gid(JANIS_CLIENT)})
    assert body["data"]["client"] is None
    assert codes(body) == {"client": "UNAUTHENTICATED"}


async def test_janis_as_owner_sees_his_two_permits_and_everything_of_his(gateway: Gateway) -> None:
    body = await gateway.as_persona(JANIS, VIEWER)
    viewer = body["data"]["viewer"]
    assert viewer["user"]["personalCode"] == "140385-12341"
    [access] = viewer["clients"]
    assert access["role"] == "SELF"
    assert access["client"]["code"] == "140385-12341"
    assert "PAYMENTS_MAKE" in access["scopes"] and "REPORTS_GENERATE" not in access["scopes"]

    body = await gateway.as_persona(JANIS, CLIENT_ALL, {"id": gid(JANIS_CLIENT)})
    client = body["data"]["client"]
    permits = [e["node"] for e in client["permits"]["edges"]]
    assert sorted(p["serviceType"] for p in permits) == ["AMATEUR", "LAND_MOBILE"]
    amateur = next(p for p in permits if p["serviceType"] == "AMATEUR")
    assert amateur["stations"][0]["callSign"] == "YL2JB"
    land_mobile = next(p for p in permits if p["serviceType"] == "LAND_MOBILE")
    assert len(land_mobile["stations"]) == 2
    statuses = sorted(e["node"]["status"] for e in client["invoices"]["edges"])
    assert statuses == ["OVERDUE", "PAID", "UNPAID"]
    assert client["balance"]["outstanding"]["currency"] == "EUR"
    # A natural person has no representatives to manage: that part alone is refused.
    assert codes(body) == {"client.representatives": "FORBIDDEN"}


async def test_peteris_as_representative_without_permits_scope_is_forbidden_on_permits(
    gateway: Gateway,
) -> None:
    body = await gateway.as_persona(PETERIS, CLIENT_ALL, {"id": gid(BALTIJAS_RADIO_CLIENT)})
    client = body["data"]["client"]
    assert client["permits"] is None
    assert client["invoices"]["totalCount"] >= 45
    assert len(client["invoices"]["edges"]) == 5
    assert client["documents"]["totalCount"] > 0
    assert sorted(client["myScopes"]) == ["BILLING_READ", "DOCUMENTS_READ", "PAYMENTS_MAKE"]
    assert codes(body) == {
        "client.permits": "FORBIDDEN",
        "client.applications": "FORBIDDEN",
        "client.representatives": "FORBIDDEN",
    }


async def test_anna_sees_both_clients_with_their_different_scopes(gateway: Gateway) -> None:
    body = await gateway.as_persona(ANNA, VIEWER)
    clients = {c["client"]["name"]: c for c in body["data"]["viewer"]["clients"]}
    assert set(clients) == {'SIA "Baltijas Radio"', "Jānis Bērziņš"}
    baltijas = clients['SIA "Baltijas Radio"']
    janis = clients["Jānis Bērziņš"]
    assert baltijas["role"] == janis["role"] == "REPRESENTATIVE"
    assert len(baltijas["scopes"]) == 8
    assert janis["scopes"] == ["BILLING_READ"]
    # Jānis's personal code is masked for Anna.
    assert janis["client"]["code"] == "140385-*****"

    token = await gateway.login(ANNA)
    body = await gateway.gql(CLIENT_ALL, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
    client = body["data"]["client"]
    services = {e["node"]["serviceType"] for e in client["permits"]["edges"]}
    assert {"BROADCASTING", "FIXED"} <= services
    assert [r["fullName"] for r in client["representatives"]] != []
    assert "errors" not in body

    body = await gateway.gql(CLIENT_ALL, {"id": gid(JANIS_CLIENT)}, token=token)
    assert body["data"]["client"]["invoices"]["totalCount"] == 3
    assert body["data"]["client"]["permits"] is None
    assert codes(body)["client.permits"] == "FORBIDDEN"


async def test_liga_with_expired_and_revoked_mandates_sees_nothing(gateway: Gateway) -> None:
    token = await gateway.login(LIGA)
    body = await gateway.gql(VIEWER, token=token)
    assert body["data"]["viewer"]["clients"] == []
    for client_id in (JURAS_SAKARI_CLIENT, BALTIJAS_RADIO_CLIENT):
        body = await gateway.gql(CLIENT_ALL, {"id": gid(client_id)}, token=token)
        assert body["data"]["client"] is None
        assert codes(body) == {"client": "NOT_FOUND"}


async def test_outsider_gets_not_found_for_a_client_that_exists_and_one_that_does_not(
    gateway: Gateway,
) -> None:
    token = await gateway.login(ILZE)
    existing = await gateway.gql(CLIENT_ALL, {"id": gid(JANIS_CLIENT)}, token=token)
    missing = await gateway.gql(CLIENT_ALL, {"id": gid("K999999")}, token=token)
    assert existing["errors"][0]["message"] == missing["errors"][0]["message"]
    assert codes(existing) == codes(missing) == {"client": "NOT_FOUND"}


async def test_ilze_as_prepayment_client_has_a_credit_balance(gateway: Gateway) -> None:
    body = await gateway.as_persona(ILZE, CLIENT_ALL, {"id": gid(ILZE_CLIENT)})
    client = body["data"]["client"]
    assert client["permits"]["totalCount"] == 1
    assert float(client["balance"]["outstanding"]["amount"]) >= 0


async def test_maris_with_an_old_password_must_change_it_before_anything_else(gateway: Gateway) -> None:
    token = await gateway.login(MARIS)
    body = await gateway.gql("{ viewer { mustChangePassword } }", token=token)
    assert body["data"]["viewer"]["mustChangePassword"] is True
    body = await gateway.gql(CLIENT_ALL, {"id": gid(JURAS_SAKARI_CLIENT)}, token=token)
    assert codes(body) == {"client": "PASSWORD_CHANGE_REQUIRED"}


async def test_staff_reaches_no_client_data_through_the_portal_graph(gateway: Gateway) -> None:
    body = await gateway.as_persona(STAFF, CLIENT_ALL, {"id": gid(JANIS_CLIENT)})
    assert codes(body) == {"client": "NOT_FOUND"}


NODE = "query($id: ID!) { node(id: $id) { id __typename ... on Permit { number holder { name } } } }"


async def _first_permit_id(gateway: Gateway, email: str, client_id: str) -> str:
    body = await gateway.as_persona(
        email,
        "query($id: ID!) { client(id: $id) { permits(first: 1) { edges { node { id } } } } }",
        {"id": gid(client_id)},
    )
    return str(body["data"]["client"]["permits"]["edges"][0]["node"]["id"])


async def test_node_returns_own_permit_and_not_found_for_another_clients_permit(gateway: Gateway) -> None:
    janis_permit = await _first_permit_id(gateway, JANIS, JANIS_CLIENT)
    ilze_permit = await _first_permit_id(gateway, ILZE, ILZE_CLIENT)
    token = await gateway.login(JANIS)
    own = await gateway.gql(NODE, {"id": janis_permit}, token=token)
    assert own["data"]["node"]["__typename"] == "Permit"
    assert own["data"]["node"]["holder"]["name"] == "Jānis Bērziņš"
    other = await gateway.gql(NODE, {"id": ilze_permit}, token=token)
    assert other["data"]["node"] is None
    assert codes(other) == {"node": "NOT_FOUND"}


async def test_node_of_a_permit_is_forbidden_for_a_representative_without_permits_scope(
    gateway: Gateway,
) -> None:
    permit = await _first_permit_id(gateway, ANNA, BALTIJAS_RADIO_CLIENT)
    body = await gateway.as_persona(PETERIS, NODE, {"id": permit})
    assert codes(body) == {"node": "FORBIDDEN"}


async def test_node_with_garbage_or_unknown_type_is_not_found(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    for bad in ("not-base64!!", str(to_global_id("Nope", "1")), str(to_global_id("Permit", "P0"))):
        body = await gateway.gql(NODE, {"id": bad}, token=token)
        assert codes(body) == {"node": "NOT_FOUND"}, bad
