"""Real HTTP between processes: `gateway sandbox` and `gateway serve`, as an operator runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.processes import free_port, wait_ready
from sandbox.personas import JANIS_CLIENT
from tests.contract.test_personas import JANIS, gid


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The sandbox systems in one process, the gateway pointed at them over HTTP in another."""
    var = tmp_path_factory.mktemp("var")
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox = spawn(["sandbox", "--port", str(sandbox_port)], {})
    env = {
        "BILLING_URL": f"{sandbox_url}/billing",
        "PERMITS_URL": f"{sandbox_url}/permits",
        "DOCUMENTS_URL": f"{sandbox_url}/documents",
        "GATEWAY_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{Path(var) / 'gateway.db'}",
        "REDIS_URL": "",
        "GATEWAY_SEED_PERSONAS": "1",
        "OIDC_ISSUER": f"{sandbox_url}/idp",
        "PUBLIC_URL": f"http://127.0.0.1:{gateway_port}",
        "PARTNER_BANKS": ",".join(f"{b}={sandbox_url}/bank/{b}/jwks" for b in ("demo-bank", "other-bank")),
    }
    gateway = spawn(["serve", "--port", str(gateway_port), "--log-level", "warning"], env)
    try:
        wait_ready(f"{sandbox_url}/billing/health", sandbox)
        wait_ready(f"http://127.0.0.1:{gateway_port}/healthz", gateway)
        yield sandbox_url, f"http://127.0.0.1:{gateway_port}"
    finally:
        for process in (gateway, sandbox):
            process.terminate()
            process.wait(timeout=60)


def test_login_and_query_over_http_reach_the_systems_over_http(deployment: tuple[str, str]) -> None:
    sandbox_url, gateway_url = deployment
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        assert client.get("/readyz").json() == {
            "ready": True,
            "checks": {"store": "ok", "database": "ok", "billing": "ok", "permits": "ok", "documents": "ok"},
        }
        token = client.post("/auth/login", json={"email": JANIS, "password": "Radio-2026"}).json()["token"]
        before = httpx.get(f"{sandbox_url}/permits/_stats").json()["requests"]
        body = client.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { client(id: $id) { permits { totalCount"
                " edges { node { stations { callSign } } } } } }",
                "variables": {"id": gid(JANIS_CLIENT)},
            },
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert body["data"]["client"]["permits"]["totalCount"] == 2
        after = httpx.get(f"{sandbox_url}/permits/_stats").json()["requests"]
        assert after - before == 2  # the permits page, then all their stations in one batch


def test_each_system_publishes_its_openapi(deployment: tuple[str, str]) -> None:
    sandbox_url, _ = deployment
    for system, path in (("billing", "/invoices"), ("permits", "/stations"), ("documents", "/documents")):
        spec = httpx.get(f"{sandbox_url}/{system}/openapi.json").json()
        assert spec["openapi"].startswith("3.1") and path in spec["paths"]


def test_unified_login_over_http_end_to_end(deployment: tuple[str, str]) -> None:
    """Browser-like: gateway → broker (login_hint) → gateway callback → session cookie → the graph."""
    _, gateway_url = deployment
    with httpx.Client(base_url=gateway_url, timeout=60, follow_redirects=True) as browser:
        landed = browser.get("/auth/unified/login", params={"login_hint": "140385-12341"})
        assert landed.status_code == 200 and str(landed.url) == f"{gateway_url}/"
        assert [r.status_code for r in landed.history] == [302, 302, 303]
        body = browser.post("/graphql", json={"query": "{ viewer { user { email } } }"}).json()
        assert body["data"]["viewer"]["user"]["email"] == JANIS


def test_bank_entry_over_http_end_to_end(deployment: tuple[str, str]) -> None:
    sandbox_url, gateway_url = deployment
    with httpx.Client(timeout=60) as browser:
        page = browser.get(f"{sandbox_url}/bank/entry", params={"personal_code": "140385-12341"}).text
        match = re.search(r'name="assertion" value="([^"]+)"', page)
        assert match is not None
        response = browser.post(f"{gateway_url}/auth/bank/entry", data={"assertion": match.group(1)})
        assert response.status_code == 303
        replayed = browser.post(f"{gateway_url}/auth/bank/entry", data={"assertion": match.group(1)})
        assert replayed.status_code == 403


def test_both_banks_over_http_see_only_their_agreements(deployment: tuple[str, str]) -> None:
    from schema.trusted import build_registry

    sandbox_url, gateway_url = deployment
    by_code = next(h for h, e in build_registry().items() if e["name"] == "SettlementByClientCode")

    def ask(bank: str, client_code: str) -> dict[str, object]:
        token = httpx.post(
            f"{sandbox_url}/idp/token",
            data={"grant_type": "client_credentials", "scope": "settlement:read"},
            auth=(bank, f"{bank}-secret"),
        ).json()["access_token"]
        body = {
            "variables": {"clientCode": client_code},
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": by_code}},
        }
        answer: dict[str, object] = httpx.post(
            f"{gateway_url}/graphql", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ).json()
        return answer

    baltijas = "40003571601"
    seen = ask("demo-bank", baltijas)
    assert "errors" not in seen and seen["data"]["settlementStatus"]["state"] in ("OUTSTANDING", "OVERDUE")  # type: ignore[index]
    refused = ask("other-bank", baltijas)
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # type: ignore[index]
