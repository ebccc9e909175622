"""Terms 20, 31 under failure: the gateway process is killed while the registry is working on a submission;
a new gateway process, given the retry with the same idempotency key, answers with that same application."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx

from bench.processes import free_port, wait_ready
from sandbox.personas import JANIS_CLIENT
from tests.contract.test_personas import JANIS, gid
from tests.contract.test_writes import APPLICATION, SUBMIT
from tests.integration.test_http import spawn

COUNT = (
    "query($id: ID!) { client(id: $id) { applications(first: 100) { totalCount edges { node { id } } } } }"
)


def registry_writes(sandbox_url: str) -> int:
    """Writes the permit registry has received (counted on arrival, before it answers)."""
    by_route = httpx.get(f"{sandbox_url}/permits/_stats", timeout=60).json()["by_route"]
    return sum(n for route, n in by_route.items() if not route.startswith("GET "))


def kill_on_write(
    sandbox_url: str, before: int, process: subprocess.Popen[bytes], seconds: float = 120
) -> None:
    """SIGKILL the process as soon as the registry has received a write from it."""
    deadline = time.monotonic() + seconds
    while registry_writes(sandbox_url) == before and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)


def registry_total(sandbox_url: str) -> int:
    response = httpx.get(
        f"{sandbox_url}/permits/applications", params={"client_ids": JANIS_CLIENT}, timeout=60
    )
    return int(response.json()["groups"][0]["total"])


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
        login = httpx.post(
            f"{gateway_url}/auth/login", json={"email": JANIS, "password": "Radio-2026"}, timeout=60
        )
        token = login.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        before = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": COUNT, "variables": {"id": gid(JANIS_CLIENT)}},
            headers=headers,
            timeout=60,
        ).json()["data"]["client"]["applications"]["totalCount"]

        # The registry answers writes 5 s late (done at once); the gateway dies once the registry has it.
        httpx.post(f"{sandbox_url}/permits/_faults", json={"latency_ms": 5000}).raise_for_status()
        variables = {"c": gid(JANIS_CLIENT), "i": APPLICATION, "ok": True, "k": str(uuid.uuid4())}
        writes = registry_writes(sandbox_url)
        killer = threading.Thread(target=kill_on_write, args=(sandbox_url, writes, gateway), daemon=True)
        killer.start()
        try:
            httpx.post(
                f"{gateway_url}/graphql",
                json={"query": SUBMIT, "variables": variables},
                headers=headers,
                timeout=60,
            )
            raise AssertionError("the gateway answered although it was killed")
        except httpx.TransportError:
            pass
        killer.join()
        gateway.wait(timeout=60)
        httpx.post(f"{sandbox_url}/permits/_faults", json={"latency_ms": 0}).raise_for_status()
        # The registry did create it: the crash lost only the answer.
        deadline = time.monotonic() + 60
        while registry_total(sandbox_url) == before and time.monotonic() < deadline:
            time.sleep(0.05)  # the registry's handler may still be storing it
        assert registry_total(sandbox_url) == before + 1

        gateway = spawn(["serve", "--port", str(gateway_port), "--log-level", "warning"], env)
        wait_ready(f"{gateway_url}/healthz", gateway)
        # Sessions lived in the dead process's memory (no REDIS_URL here): the user logs in again.
        login = httpx.post(
            f"{gateway_url}/auth/login", json={"email": JANIS, "password": "Radio-2026"}, timeout=60
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        first = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": SUBMIT, "variables": variables},
            headers=headers,
            timeout=60,
        )
        again = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": SUBMIT, "variables": variables},
            headers=headers,
            timeout=60,
        )
        assert first.json().get("data"), first.text
        application = first.json()["data"]["submitApplication"]
        assert again.json()["data"]["submitApplication"]["id"] == application["id"]
        after = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": COUNT, "variables": {"id": gid(JANIS_CLIENT)}},
            headers=headers,
            timeout=60,
        ).json()["data"]["client"]["applications"]
        assert after["totalCount"] == before + 1
        assert application["id"] in {e["node"]["id"] for e in after["edges"]}
    finally:
        for process in (gateway, sandbox):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
