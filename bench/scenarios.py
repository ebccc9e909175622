"""The scenarios: a named GraphQL document (``bench/scenarios/*.graphql``), who sends it, with which
variables, what a good answer looks like, and the ``direct`` baseline's equivalent.

Variables and the viewer's clients and scopes are learnt once from a running gateway (``prepare``), so every
target (gateway, naive, direct) walks the same sequence of requests.

``settlement`` is sent as a partner bank sends it (README, "For partner banks"): a client-credentials token
from the sandbox's identity broker (``BankToken``), and the trusted documents by their SHA-256 only
(``extensions.persistedQuery``), never their text.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from graphql import OperationDefinitionNode, parse, print_ast
from graphql.language import DocumentNode

from bench.direct import Direct, Json, ViewerInfo, gid, raw_of
from bench.load import Token
from bench.processes import BANK_ID, BANK_SECRET, BENCH_EMAIL, BENCH_PASSWORD, LARGE_CLIENT
from sandbox.personas import DEMO_PASSWORD
from schema.trusted import REGISTRY, SOURCE_DIR, sha256

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
ALL_SCENARIOS = ("dashboard", "permit-detail", "settlement", "large-client")
SETTLEMENT = SOURCE_DIR / "settlement.graphql"  # the banks' trusted documents, sent by hash as a bank does
REFERENCES_PER_CLIENT = 5  # settlement: open invoices' payment references per client, besides its code

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
    # A partner bank: its token (fetched again before it expires) instead of a login with email/password.
    token: BankToken | None = None
    # Persisted queries: variable name → sha256Hash of the trusted document that takes it; the body then
    # carries the hash and no text (how a bank must send them).
    persisted: dict[str, str] = field(default_factory=dict)

    def body(self, variables: dict[str, Any]) -> Json:
        """The request body as the caller sends it: the document's text, or a trusted document's hash."""
        for name, digest in self.persisted.items():
            if name in variables:
                persisted = {"version": 1, "sha256Hash": digest}
                return {"variables": variables, "extensions": {"persistedQuery": persisted}}
        return {"query": self.query, "variables": variables}

    def bodies(self) -> list[bytes]:
        return [orjson.dumps(self.body(v)) for v in self.variables]

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


class BankToken:
    """A partner bank's access token: the client-credentials grant at the identity broker's token endpoint
    (HTTP basic client authentication, scope ``settlement:read``), as README "For partner banks" shows.

    Calling it gives the current token, fetched again when less than ``margin`` seconds of it are left: the
    broker's tokens live 5 minutes, shorter than a soak or a whole run. The fetch is synchronous (a few ms,
    once every few minutes, to the sandbox process).
    """

    def __init__(self, token_url: str, bank_id: str, secret: str, *, margin: float = 60.0) -> None:
        self.token_url = token_url
        self.bank_id = bank_id
        self.secret = secret
        self.margin = margin
        self._token = ""
        self._expires_at = 0.0
        self.fetches = 0

    def fetch(self) -> str:
        response = httpx.post(
            self.token_url,
            data={"grant_type": "client_credentials", "scope": "settlement:read"},
            auth=(self.bank_id, self.secret),
            timeout=30,
        )
        if response.status_code != 200:
            problem = f"HTTP {response.status_code} {response.text[:200]}"
            raise RuntimeError(f"token for {self.bank_id} at {self.token_url}: {problem}")
        body = response.json()
        self._token = str(body["access_token"])
        self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
        self.fetches += 1
        return self._token

    def __call__(self) -> str:
        if time.monotonic() > self._expires_at - self.margin:
            return self.fetch()
        return self._token


def login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"login as {email}: HTTP {response.status_code} {response.text[:200]}")
    token: str = response.json()["token"]
    return token


def post_graphql(client: httpx.Client, token: Token | None, body: Json) -> Json:
    """``POST /graphql`` with ``body`` as it is (a query with variables, or a persisted query's hash)."""
    bearer = token() if callable(token) else token
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = client.post("/graphql", json=body, headers=headers)
    response.raise_for_status()
    answer: Json = response.json()
    return answer


def graphql(
    client: httpx.Client, token: Token | None, query: str, variables: dict[str, Any] | None = None
) -> Json:
    return post_graphql(client, token, {"query": query, "variables": variables or {}})


def trusted_hashes(text: str) -> dict[str, str]:
    """Variable name → sha256Hash of each named operation of ``text`` in the canonical print the registry
    hashes (``schema/trusted.py``), checked against the published list (``schema/trusted-documents.json``)."""
    registry = json.loads(REGISTRY.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for definition in parse(text).definitions:
        if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
            continue
        digest = sha256(print_ast(DocumentNode(definitions=(definition,))))
        if digest not in registry:
            raise Unavailable(
                f"{definition.name.value} of {SETTLEMENT.name} is not a trusted document "
                f"(its hash is not in {REGISTRY.name}): run `gateway trusted-documents`"
            )
        for variable in definition.variable_definitions or ():
            out[variable.variable.name.value] = digest
    return out


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


async def _settlement(direct: Direct, viewer: ViewerInfo, variables: dict[str, Any]) -> Json:
    return await direct.settlement(
        viewer.user_id, variables.get("paymentReference"), variables.get("clientCode")
    )


def prepare(client: httpx.Client, name: str, *, sandbox_url: str) -> Prepared:
    """Learn what the scenario needs from the gateway at ``client`` (and, for the partner bank, from the
    sandbox at ``sandbox_url``: its broker and its agreements); ``Unavailable`` when it cannot run."""
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
            raise Unavailable("skipped: the schema has no Query.settlementStatus")
        return prepare_settlement(client, sandbox_url)
    raise ValueError(f"unknown scenario {name!r}; known: {', '.join(ALL_SCENARIOS)}")


def prepare_settlement(client: httpx.Client, sandbox_url: str) -> Prepared:
    """``demo-bank``'s settlement queries: by client code and by open invoices' payment references, for
    every client that has an agreement with the bank (in the sandbox: Jānis Bērziņš and Baltijas Radio),
    interleaved so that consecutive requests differ."""
    query = SETTLEMENT.read_text(encoding="utf-8")
    persisted = trusted_hashes(query)
    if not {"paymentReference", "clientCode"} <= persisted.keys():
        raise Unavailable(f"{SETTLEMENT} lacks the by-reference or by-code operation")
    token = BankToken(f"{sandbox_url}/idp/token", BANK_ID, BANK_SECRET)
    token()
    # Who pays through the bank, and their codes: read from the billing system, as the bank knows them.
    billing = f"{sandbox_url}/billing"
    agreements = httpx.get(f"{billing}/agreements", params={"bank_id": BANK_ID}, timeout=30).json()["items"]
    ids = sorted({a["client_id"] for a in agreements})
    if not ids:
        raise Unavailable(f"{BANK_ID} has no agreement with any client in the sandbox")
    clients = httpx.get(f"{billing}/clients", params={"ids": ",".join(ids)}, timeout=30).json()["items"]
    prepared = Prepared(
        "settlement",
        query,
        BANK_ID,
        BANK_SECRET,
        [],
        ViewerInfo.bank(BANK_ID),
        frozenset(),
        _settlement,
        token=token,
        persisted=persisted,
    )
    per_client: list[list[dict[str, Any]]] = []
    for record in sorted(clients, key=lambda c: str(c["id"])):
        by_code = {"clientCode": record["code"]}
        answer = post_graphql(client, token, prepared.body(by_code))
        problem = prepared.check(answer)
        if problem:
            raise Unavailable(f"{BANK_ID} asking for {record['id']} by its code: {problem}")
        references = [i["paymentReference"] for i in answer["data"]["settlementStatus"]["openInvoices"]]
        per_client.append([by_code, *({"paymentReference": r} for r in references[:REFERENCES_PER_CLIENT])])
    prepared.variables = [v for row in itertools.zip_longest(*per_client) for v in row if v is not None]
    return prepared


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
