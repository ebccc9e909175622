"""``GET /metrics``: Prometheus text with requests, GraphQL errors and upstream calls; bounded labels; the
figures of every worker of ``gateway serve --workers 2`` added up."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.processes import free_port, wait_ready
from gateway.metrics import route_labeler
from tests.conftest import GatewayFactory, fresh_postgres, service_url
from tests.contract.test_personas import JANIS
from tests.integration.test_http import spawn


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text, name).get(tuple(sorted(labels.items())), 0.0)


async def test_requests_errors_and_upstream_calls_are_counted(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway()
    before = (await gateway.client.get("/metrics")).text
    token = await gateway.login(JANIS)
    for _ in range(3):
        assert (await gateway.gql("{ viewer { clients { client { name } } } }", token=token))["data"]
    anonymous = await gateway.gql("{ viewer { user { email } } }")  # null viewer, no error
    assert anonymous["data"]["viewer"] is None
    refused = await gateway.gql('{ client(id: "Q2xpZW50Ok5PTkU=") { name } }', token=token)
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await gateway.client.get("/documents/D-1/download?u=x&exp=1&sig=y")).status_code == 404
    assert (await gateway.client.get("/no/such/path/" + uuid.uuid4().hex)).status_code == 404

    response = await gateway.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = response.text
    posted = {"route": "/graphql", "method": "POST", "status": "200"}
    assert (
        value(after, "gateway_http_requests_total", **posted)
        - value(before, "gateway_http_requests_total", **posted)
        == 5
    )
    assert (
        value(after, "gateway_graphql_errors_total", code="NOT_FOUND")
        - value(before, "gateway_graphql_errors_total", code="NOT_FOUND")
        == 1
    )
    download = {"route": "/documents/{document_id}/download", "method": "GET", "status": "404"}
    assert value(after, "gateway_http_requests_total", **download) >= 1
    assert value(after, "gateway_http_requests_total", route="other", method="GET", status="404") >= 1
    assert "no/such/path" not in after and "D-1" not in after  # a label is a route, never a raw path
    counts = samples(after, "gateway_http_request_duration_seconds_count")
    assert counts[(("route", "/graphql"),)] >= 5
    # the viewer's clients came from the billing system, through the sandbox in process
    assert value(after, "gateway_upstream_calls_total", system="billing", outcome="ok") > value(
        before, "gateway_upstream_calls_total", system="billing", outcome="ok"
    )


def test_route_labels_are_the_routes_patterns() -> None:
    from starlette.routing import Mount, Route

    def endpoint() -> None: ...

    label = route_labeler(
        [
            Route("/graphql", endpoint),
            Route("/auth/login", endpoint),
            Route("/documents/{document_id}/download", endpoint),
            Mount("/sandbox", routes=[]),
        ]
    )
    assert label("/graphql") == "/graphql" and label("/auth/login") == "/auth/login"
    assert label("/documents/D100001/download") == "/documents/{document_id}/download"
    assert label("/sandbox/billing/clients") == "/sandbox"
    assert label("/graphql/x") == label("/auth/login/../x") == label("/") == "other"


@pytest.mark.services
def test_two_workers_report_their_figures_added_up(tmp_path: Path) -> None:
    database_url = service_url("DATABASE_URL")
    asyncio.run(fresh_postgres(database_url))
    port = free_port()
    env = {
        "GATEWAY_VAR_DIR": str(tmp_path),
        "GATEWAY_SECRET": "metrics-" + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "REDIS_URL": service_url("REDIS_URL"),
        "REDIS_PREFIX": f"test-{uuid.uuid4().hex}:",
    }
    process = spawn(["serve", "--port", str(port), "--workers", "2", "--log-level", "warning"], env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/healthz", process)
        # new connections: the kernel spreads them over both workers
        for _ in range(40):
            assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        totals = set()
        for _ in range(6):  # whichever worker answers the scrape, it reports both
            text = httpx.get(f"{base}/metrics", timeout=30).text
            totals.add(
                value(text, "gateway_http_requests_total", route="/healthz", method="GET", status="200")
            )
        assert min(totals) >= 40, totals
        pids = set(re.findall(r"\d+", " ".join(p.name for p in (tmp_path / "prometheus").glob("*/*.db"))))
        assert len(pids) >= 2, pids  # files of both workers
    finally:
        process.terminate()
        process.wait(timeout=60)
