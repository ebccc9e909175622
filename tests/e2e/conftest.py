"""A real browser (Debian's Chromium, driven by Playwright) against `gateway serve` as `make run` has it.

The console's scripts come from unpkg.com, as Strawberry's GraphiQL page names them (each with its
Subresource Integrity hash). This machine reaches package registries only, so the browser's requests to
unpkg are answered with the same files taken from the npm registry's tarballs (kept under ``var/e2e-npm``);
the browser still checks each file against the page's integrity hash. Without Chromium, or without the
registry, these tests skip with the reason (and fail under ``REQUIRE_SERVICES=1``, as in CI).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import strawberry
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from bench.processes import free_port, wait_ready
from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "var" / "e2e-npm"
GRAPHIQL_PAGE = Path(strawberry.__file__).parent / "static" / "graphiql.html"
REGISTRY = "https://registry.npmjs.org"
_UNPKG = re.compile(r"https://unpkg\.com/((?:@[^/@]+/)?[^/@]+)@([^/]+)/([^\"']+)")
_TYPES = {".js": "application/javascript", ".css": "text/css"}


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or ""
    if not path:
        missing("Chromium is not installed", "a browser", "apt-get install chromium, or set CHROMIUM")
    return path


def _package_file(name: str, version: str, path: str) -> bytes:
    """One file of an npm package, from its tarball in the registry (kept after the first download)."""
    tarball = CACHE / f"{name.replace('/', '__')}-{version}.tgz"
    if not tarball.exists():
        url = f"{REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
        try:
            answer = httpx.get(url, timeout=60, follow_redirects=True)
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            missing(
                f"the npm registry did not give {name}@{version} ({exc})",
                "GraphiQL's scripts",
                "let this machine reach it",
            )
        CACHE.mkdir(parents=True, exist_ok=True)
        tarball.write_bytes(answer.content)
    with tarfile.open(fileobj=io.BytesIO(tarball.read_bytes()), mode="r:gz") as archive:
        member = archive.extractfile(f"package/{path}")
        assert member is not None, f"{name}@{version} has no {path}"
        return member.read()


@pytest.fixture(scope="session")
def console_files() -> dict[str, bytes]:
    """Every unpkg URL of the GraphiQL page → the file's bytes."""
    page = GRAPHIQL_PAGE.read_text(encoding="utf-8")
    found = {m.group(0): m.groups() for m in _UNPKG.finditer(page)}
    assert len(found) >= 5, "Strawberry's GraphiQL page no longer names its scripts on unpkg"
    return {url: _package_file(*parts) for url, parts in found.items()}


@pytest.fixture(scope="module")  # closed before the asyncio tests of other modules run
def browser() -> Iterator[Browser]:
    executable = chromium()
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`gateway serve` as `make run` has it (dev, the sandbox in process, embedded store, SQLite); its URL
    and its var directory (mails land in ``outbox``)."""
    var = tmp_path_factory.mktemp("var")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GATEWAY_ENV": "dev",
        "GATEWAY_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'gateway.db'}",
        "REDIS_URL": "",
        "PUBLIC_URL": url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(f"{url}/healthz", process)
        yield url, var
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture
def context(browser: Browser, console_files: dict[str, bytes]) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) whose requests to unpkg get the npm registry's files."""
    fresh = browser.new_context()

    def from_registry(route: Route) -> None:
        body = console_files.get(route.request.url)
        if body is None:
            route.abort()
            return
        kind = _TYPES.get(Path(route.request.url).suffix, "application/octet-stream")
        # The page loads them with crossorigin="anonymous" and an integrity hash, as unpkg serves them.
        route.fulfill(body=body, content_type=kind, headers={"Access-Control-Allow-Origin": "*"})

    fresh.route("https://unpkg.com/**", from_registry)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    return opened
