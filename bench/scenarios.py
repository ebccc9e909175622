"""The scenarios: a named GraphQL document (``bench/scenarios/*.graphql``), who sends it, with which
variables, what a good answer looks like, and the ``direct`` baseline's equivalent.

Variables and the viewer's clients and scopes are learnt once from a running gateway (``prepare``), so every
target (gateway, naive, direct) walks the same sequence of requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.direct import Direct, Json, ViewerInfo, gid, raw_of
from bench.processes import BENCH_EMAIL, BENCH_PASSWORD, LARGE_CLIENT
from sandbox.personas import DEMO_PASSWORD

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
ALL_SCENARIOS = ("dashboard", "permit-detail", "settlement", "large-client")

VIEWER_QUERY = (
    "{ viewer { user { id fullName email } mustChangePassword"
    " clients { role scopes validUntil client { id } } } }"
)
DirectCall = Callable[[Direct, ViewerInfo, dict[str, Any]], Awaitable[Json]]


def document(name: str) -> str:
    return (SCENARIO_DIR / f"{name}.graphql").read_text()


@dataclass
class Prepared:
    """A scenario ready to run: its document, the login that sends it, the variables to cycle through."""

    name: str
    query: str
    email: str
    password: str
    variables: list[dict[str, Any]]
    viewer: ViewerInfo
    allowed_codes: frozenset[str]
    direct: DirectCall
    expected_rows: int | None = None  # edges of the scenario's main list, checked on every answer
    notes: list[str] = field(default_factory=list)

    def bodies(self) -> list[bytes]:
        return [orjson.dumps({"query": self.query, "variables": v}) for v in self.variables]

    def check(self, body: dict[str, object]) -> str | None:
        """A problem with a 200 answer: no data, an error code this scenario does not expect, a short list."""
        data = body.get("data")
        for error in body.get("errors") or ():  # type: ignore[attr-defined]
            code = (error.get("extensions") or {}).get("code")
            if code not in self.allowed_codes:
                return f"GraphQL error {code}: {str(error.get('message'))[:120]}"
        if not isinstance(data, dict) or any(v is None for v in data.values()):
            return "no data"
        if self.expected_rows is not None:
            rows = len(data["client"]["permits"]["edges"])
            if rows != self.expected_rows:
                return f"{rows} rows instead of {self.expected_rows}"
        return None


class Unavailable(Exception):
    """The scenario cannot run against this gateway (yet); the message says why."""


def login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"login as {email}: HTTP {response.status_code} {response.text[:200]}")
    token: str = response.json()["token"]
    return token


def graphql(
    client: httpx.Client, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> Json:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    response.raise_for_status()
    body: Json = response.json()
    return body


def query_fields(client: httpx.Client) -> set[str]:
    body = graphql(client, None, '{ __type(name: "Query") { fields { name } } }')
    return {f["name"] for f in (body.get("data") or {}).get("__type", {}).get("fields", [])}


def viewer_of(client: httpx.Client, token: str) -> ViewerInfo:
    return ViewerInfo.from_viewer(graphql(client, token, VIEWER_QUERY)["data"]["viewer"])


async def _dashboard(direct: Direct, viewer: ViewerInfo, variables: dict[str, Any]) -> Json:
    return await direct.dashboard(viewer)


async def _permit_detail(direct: Direct, viewer: ViewerInfo, variables: dict[str, Any]) -> Json:
    return await direct.permit_detail(viewer, raw_of(variables["id"]))


async def _large_client(direct: Direct, viewer: ViewerInfo, variables: dict[str, Any]) -> Json:
    return await direct.large_client(viewer, raw_of(variables["id"]), variables.get("after"))


def prepare(client: httpx.Client, name: str) -> Prepared:
    """Learn what the scenario needs from the gateway at ``client``; ``Unavailable`` when it cannot run."""
    anna = "anna.ozola@example.lv"
    if name == "dashboard":
        token = login(client, anna, DEMO_PASSWORD)
        # Anna holds BILLING_READ only on Jānis Bērziņš: his permits and invoice documents are FORBIDDEN.
        return Prepared(
            name,
            document(name),
            anna,
            DEMO_PASSWORD,
            [{}],
            viewer_of(client, token),
            frozenset({"FORBIDDEN"}),
            _dashboard,
        )
    if name == "permit-detail":
        token = login(client, anna, DEMO_PASSWORD)
        viewer = viewer_of(client, token)
        ids = []
        for access in viewer.clients:
            if "PERMITS_READ" not in access.scopes:
                continue
            page = graphql(
                client,
                token,
                "query($id: ID!) { client(id: $id) { permits(first: 100) { edges { node { id } } } } }",
                {"id": gid("Client", access.client_id)},
            )
            ids += [e["node"]["id"] for e in page["data"]["client"]["permits"]["edges"]]
        if not ids:
            raise Unavailable("the dashboard persona sees no permits")
        return Prepared(
            name,
            document(name),
            anna,
            DEMO_PASSWORD,
            [{"id": i} for i in ids],
            viewer,
            frozenset(),
            _permit_detail,
        )
    if name == "large-client":
        token = login(client, BENCH_EMAIL, BENCH_PASSWORD)
        query = document(name)
        variables: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            v = {"id": gid("Client", LARGE_CLIENT), "after": after}
            permits = graphql(client, token, query, v)["data"]["client"]["permits"]
            if len(permits["edges"]) < 100:
                break
            variables.append(v)
            if not permits["pageInfo"]["hasNextPage"]:
                break
            after = permits["pageInfo"]["endCursor"]
        if not variables:
            raise Unavailable(
                f"{LARGE_CLIENT} has fewer than 100 permits (run the sandbox with --clients >= 1)"
            )
        return Prepared(
            name,
            query,
            BENCH_EMAIL,
            BENCH_PASSWORD,
            variables,
            viewer_of(client, token),
            frozenset(),
            _large_client,
            expected_rows=100,
        )
    if name == "settlement":
        if "settlementStatus" not in query_fields(client):
            raise Unavailable(
                "skipped: the schema has no Query.settlementStatus yet (the partner-bank issue); "
                "bench/scenarios/settlement.graphql is ready for it"
            )
        raise Unavailable(
            "skipped: the schema has settlementStatus, but the harness cannot obtain a partner-bank token "
            "yet; add the client-credentials login to bench/scenarios.py"
        )
    raise ValueError(f"unknown scenario {name!r}; known: {', '.join(ALL_SCENARIOS)}")


def normalise(value: Any) -> Any:
    """The answer with every ``downloadUrl`` cut to its document and user (expiry and signature vary)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "downloadUrl" and isinstance(item, str):
                path, _, query = item.partition("?")
                out[key] = (path, [p for p in query.split("&") if p.startswith("u=")])
            else:
                out[key] = normalise(item)
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, for the report; None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}: present on one side only"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} against {b!r}"
