"""Helpers for the sandbox write tests: a client on the systems mounted as the gateway mounts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.app import SandboxSystems

BASE_URL = "http://gw.test/sandbox"


@asynccontextmanager
async def mounted_client(systems: SandboxSystems) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the three systems below ``/sandbox`` (so the bank page is /sandbox/bank/...)."""
    app = Starlette(routes=[Mount("/sandbox", routes=systems.routes())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


async def send(
    http: httpx.AsyncClient, method: str, url: str, body: Any = None, *, key: str | None, status: int
) -> httpx.Response:
    """Send a write with that Idempotency-Key (none when ``None``) and check the answer's status."""
    headers = {"Idempotency-Key": key} if key is not None else {}
    response = await http.request(method, url, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response
