"""The ``direct`` baseline: a small hand-written async client of the three company systems.

For each scenario it makes the same upstream calls as the gateway (the batch endpoints of
``sandbox/UPSTREAM_API.md``), every call as early as its inputs allow, and assembles the same JSON ``data`` as
the gateway answers. No GraphQL, no authorisation round trips, no HTTP hop in front of it: the floor for
latency and for upstream calls. What the gateway reads from its own database (who the viewer is, which clients
they act for with which scopes) is handed in as ``ViewerInfo``, learnt once from the gateway before the run.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from adapters.http import NoCookiesClient
from adapters.transport import Http11Transport
from auth.links import LinkSigner

Json = dict[str, Any]
MAX_PAGE = 100
OPEN_STATUSES = ("OVERDUE", "UNPAID", "PARTIALLY_PAID")  # resolvers/bank.py: the invoices a bank sees


def gid(type_name: str, raw_id: str) -> str:
    """The gateway's global id: url-safe base64 of ``Type:id`` without padding."""
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def raw_of(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode().partition(":")[2]


@dataclass(frozen=True, slots=True)
class ClientAccessInfo:
    client_id: str
    role: str
    scopes: tuple[str, ...]  # in the schema's order, as the gateway lists them
    valid_until: str | None


@dataclass(frozen=True, slots=True)
class ViewerInfo:
    """What the gateway knows from its own database before its first upstream call."""

    user_id: str
    full_name: str
    email: str
    must_change_password: bool
    clients: tuple[ClientAccessInfo, ...]

    def access(self, client_id: str) -> ClientAccessInfo | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def may(self, client_id: str, scope: str) -> bool:
        access = self.access(client_id)
        return access is not None and scope in access.scopes

    @classmethod
    def bank(cls, bank_id: str) -> ViewerInfo:
        """A partner bank: the gateway knows only its id (from the token) before its first upstream call;
        which clients it may see (its agreements) is fetched from the billing system."""
        return cls(user_id=bank_id, full_name=bank_id, email=bank_id, must_change_password=False, clients=())

    @classmethod
    def from_viewer(cls, viewer: Json) -> ViewerInfo:
        """From the gateway's answer to ``{ viewer { user { id fullName email } mustChangePassword clients {
        role scopes validUntil client { id } } } }``."""
        return cls(
            user_id=raw_of(viewer["user"]["id"]),
            full_name=viewer["user"]["fullName"],
            email=viewer["user"]["email"],
            must_change_password=bool(viewer["mustChangePassword"]),
            clients=tuple(
                ClientAccessInfo(raw_of(c["client"]["id"]), c["role"], tuple(c["scopes"]), c["validUntil"])
                for c in viewer["clients"]
            ),
        )


def money(amount: str, currency: str) -> Json:
    return {"amount": amount, "currency": currency}


def timestamp(value: str) -> str:
    """An upstream ISO 8601 time as the gateway answers it: aware (UTC when it has no offset), isoformat."""
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def mask_code(code: str) -> str:
    head, sep, tail = code.partition("-")
    return f"{head}-{'*' * len(tail)}" if sep else code[:6] + "*" * max(0, len(code) - 6)


def page_info(group: Json) -> Json:
    edges = group["edges"]
    return {"hasNextPage": group["has_more"], "endCursor": edges[-1]["cursor"] if edges else None}


def assignment(a: Json, *, erp: bool = False) -> Json:
    out = {
        "frequencyMHz": a["frequency_mhz"],
        "bandwidthKHz": a["bandwidth_khz"],
        "emissionDesignator": a["emission_designator"],
        "powerW": a["power_w"],
        "direction": a["direction"],
    }
    if erp:
        out["erpDBW"] = a["erp_dbw"]
    return out


def station_brief(s: Json) -> Json:
    return {
        "id": gid("Station", s["id"]),
        "name": s["name"],
        "callSign": s["call_sign"],
        "stationClass": s["station_class"],
        "assignments": [assignment(a) for a in s["assignments"]],
    }


def station_full(s: Json) -> Json:
    return {
        **station_brief(s),
        "latitude": s["latitude"],
        "longitude": s["longitude"],
        "address": s["address"],
        "antennaHeightM": s["antenna_height_m"],
        "azimuthDeg": s["azimuth_deg"],
        "polarization": s["polarization"],
        "assignments": [assignment(a, erp=True) for a in s["assignments"]],
    }


def permit_row(p: Json, stations: Sequence[Json]) -> Json:
    return {
        "id": gid("Permit", p["id"]),
        "number": p["number"],
        "serviceType": p["service_type"],
        "status": p["status"],
        "validUntil": p["valid_until"],
        "stations": [station_brief(s) for s in stations],
    }


class Direct:
    """One pooled ``httpx.AsyncClient`` per system (the gateway's ``NoCookiesClient``), over the gateway's
    own transport, each request's URL built by its ``url_for`` as ``UpstreamClient`` builds it (the same HTTP
    machinery as the gateway's adapters, so that the difference measured is the gateway's); every method is
    one scenario's whole answer."""

    def __init__(
        self, urls: Mapping[str, str], *, secret: str, link_ttl: int = 300, max_connections: int = 256
    ) -> None:
        self._http = {
            name: NoCookiesClient(
                base_url=url, transport=Http11Transport(max_connections=max_connections), timeout=30
            )
            for name, url in urls.items()
        }
        self._links = LinkSigner(secret, link_ttl)
        self.calls = 0

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._http.values()))

    async def _get(self, system: str, path: str, params: Mapping[str, str | int]) -> Json:
        self.calls += 1
        client = self._http[system]
        # the client's timeouts are set by its send, as for the gateway's requests
        request = httpx.Request("GET", client.url_for(path, params), headers=client.headers)
        response = await client.send(request)
        response.raise_for_status()
        body: Json = orjson.loads(response.content)
        return body

    async def _items(self, system: str, path: str, **params: str | int) -> dict[str, Json]:
        body = await self._get(system, path, params)
        return {item.get("id") or item["client_id"]: item for item in body["items"]}

    async def _groups(self, system: str, path: str, **params: str | int) -> dict[str, Json]:
        body = await self._get(system, path, params)
        return {group["owner_id"]: group for group in body["groups"]}

    async def _none(self) -> dict[str, Json]:
        return {}

    def _document(self, d: Json, user_id: str) -> Json:
        return {
            "id": gid("Document", d["id"]),
            "title": d["title"],
            "kind": d["kind"],
            "downloadUrl": self._links.url(d["id"], user_id),
        }

    # -- dashboard -----------------------------------------------------------------------------------------

    async def dashboard(self, viewer: ViewerInfo) -> Json:
        """Clients, balances, invoice pages and permit pages at once (the client ids are known from the
        mandates); the invoices' documents as soon as the invoice pages are in, the permits' stations as soon
        as the permit pages are (each second-level call waits for its own parent only)."""
        ids = [c.client_id for c in viewer.clients]
        billing = [c for c in ids if viewer.may(c, "BILLING_READ")]
        permits = [c for c in ids if viewer.may(c, "PERMITS_READ")]

        async def invoices_and_documents() -> tuple[dict[str, Json], dict[str, Json]]:
            if not billing:
                return {}, {}
            groups = await self._groups("billing", "/invoices", client_ids=",".join(billing), limit=20)
            document_ids = [
                e["node"]["document_id"]
                for group in groups.values()
                for e in group["edges"]
                if e["node"]["document_id"] is not None
            ]
            if not document_ids:
                return groups, {}
            return groups, await self._items(
                "documents", "/documents", ids=",".join(dict.fromkeys(document_ids))
            )

        async def permits_and_stations() -> tuple[dict[str, Json], dict[str, Json]]:
            if not permits:
                return {}, {}
            groups = await self._groups("permits", "/permits", holder_ids=",".join(permits), limit=20)
            permit_ids = [e["node"]["id"] for group in groups.values() for e in group["edges"]]
            if not permit_ids:
                return groups, {}
            return groups, await self._groups("permits", "/stations", permit_ids=",".join(permit_ids))

        clients, balances, (invoice_groups, documents), (permit_groups, stations) = await asyncio.gather(
            self._items("billing", "/clients", ids=",".join(ids)),
            self._items("billing", "/balances", client_ids=",".join(billing)) if billing else self._none(),
            invoices_and_documents(),
            permits_and_stations(),
        )
        rows = []
        for access in viewer.clients:
            record = clients.get(access.client_id)
            if record is not None:
                rows.append((access, record))
        rows.sort(key=lambda r: (r[0].role != "SELF", r[1]["name"]))
        out = []
        for access, c in rows:
            cid = c["id"]
            docs_ok = viewer.may(cid, "DOCUMENTS_READ")
            balance = balances.get(cid)
            invoices = invoice_groups.get(cid)
            permit_group = permit_groups.get(cid)
            client = {
                "id": gid("Client", cid),
                "name": c["name"],
                "kind": c["kind"],
                "code": c["code"]
                if c["kind"] == "LEGAL_PERSON" or access.role == "SELF"
                else mask_code(c["code"]),
                "billingArrangement": c["billing_arrangement"],
                "balance": None
                if balance is None
                else {
                    "outstanding": money(balance["outstanding"], balance["currency"]),
                    "overdue": money(balance["overdue"], balance["currency"]),
                    "credit": money(balance["credit"], balance["currency"]),
                },
                "invoices": None
                if cid not in billing
                else {
                    "totalCount": invoices["total"] if invoices else 0,
                    "pageInfo": page_info(invoices)
                    if invoices
                    else {"hasNextPage": False, "endCursor": None},
                    "edges": [
                        {"node": self._invoice_row(e["node"], documents if docs_ok else {}, viewer.user_id)}
                        for e in (invoices["edges"] if invoices else ())
                    ],
                },
                "permits": None
                if cid not in permits
                else {
                    "totalCount": permit_group["total"] if permit_group else 0,
                    "pageInfo": page_info(permit_group)
                    if permit_group
                    else {"hasNextPage": False, "endCursor": None},
                    "edges": [
                        {"node": permit_row(e["node"], stations.get(e["node"]["id"], {}).get("items", ()))}
                        for e in (permit_group["edges"] if permit_group else ())
                    ],
                },
            }
            out.append(
                {
                    "role": access.role,
                    "scopes": list(access.scopes),
                    "validUntil": access.valid_until,
                    "client": client,
                }
            )
        return {
            "viewer": {
                "user": {
                    "id": gid("PortalUser", viewer.user_id),
                    "fullName": viewer.full_name,
                    "email": viewer.email,
                },
                "mustChangePassword": viewer.must_change_password,
                "clients": out,
            }
        }

    def _invoice_row(self, i: Json, documents: Mapping[str, Json], user_id: str) -> Json:
        document = documents.get(i["document_id"]) if i["document_id"] is not None else None
        return {
            "id": gid("Invoice", i["id"]),
            "number": i["number"],
            "issuedOn": i["issued_on"],
            "dueOn": i["due_on"],
            "status": i["status"],
            "total": money(i["total"], i["currency"]),
            "outstanding": money(i["outstanding"], i["currency"]),
            "document": None if document is None else self._document(document, user_id),
        }

    # -- permit detail -------------------------------------------------------------------------------------

    async def permit_detail(self, viewer: ViewerInfo, permit_id: str) -> Json:
        """The permit; then its stations, its documents, its holder and the holder's invoices at once."""
        permits = await self._items("permits", "/permits", ids=permit_id)
        p = permits.get(permit_id)
        if p is None or not viewer.may(p["holder_id"], "PERMITS_READ"):
            return {"node": None}
        holder = p["holder_id"]
        billing = viewer.may(holder, "BILLING_READ")
        docs_ok = viewer.may(holder, "DOCUMENTS_READ")
        stations, documents, clients, invoice_groups = await asyncio.gather(
            self._groups("permits", "/stations", permit_ids=permit_id),
            self._groups("documents", "/documents", permit_ids=permit_id) if docs_ok else self._none(),
            self._items("billing", "/clients", ids=holder),
            self._groups("billing", "/invoices", client_ids=holder, limit=20) if billing else self._none(),
        )
        invoices = invoice_groups.get(holder)
        return {
            "node": {
                "id": gid("Permit", p["id"]),
                "number": p["number"],
                "serviceType": p["service_type"],
                "status": p["status"],
                "issuedOn": p["issued_on"],
                "validFrom": p["valid_from"],
                "validUntil": p["valid_until"],
                "stations": [station_full(s) for s in stations.get(permit_id, {}).get("items", ())],
                "documents": [
                    {
                        "id": gid("Document", d["id"]),
                        "title": d["title"],
                        "kind": d["kind"],
                        "mimeType": d["mime_type"],
                        "sizeBytes": d["size_bytes"],
                        "createdAt": d["created_at"],
                        "downloadUrl": self._links.url(d["id"], viewer.user_id),
                    }
                    for d in documents.get(permit_id, {}).get("items", ())
                ]
                if docs_ok
                else None,
                "holder": {
                    "id": gid("Client", holder),
                    "name": clients[holder]["name"],
                    "invoices": None
                    if not billing
                    else {
                        "totalCount": invoices["total"] if invoices else 0,
                        "edges": [
                            {
                                "node": {
                                    "id": gid("Invoice", i["id"]),
                                    "number": i["number"],
                                    "issuedOn": i["issued_on"],
                                    "dueOn": i["due_on"],
                                    "status": i["status"],
                                    "total": money(i["total"], i["currency"]),
                                    "outstanding": {"amount": i["outstanding"]},
                                }
                            }
                            for i in (e["node"] for e in (invoices["edges"] if invoices else ()))
                        ],
                    },
                },
            }
        }

    # -- large client --------------------------------------------------------------------------------------

    async def large_client(self, viewer: ViewerInfo, client_id: str, after: str | None) -> Json:
        """The client and a page of 100 permits at once; all the page's stations in one batch as soon as the
        page is in (not waiting for the client)."""
        if viewer.access(client_id) is None:
            return {"client": None}
        page: dict[str, str | int] = {"holder_ids": client_id, "limit": MAX_PAGE}
        if after:
            page["after"] = after

        async def page_and_stations() -> tuple[Json, dict[str, Json]]:
            groups = await self._groups("permits", "/permits", **page)
            group = groups.get(client_id) or {"total": 0, "has_more": False, "edges": []}
            permit_ids = [e["node"]["id"] for e in group["edges"]]
            if not permit_ids:
                return group, {}
            return group, await self._groups("permits", "/stations", permit_ids=",".join(permit_ids))

        clients, (group, stations) = await asyncio.gather(
            self._items("billing", "/clients", ids=client_id), page_and_stations()
        )
        return {
            "client": {
                "id": gid("Client", client_id),
                "name": clients[client_id]["name"],
                "permits": {
                    "totalCount": group["total"],
                    "pageInfo": page_info(group),
                    "edges": [
                        {
                            "cursor": e["cursor"],
                            "node": permit_row(e["node"], stations.get(e["node"]["id"], {}).get("items", ())),
                        }
                        for e in group["edges"]
                    ],
                },
            }
        }

    # -- settlement ----------------------------------------------------------------------------------------

    async def settlement(self, bank_id: str, payment_reference: str | None, client_code: str | None) -> Json:
        """A partner bank's settlement status (resolvers/bank.py): the invoice by its reference (or the
        client by its code) and the bank's agreements at once; then the balance, the last payment and the
        open invoices of each open status at once. ``None`` where the gateway answers ``NOT_FOUND``."""
        if payment_reference is not None:
            reference = payment_reference.strip().upper().replace(" ", "")
            lookup = self._get("billing", "/invoices", {"payment_reference": reference})
        else:
            lookup = self._get("billing", "/clients", {"code": (client_code or "").strip()})
        found, agreements = await asyncio.gather(
            lookup, self._get("billing", "/agreements", {"bank_id": bank_id})
        )
        items = found["items"]
        client_id = None
        if items:
            client_id = items[0]["client_id"] if payment_reference is not None else items[0]["id"]
        allowed = {a["client_id"] for a in agreements["items"] if a["bank_id"] == bank_id}
        if client_id is None or client_id not in allowed:
            return {"settlementStatus": None}
        balances, payments, *open_groups = await asyncio.gather(
            self._items("billing", "/balances", client_ids=client_id),
            self._groups("billing", "/payments", client_ids=client_id, limit=1),
            *(
                self._groups("billing", "/invoices", client_ids=client_id, status=s, limit=MAX_PAGE)
                for s in OPEN_STATUSES
            ),
        )
        balance = balances.get(client_id)
        if balance is None:
            return {"settlementStatus": None}
        invoices = [
            e["node"]
            for group in open_groups
            for e in (group.get(client_id) or {"edges": ()})["edges"]
            if Decimal(e["node"]["outstanding"]) > 0
        ]
        invoices.sort(key=lambda i: (i["due_on"], i["number"]))
        last = (payments.get(client_id) or {"edges": ()})["edges"]
        state = (
            "OVERDUE"
            if Decimal(balance["overdue"]) > 0
            else "OUTSTANDING"
            if Decimal(balance["outstanding"]) > 0
            else "SETTLED"
        )
        currency = balance["currency"]
        return {
            "settlementStatus": {
                "state": state,
                "outstanding": money(balance["outstanding"], currency),
                "overdue": money(balance["overdue"], currency),
                "lastPaymentAt": timestamp(last[0]["node"]["paid_at"]) if last else None,
                "openInvoices": [
                    {
                        "number": i["number"],
                        "dueOn": i["due_on"],
                        "outstanding": money(i["outstanding"], i["currency"]),
                        "paymentReference": i["payment_reference"],
                    }
                    for i in invoices
                ],
            }
        }
