"""The gateway answers the same with the executor's leaf shortcut as without it (schema/execution.py)."""

from __future__ import annotations

import gc
import re
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from schema import execution
from tests.conftest import Gateway
from tests.contract.test_personas import ANNA
from tests.contract.test_upstreams import DEEP

SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"


def comparable(body: dict[str, Any]) -> str:
    """The answer without what differs between two requests: the download links' expiry and signature."""
    return re.sub(r"download\?[^\"]*", "download?", repr(body))


async def test_dashboard_and_deep_queries_answer_the_same_without_the_shortcut(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await gateway.login(ANNA)
    dashboard = (SCENARIOS / "dashboard.graphql").read_text()
    detail = (SCENARIOS / "permit-detail.graphql").read_text()
    deep_variables = {"id": "Q2xpZW50OksyMDAwMDE"}  # Client:K200001, Baltijas Radio
    fast = [await gateway.gql(dashboard, token=token), await gateway.gql(DEEP, deep_variables, token=token)]
    permits = [c["client"]["permits"] for c in fast[0]["data"]["viewer"]["clients"] if c["client"]["permits"]]
    detail_variables = {"id": permits[0]["edges"][0]["node"]["id"]}
    fast.append(await gateway.gql(detail, detail_variables, token=token))
    monkeypatch.setattr(execution, "basic_fields", lambda schema: {})
    # Other texts, so that no shape kept for the first ones' parsed documents is used again.
    dashboard, deep, detail = (text + "\n# plain\n" for text in (dashboard, DEEP, detail))
    plain = [
        await gateway.gql(dashboard, token=token),
        await gateway.gql(deep, deep_variables, token=token),
        await gateway.gql(detail, detail_variables, token=token),
    ]
    assert [comparable(b) for b in fast] == [comparable(b) for b in plain]
    # The answers are full ones: data and the expected FORBIDDEN errors (Anna's scopes on Jānis Bērziņš).
    assert fast[0]["data"]["viewer"]["clients"][1]["client"]["permits"]["edges"]
    assert {e["extensions"]["code"] for e in fast[0]["errors"]} == {"FORBIDDEN"}
    assert fast[1]["data"]["client"]["permits"]["totalCount"] > 0
    # The download links (inline leaves) are there, in the invoices' documents and the permit's documents.
    clients = [c["client"] for c in fast[0]["data"]["viewer"]["clients"]]
    documents = [e["node"]["document"] for c in clients if c["invoices"] for e in c["invoices"]["edges"]]
    links = [d["downloadUrl"] for d in documents if d]
    links += [d["downloadUrl"] for d in fast[2]["data"]["node"]["documents"]]
    assert links and all("/download?" in link for link in links)
    assert "errors" not in fast[2]


@pytest.mark.parametrize("permits_down", [False, True], ids=["answered", "permit-registry-down"])
async def test_a_request_leaves_nothing_for_the_garbage_collector(
    gateway: Gateway, permits_down: bool
) -> None:
    """When a request ends, reference counting frees what it made: no cycle is left behind for the garbage
    collector (executor and its helpers, errors and their tracebacks, upstream answers and their streams).
    With the permit registry down, the loaders' errors (raised from the adapters' and chained) too."""
    token = await gateway.login(ANNA)
    dashboard = (SCENARIOS / "dashboard.graphql").read_text()
    await gateway.gql(dashboard, token=token)  # caches filled
    if permits_down:
        response = await gateway.client.post("/sandbox/permits/_faults", json={"down": True})
        assert response.status_code == 204
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        body = await gateway.gql(dashboard, token=token)
        gc.collect()
        left = [
            o
            for o in gc.garbage
            if type(o).__module__.split(".")[0] in {"schema", "resolvers", "adapters", "gateway", "graphql"}
            # the upstream calls' answers; the test's own client's answers go through the gateway's app
            or (isinstance(o, httpx.Response) and "/sandbox/" in str(o.request.url))
            or type(o).__name__ == "traceback"
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    # the request took the paths that used to leave cycles: errors (Anna lacks a scope) and upstream calls
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == ({"FORBIDDEN", "UPSTREAM_UNAVAILABLE"} if permits_down else {"FORBIDDEN"})
    assert body["data"]["viewer"]["clients"]
    assert Counter(described(o) for o in left) == Counter()


def described(o: object) -> str:
    """A left object's type; for a traceback, where its exception went from and to (the frames it crossed)."""
    if not isinstance(o, TracebackType):
        return type(o).__name__
    frames = []
    tb: TracebackType | None = o
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append(f"{Path(code.co_filename).name}:{tb.tb_lineno} {code.co_qualname}")
        tb = tb.tb_next
    return "traceback " + " > ".join(frames)
