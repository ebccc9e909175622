"""Document.downloadUrl: signed, expiring, bound to document and user, checked on every use (terms 17)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from gateway.db import mandates, portal_users, utcnow
from sandbox.personas import BALTIJAS_RADIO_CLIENT, JANIS_CLIENT
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import ANNA, ILZE, JANIS, PETERIS, gid

URLS = """query($id: ID!) { client(id: $id) {
  documents(first: 3) { edges { node { id title mimeType sizeBytes downloadUrl } } } } }"""


async def first_document(gateway: Gateway, token: str, client_id: str) -> dict[str, str]:
    body = await gateway.gql(URLS, {"id": gid(client_id)}, token=token)
    node: dict[str, str] = body["data"]["client"]["documents"]["edges"][0]["node"]
    return node


async def test_owner_downloads_the_pdf_bytes(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    document = await first_document(gateway, token, JANIS_CLIENT)
    response = await gateway.client.get(document["downloadUrl"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(document["mimeType"])
    assert len(response.content) == int(document["sizeBytes"])
    assert response.headers["cache-control"] == "private, no-store"
    if document["mimeType"] == "application/pdf":
        assert response.content.startswith(b"%PDF") and b"%%EOF" in response.content[-64:]


async def test_a_tampered_link_or_another_document_is_refused(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    url = (await first_document(gateway, token, JANIS_CLIENT))["downloadUrl"]
    path, query = url.split("?")
    tampered_sig = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    other_document = path.rsplit("/", 2)[0] + "/D999999/download?" + query
    for bad in (tampered_sig, other_document, path):
        assert (await gateway.client.get(bad)).status_code == 404, bad


async def test_an_expired_link_is_refused(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    from dataclasses import replace

    gateway = await make_gateway(settings=replace(gateway_settings(tmp_path), download_link_seconds=-1))
    token = await gateway.login(JANIS)
    url = (await first_document(gateway, token, JANIS_CLIENT))["downloadUrl"]
    response = await gateway.client.get(url)
    assert response.status_code == 404
    assert "expired" in response.json()["detail"]


async def test_someone_elses_session_cannot_use_my_link(gateway: Gateway) -> None:
    token = await gateway.login(ANNA)
    url = (await first_document(gateway, token, BALTIJAS_RADIO_CLIENT))["downloadUrl"]
    other = await gateway.login(ILZE)
    response = await gateway.client.get(url, headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404


async def test_a_link_stops_working_once_the_mandate_is_revoked(gateway: Gateway) -> None:
    token = await gateway.login(PETERIS)
    url = (await first_document(gateway, token, BALTIJAS_RADIO_CLIENT))["downloadUrl"]
    assert (await gateway.client.get(url)).status_code == 200
    user_id = parse_qs(urlsplit(url).query)["u"][0]
    async with gateway.app.state.runtime.engine.begin() as conn:
        await conn.execute(mandates.update().where(mandates.c.user_id == user_id).values(revoked_at=utcnow()))
    assert (await gateway.client.get(url)).status_code == 404


async def test_a_link_stops_working_once_the_account_is_blocked(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    url = (await first_document(gateway, token, JANIS_CLIENT))["downloadUrl"]
    async with gateway.app.state.runtime.engine.begin() as conn:
        await conn.execute(
            sa.update(portal_users).where(portal_users.c.email == JANIS).values(state="BLOCKED")
        )
    assert (await gateway.client.get(url)).status_code == 404


async def test_representative_without_documents_scope_gets_no_link(gateway: Gateway) -> None:
    token = await gateway.login(ANNA)
    body = await gateway.gql(URLS, {"id": gid(JANIS_CLIENT)}, token=token)
    assert body["data"]["client"]["documents"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_links_expire_within_minutes(gateway: Gateway) -> None:
    token = await gateway.login(JANIS)
    url = (await first_document(gateway, token, JANIS_CLIENT))["downloadUrl"]
    expires = int(parse_qs(urlsplit(url).query)["exp"][0])
    remaining = timedelta(seconds=expires - utcnow().timestamp())
    assert timedelta(minutes=1) < remaining <= timedelta(minutes=10)
