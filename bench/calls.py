"""``python -m bench.calls [--scenarios dashboard,large-client]``: the gateway's Python calls per request.

On a machine whose CPU is shared and throttled, timed figures wander by a factor of several from minute to
minute; a count of the work done does not. This serves the gateway in this process (uvicorn in the running
loop, the embedded store, SQLite), against the sandbox systems in their own process over HTTP, drives a
scenario at concurrency 1 and counts, with cProfile, the Python functions (and the C functions called from
Python) run per request: requests and answers, sessions, authorisation, upstream calls, execution. Not every
call costs the same, so it is a proxy for CPU time; run it at two revisions (``git stash``, a worktree) to
see whether a change removed work. It also counts the objects the requests left in reference cycles, which
only the garbage collector frees (a pass over every young object, and a pause; the driver in this process
leaves about one per request). Prints a Markdown table; ``--dump DIR`` also writes each scenario's profile
(``pstats``) for a closer look. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn

from bench.load import Token, drive, graphql_caller
from bench.processes import HOST, Sandbox, free_port, gateway_environment, prepare_database
from bench.scenarios import ALL_SCENARIOS, login, prepare


async def count(
    app: object, sandbox: Sandbox, scenarios: list[str], requests: int, dump: Path | None
) -> None:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.05)
    print(
        "| scenario | Python calls per request | requests | CPU ms per request (profiled) "
        "| objects left in reference cycles per request |"
    )
    print("|---|--:|--:|--:|--:|")
    try:
        for name in scenarios:

            def prepared(name: str = name) -> tuple[list[bytes], Token]:
                with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=120) as client:
                    scenario = prepare(client, name, sandbox_url=sandbox.url)
                    token = scenario.token or login(client, scenario.email, scenario.password)
                    return scenario.bodies(), token

            bodies, token = await asyncio.to_thread(prepared)
            callers = graphql_caller(HOST, port, token, bodies, lambda answer: None)
            await drive(callers, concurrency=1, seconds=600, max_requests=5, timeout=300)  # caches filled
            profile = cProfile.Profile()
            gc.collect()
            gc.disable()  # whatever the requests leave in reference cycles waits for the count below
            started = time.process_time()
            profile.enable()
            try:
                run = await drive(callers, concurrency=1, seconds=600, max_requests=requests, timeout=300)
            finally:
                profile.disable()
                gc.enable()
            cpu_ms = (time.process_time() - started) / run.requests * 1000
            cyclic = gc.collect() / run.requests
            stats = pstats.Stats(profile)
            calls = stats.total_calls / run.requests  # type: ignore[attr-defined]
            print(f"| {name} | {calls:,.0f} | {run.requests} | {cpu_ms:.1f} | {cyclic:,.1f} |", flush=True)
            if dump is not None:
                stats.dump_stats(dump / f"{name}.pstats")
    finally:
        server.should_exit = True
        await serving


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", default="dashboard,large-client", help=f"of {', '.join(ALL_SCENARIOS)}")
    p.add_argument("--requests", type=int, default=20, help="counted requests per scenario")
    p.add_argument("--dump", type=Path, help="write each scenario's profile (pstats) into this directory")
    args = p.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(ALL_SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios {', '.join(sorted(unknown))}; known: {', '.join(ALL_SCENARIOS)}")
    if args.dump is not None:
        args.dump.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        work = Path(tmp)
        sandbox = Sandbox.start(work, clients=20, latency_ms=0)
        try:
            database = prepare_database(work / "var")
            os.environ.update(gateway_environment(work, sandbox, database, None, upstream_timeout_seconds=60))
            from gateway.app import create_app  # after the environment: it reads its settings from there

            asyncio.run(count(create_app(), sandbox, scenarios, args.requests, args.dump))
        finally:
            sandbox.close()


if __name__ == "__main__":
    main()
