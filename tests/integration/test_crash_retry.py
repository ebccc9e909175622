"""Terms 20, 31 under failure: the gateway process is killed while the registry is working on a submission;
a new gateway process, given the retry with the same idempotency key, answers with that same application."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx

from sandbox.personas import JANIS_CLIENT
from tests.contract.test_personas import JANIS, gid
from tests.contract.test_writes import APPLICATION, SUBMIT
from tests.integration.test_http import free_port, spawn, wait_ready

COUNT = (
    "query($id: ID!) { client(id: $id) { applications(first: 100) { totalCount edges { node { id } } } } }"
)


def test_a_gateway_killed_mid_submission_is_healed_by_the_retry(tmp_path: Path) -> None:
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox_url, gateway_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{gateway_port}"
    env = {
        "BILLING_URL": f"{sandbox_url}/billing",
        "PERMITS_URL": f"{sandbox_url}/permits",
        "DOCUMENTS_URL": f"{sandbox_url}/documents",
        "GATEWAY_VAR_DIR": str(tmp_path),
        "GATEWAY_SECRET": "crash-" + uuid.uuid4().hex,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "REDIS_URL": "",
        "GATEWAY_SEED_PERSONAS": "1",
        "UPSTREAM_TIMEOUT_SECONDS": "10",
    }
    sandbox = spawn(["sandbox", "--port", str(sandbox_port)], {})
    gateway = spawn(["serve", "--port", str(gateway_port), "--log-level", "warning"], env)
    try:
        wait_ready(f"{sandbox_url}/billing/health", sandbox)
        wait_ready(f"{gateway_url}/healthz", gateway)
        login = httpx.post(f"{gateway_url}/auth/login", json={"email": JANIS, "password": "Radio-2026"})
        token = login.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        before = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": COUNT, "variables": {"id": gid(JANIS_CLIENT)}},
            headers=headers,
        ).json()["data"]["client"]["applications"]["totalCount"]

        # The registry takes 2 s per request; the gateway dies 1 s into the submission.
        httpx.post(f"{sandbox_url}/permits/_faults", json={"latency_ms": 2000}).raise_for_status()
        variables = {"c": gid(JANIS_CLIENT), "i": APPLICATION, "ok": True, "k": str(uuid.uuid4())}
        killer = threading.Timer(1.0, lambda: os.kill(gateway.pid, signal.SIGKILL))
        killer.start()
        try:
            httpx.post(
                f"{gateway_url}/graphql",
                json={"query": SUBMIT, "variables": variables},
                headers=headers,
                timeout=10,
            )
            raise AssertionError("the gateway answered although it was killed")
        except httpx.TransportError:
            pass
        killer.join()
        gateway.wait(timeout=10)
        time.sleep(2.5)  # the registry finishes the request the dead gateway sent
        httpx.post(f"{sandbox_url}/permits/_faults", json={"latency_ms": 0}).raise_for_status()
        # The registry did create it: the crash lost only the answer.
        registry = httpx.get(
            f"{sandbox_url}/permits/applications", params={"client_ids": JANIS_CLIENT}
        ).json()
        assert registry["groups"][0]["total"] == before + 1

        gateway = spawn(["serve", "--port", str(gateway_port), "--log-level", "warning"], env)
        wait_ready(f"{gateway_url}/healthz", gateway)
        # Sessions lived in the dead process's memory (no REDIS_URL here): the user logs in again.
        login = httpx.post(f"{gateway_url}/auth/login", json={"email": JANIS, "password": "Radio-2026"})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        first = httpx.post(
            f"{gateway_url}/graphql", json={"query": SUBMIT, "variables": variables}, headers=headers
        )
        again = httpx.post(
            f"{gateway_url}/graphql", json={"query": SUBMIT, "variables": variables}, headers=headers
        )
        assert first.json().get("data"), first.text
        application = first.json()["data"]["submitApplication"]
        assert again.json()["data"]["submitApplication"]["id"] == application["id"]
        after = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": COUNT, "variables": {"id": gid(JANIS_CLIENT)}},
            headers=headers,
        ).json()["data"]["client"]["applications"]
        assert after["totalCount"] == before + 1
        assert application["id"] in {e["node"]["id"] for e in after["edges"]}
    finally:
        for process in (gateway, sandbox):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
