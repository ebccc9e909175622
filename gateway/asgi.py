"""Entry point for ASGI servers: ``uvicorn --factory gateway.asgi:create``."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app


def create() -> Starlette:
    return create_app()
