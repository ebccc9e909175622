"""``python -m bench.http_client``: CPU per upstream GET, httpx's default transport and ``Http11Transport``.

A tiny JSON server (uvicorn, uvloop, httptools) runs in its own process, so that the CPU measured here
(``time.process_time`` of this process) is the client's alone. Each GET goes through
``UpstreamClient.get_json``, the gateway's real path (breaker, deadline, error mapping, JSON decoding), on a
uvloop loop. Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import httpx
import orjson

from adapters.http import UpstreamClient
from adapters.transport import Http11Transport
from bench.processes import HOST, free_port, wait_ready

# About the size of a small batch answer of the company systems.
BODY = orjson.dumps(
    {"items": [{"id": f"K10000{n}", "name": "Jānis Bērziņš", "kind": "NATURAL_PERSON"} for n in range(3)]}
)
MAX_CONNECTIONS = 100  # UpstreamClient's default

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The upstream: the same small JSON answer to every request."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host=HOST,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=60,  # no idle connection is closed under the client between two cells
    )


TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
    "httpx default (httpcore)": lambda: httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    ),
    "Http11Transport": lambda: Http11Transport(max_connections=MAX_CONNECTIONS),
}


@dataclass(frozen=True)
class Cell:
    transport: str
    concurrency: int
    requests: int
    cpu_us: float
    rate: float


async def measure(url: str, transport: str, concurrency: int, requests: int, warmup: int) -> Cell:
    """``requests`` GETs by ``concurrency`` callers, after ``warmup`` (connections open, caches warm)."""
    async with UpstreamClient("billing", url, transport=TRANSPORTS[transport]()) as client:

        async def caller(count: int) -> None:
            for _ in range(count):
                await client.get_json("/clients", {"ids": "K100001,K100002,K100003"})

        await asyncio.gather(*(caller(warmup // concurrency + 1) for _ in range(concurrency)))
        per_caller = max(1, requests // concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller(per_caller) for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = per_caller * concurrency
    return Cell(transport, concurrency, done, cpu / done * 1e6, done / wall)


async def run(url: str, concurrencies: list[int], requests: int, rounds: int) -> list[Cell]:
    cells = []
    for concurrency in concurrencies:
        for transport in TRANSPORTS:
            # Rounds interleave with the other transport's in time; the median damps a busy machine.
            runs = [await measure(url, transport, concurrency, requests, warmup=200) for _ in range(rounds)]
            cpu = statistics.median(r.cpu_us for r in runs)
            rate = statistics.median(r.rate for r in runs)
            cells.append(Cell(transport, concurrency, runs[0].requests, cpu, rate))
    return cells


def table(cells: list[Cell]) -> str:
    lines = [
        "| transport | concurrency | GETs | client CPU µs/GET | GET/s |",
        "|---|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {c.transport} | {c.concurrency} | {c.requests} | {c.cpu_us:.0f} | {c.rate:.0f} |" for c in cells
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_client", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="measured GETs per cell (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell, median shown (default 3)")
    parser.add_argument("--concurrency", default="1,16", help="callers at once, per cell (default 1,16)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.http_client", "--serve", str(port)], stderr=subprocess.PIPE
    )
    try:
        url = f"http://{HOST}:{port}"
        wait_ready(url, server)
        import uvloop

        cells = uvloop.run(run(url, concurrencies, args.requests, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"GET of a {len(BODY)}-byte JSON answer from uvicorn on {HOST} through UpstreamClient.get_json; "
        f"Python {sys.version.split()[0]}, httpx {version('httpx')}, httpcore {version('httpcore')}, "
        f"httptools {version('httptools')}, uvloop client loop; median of {args.rounds} runs per cell.\n"
    )
    print(table(cells))


if __name__ == "__main__":
    main()
