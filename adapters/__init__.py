"""Adapters: one package per company system (billing, permits, documents).

Each package holds the port (a ``Protocol``), the records it returns (plain dataclasses) and the httpx
adapter. Adapters know nothing of GraphQL; no ``httpx`` error crosses this edge (see ``adapters.errors``).
"""
