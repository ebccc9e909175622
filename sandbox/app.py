"""The sandbox company systems together: one place that builds them and mounts them.

``build_sandbox`` gives the three apps (and their fault knobs) over one data set; ``SandboxSystems.routes()``
is what any host app mounts (the gateway under ``/sandbox``, ``gateway sandbox`` at the root).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from sandbox import billing, documents, permits
from sandbox.common import Faults
from sandbox.data import Dataset, build_dataset


@dataclass
class SandboxSystems:
    """The billing system, permit registry and document store over one data set, with their fault knobs."""

    dataset: Dataset
    billing: Starlette
    permits: Starlette
    documents: Starlette
    billing_faults: Faults
    permits_faults: Faults
    documents_faults: Faults

    def routes(self) -> list[BaseRoute]:
        """Mounts at ``/billing``, ``/permits`` and ``/documents`` (the one place that decides the layout)."""
        return [
            Mount("/billing", app=self.billing),
            Mount("/permits", app=self.permits),
            Mount("/documents", app=self.documents),
        ]

    def all_faults(self) -> tuple[Faults, ...]:
        """Every system's fault knobs (e.g. to take all of them down at once)."""
        return (self.billing_faults, self.permits_faults, self.documents_faults)


def build_sandbox(
    dataset: Dataset | None = None, latency_ms: int = 0, fail_rate: float = 0.0
) -> SandboxSystems:
    """The three systems over ``dataset`` (personas only when ``None``), each starting with those faults."""
    ds = dataset if dataset is not None else build_dataset()
    knobs = [Faults(latency_ms=latency_ms, fail_rate=fail_rate) for _ in range(3)]
    return SandboxSystems(
        dataset=ds,
        billing=billing.create_app(ds, knobs[0]),
        permits=permits.create_app(ds, knobs[1]),
        documents=documents.create_app(ds, knobs[2]),
        billing_faults=knobs[0],
        permits_faults=knobs[1],
        documents_faults=knobs[2],
    )


def create_sandbox_app(
    dataset: Dataset | None = None, *, latency_ms: int = 0, fail_rate: float = 0.0
) -> Starlette:
    """One app serving the three systems at ``/billing``, ``/permits`` and ``/documents``."""
    systems = build_sandbox(dataset, latency_ms=latency_ms, fail_rate=fail_rate)
    app = Starlette(routes=systems.routes())
    app.state.sandbox = systems
    return app
