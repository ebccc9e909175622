"""The sandbox company systems together: one place that builds them and mounts them.

``build_sandbox`` gives the three company systems (and their fault knobs) over one data set, plus the
unified-login identity broker and the partner banks; ``SandboxSystems.routes()`` is what any host app mounts
(the gateway under ``/sandbox``, ``gateway sandbox`` at the root).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from sandbox import billing, documents, permits
from sandbox.bank import PartnerBanks, banks_of, create_bank_app
from sandbox.common import Faults
from sandbox.data import Dataset, build_dataset
from sandbox.idp import IdentityBroker, broker_of, create_idp_app


@dataclass
class SandboxSystems:
    """The billing system, permit registry and document store over one data set, with their fault knobs;
    the identity broker (``idp``) and the partner banks (``bank``)."""

    dataset: Dataset
    billing: Starlette
    permits: Starlette
    documents: Starlette
    billing_faults: Faults
    permits_faults: Faults
    documents_faults: Faults
    # Defaults keep direct construction with the three systems only working; build_sandbox passes both.
    idp: Starlette = field(default_factory=create_idp_app)
    bank: Starlette = field(default_factory=create_bank_app)

    @property
    def broker(self) -> IdentityBroker:
        """The identity broker's state (keys, clients, persons), e.g. to rotate keys or mint bank tokens."""
        return broker_of(self.idp)

    @property
    def banks(self) -> PartnerBanks:
        """The partner banks' state, e.g. ``make_assertion`` for tests."""
        return banks_of(self.bank)

    def routes(self) -> list[BaseRoute]:
        """Mounts at ``/billing``, ``/permits``, ``/documents``, ``/idp`` and ``/bank`` (the one place that
        decides the layout)."""
        return [
            Mount("/billing", app=self.billing),
            Mount("/permits", app=self.permits),
            Mount("/documents", app=self.documents),
            Mount("/idp", app=self.idp),
            Mount("/bank", app=self.bank),
        ]

    def all_faults(self) -> tuple[Faults, ...]:
        """Every system's fault knobs (e.g. to take all of them down at once)."""
        return (self.billing_faults, self.permits_faults, self.documents_faults)


def build_sandbox(
    dataset: Dataset | None = None,
    latency_ms: int = 0,
    fail_rate: float = 0.0,
    *,
    idp_issuer: str | None = None,
    gateway_url: str | None = None,
) -> SandboxSystems:
    """The systems over ``dataset`` (personas only when ``None``), each starting with those faults.

    ``idp_issuer``: the broker's fixed issuer (``None``: derived per request from the host and mount).
    ``gateway_url``: where bank-entry forms post (``None``: the root of the app that mounts the sandbox).
    """
    ds = dataset if dataset is not None else build_dataset()
    knobs = [Faults(latency_ms=latency_ms, fail_rate=fail_rate) for _ in range(3)]
    billing_app = billing.create_app(ds, knobs[0])
    return SandboxSystems(
        dataset=ds,
        billing=billing_app,
        permits=permits.create_app(ds, knobs[1]),
        documents=documents.create_app(ds, knobs[2]),
        billing_faults=knobs[0],
        permits_faults=knobs[1],
        documents_faults=knobs[2],
        idp=create_idp_app(issuer=idp_issuer),
        bank=create_bank_app(gateway_url=gateway_url, billing=billing_app),
    )


def create_sandbox_app(
    dataset: Dataset | None = None,
    *,
    latency_ms: int = 0,
    fail_rate: float = 0.0,
    idp_issuer: str | None = None,
    gateway_url: str | None = None,
) -> Starlette:
    """One app serving the systems at ``/billing``, ``/permits``, ``/documents``, ``/idp`` and ``/bank``."""
    systems = build_sandbox(
        dataset, latency_ms=latency_ms, fail_rate=fail_rate, idp_issuer=idp_issuer, gateway_url=gateway_url
    )
    app = Starlette(routes=systems.routes())
    app.state.sandbox = systems
    return app
