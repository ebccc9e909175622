"""Tiny HTML pages of the sandbox broker and banks (people click through them in a browser)."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse


def page(site: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page titled ``title`` under the ``site`` heading; ``body`` is HTML whose values the caller escaped.

    Never cached: these pages carry one-time codes and freshly signed assertions.
    """
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><h1>{escape(site)}</h1><h2>{escape(title)}</h2>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
