"""Every protected field, for every kind of caller: owner, representative with and without the scope,
outsider, anonymous. (Partner banks arrive with their issue and get their own row then.)"""

from __future__ import annotations

import pytest

from sandbox.personas import BALTIJAS_RADIO_CLIENT, JANIS_CLIENT
from tests.conftest import Gateway
from tests.contract.test_personas import ANNA, ILZE, JANIS, PETERIS, codes, gid

# field selection on Client → the scope it needs
FIELDS = {
    "balance { asOf }": "BILLING_READ",
    "invoices(first: 1) { totalCount }": "BILLING_READ",
    "payments(first: 1) { totalCount }": "BILLING_READ",
    "permits(first: 1) { totalCount }": "PERMITS_READ",
    "applications(first: 1) { totalCount }": "APPLICATIONS_SUBMIT",
    "documents(first: 1) { totalCount }": "DOCUMENTS_READ",
    "representatives { email }": "REPRESENTATIVES_MANAGE",
}
PETERIS_SCOPES = {"BILLING_READ", "PAYMENTS_MAKE", "DOCUMENTS_READ"}
NATURAL_PERSON_SCOPES = {
    "PERMITS_READ",
    "BILLING_READ",
    "PAYMENTS_MAKE",
    "DOCUMENTS_READ",
    "APPLICATIONS_SUBMIT",
    "CONTACTS_UPDATE",
}

# caller → (e-mail or None for anonymous, client asked about, the caller's scopes there or an error for all)
CALLERS = {
    "owner": (JANIS, JANIS_CLIENT, NATURAL_PERSON_SCOPES),
    "representative_with_every_scope": (ANNA, BALTIJAS_RADIO_CLIENT, None),
    "representative_with_some_scopes": (PETERIS, BALTIJAS_RADIO_CLIENT, PETERIS_SCOPES),
    "outsider": (ILZE, BALTIJAS_RADIO_CLIENT, "NOT_FOUND"),
    "anonymous": (None, JANIS_CLIENT, "UNAUTHENTICATED"),
}


@pytest.mark.parametrize("selection", list(FIELDS))
@pytest.mark.parametrize("caller", list(CALLERS))
async def test_client_field_per_caller(gateway: Gateway, caller: str, selection: str) -> None:
    email, client_id, allowed = CALLERS[caller]
    token = await gateway.login(email) if email else None
    query = f"query($id: ID!) {{ client(id: $id) {{ name {selection} }} }}"
    body = await gateway.gql(query, {"id": gid(client_id)}, token=token)
    field = selection.split("(")[0].split(" ")[0]
    if isinstance(allowed, str):
        assert body["data"]["client"] is None
        assert codes(body) == {"client": allowed}
    elif allowed is None or FIELDS[selection] in allowed:
        assert "errors" not in body, body
        assert body["data"]["client"][field] is not None
    else:
        assert body["data"]["client"]["name"]
        assert body["data"]["client"][field] is None
        assert codes(body) == {f"client.{field}": "FORBIDDEN"}
        assert FIELDS[selection] in body["errors"][0]["message"]


NESTED = """
query($id: ID!) { client(id: $id) { invoices(first: 3) { edges { node { number
  document { title downloadUrl } permit { number } } } } } }
"""


async def test_invoice_document_and_permit_follow_their_own_scopes(gateway: Gateway) -> None:
    """Pēteris may see invoices and documents of Baltijas Radio but not its permits."""
    body = await gateway.as_persona(PETERIS, NESTED, {"id": gid(BALTIJAS_RADIO_CLIENT)})
    edges = body["data"]["client"]["invoices"]["edges"]
    assert all(e["node"]["document"]["downloadUrl"].startswith("/documents/") for e in edges)
    permit_errors = {p: c for p, c in codes(body).items() if p.endswith(".permit")}
    assert permit_errors and set(permit_errors.values()) == {"FORBIDDEN"}
    assert all(edges[int(p.split(".")[3])]["node"]["permit"] is None for p in permit_errors)
    assert set(codes(body)) == set(permit_errors)


async def test_representative_with_billing_only_gets_invoices_without_documents(gateway: Gateway) -> None:
    """Anna holds only BILLING_READ on Jānis: the invoice's document and permit are refused."""
    body = await gateway.as_persona(ANNA, NESTED, {"id": gid(JANIS_CLIENT)})
    edges = body["data"]["client"]["invoices"]["edges"]
    assert len(edges) == 3
    assert all(e["node"]["document"] is None for e in edges)
    assert set(codes(body).values()) == {"FORBIDDEN"}
    assert {p.rsplit(".", 1)[1] for p in codes(body)} == {"document", "permit"}
