"""Several gateway instances over one store and one database: what one does, the others feel at once.

With REDIS_URL and DATABASE_URL set this runs on Redis and PostgreSQL (the `services` variant); otherwise on
an in-process store shared by the instances of the test.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

from auth.policy import DEFAULT_POLICY
from gateway.db import mandates, utcnow
from sandbox.personas import BALTIJAS_RADIO_CLIENT
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_identity import REVOKE
from tests.contract.test_personas import ANNA, ILZE, JANIS, PETERIS, codes, gid

VIEWER = "{ viewer { user { email } } }"
INVOICES = "query($id: ID!) { client(id: $id) { invoices(first: 1) { totalCount } } }"
REPRESENTATIVES = "query($id: ID!) { client(id: $id) { representatives { id email } } }"


async def test_a_session_from_one_instance_works_on_another_and_logout_ends_it_on_both(
    make_gateway: GatewayFactory,
) -> None:
    one, two = await make_gateway(), await make_gateway()
    token = await one.login(JANIS)
    assert (await two.gql(VIEWER, token=token))["data"]["viewer"]["user"]["email"] == JANIS
    response = await two.client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    assert (await one.gql(VIEWER, token=token))["data"]["viewer"] is None


async def test_failures_on_two_instances_add_up_to_one_lockout(make_gateway: GatewayFactory) -> None:
    one, two = await make_gateway(), await make_gateway()
    for attempt in range(5):
        instance = one if attempt % 2 else two
        response = await instance.client.post("/auth/login", json={"email": ILZE, "password": "wrong-123"})
        assert response.status_code == 401
    for instance in (one, two):
        response = await instance.client.post("/auth/login", json={"email": ILZE, "password": "Radio-2026"})
        assert response.status_code == 423


async def baltijas_served_on(*instances: Gateway, token: str) -> None:
    """Each instance answers with Baltijas Radio's invoices: it has read the caller's account and mandates."""
    for instance in instances:
        body = await instance.gql(INVOICES, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
        assert body["data"]["client"]["invoices"], body


async def baltijas_refused_on(*instances: Gateway, token: str) -> None:
    for instance in instances:
        body = await instance.gql(INVOICES, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
        assert codes(body) == {"client": "NOT_FOUND"}


async def test_a_revoked_mandate_is_refused_on_the_next_request_on_every_instance(
    make_gateway: GatewayFactory,
) -> None:
    one, two = await make_gateway(), await make_gateway()
    peteris, anna = await one.login(PETERIS), await two.login(ANNA)
    await baltijas_served_on(one, two, token=peteris)
    listed = await two.gql(REPRESENTATIVES, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=anna)
    [mandate] = [r["id"] for r in listed["data"]["client"]["representatives"] if r["email"] == PETERIS]
    revoked = await one.gql(REVOKE, {"c": gid(BALTIJAS_RADIO_CLIENT), "r": mandate}, token=anna)
    assert revoked["data"]["revokeRepresentative"] is True
    await baltijas_refused_on(one, two, token=peteris)


async def test_a_mandate_revoked_by_hand_in_the_database_is_refused_within_the_account_cache_seconds(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """No stamp announces an edit made outside the gateway: the read a worker keeps expires all the same."""
    settings = replace(gateway_settings(tmp_path), account_cache_seconds=0.5)
    one, two = await make_gateway(settings=settings), await make_gateway(settings=settings)
    token = await one.login(PETERIS)
    await baltijas_served_on(one, two, token=token)
    async with one.app.state.runtime.engine.begin() as conn:
        await conn.execute(
            mandates.update().where(mandates.c.client_id == BALTIJAS_RADIO_CLIENT).values(revoked_at=utcnow())
        )
    await asyncio.sleep(0.6)
    await baltijas_refused_on(one, two, token=token)


async def test_a_policy_change_takes_effect_without_a_restart(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(DEFAULT_POLICY.read_text())
    settings = replace(gateway_settings(tmp_path), policy_file=str(policy))
    one, two = await make_gateway(settings=settings), await make_gateway(settings=settings)
    for instance in (one, two):
        instance.app.state.services.policy.check_every = 0
    token = await one.login(ANNA)
    before = await two.gql(INVOICES, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
    assert before["data"]["client"]["invoices"]["totalCount"] >= 45

    text = DEFAULT_POLICY.read_text().replace("version = 1", "version = 2")
    policy.write_text(text.replace('"BILLING_READ", ', "", 2))
    os.utime(policy, ns=(1, 4 * 10**18))
    for instance in (one, two):
        after = await instance.gql(INVOICES, {"id": gid(BALTIJAS_RADIO_CLIENT)}, token=token)
        assert codes(after) == {"client.invoices": "FORBIDDEN"}
