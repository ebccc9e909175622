"""``python -m bench.compare REV [REV ...]``: what a change bought, measured the same way for each revision.

Each revision (a commit, branch or tag; ``.`` is this working tree) is checked out in a git worktree under a
temporary directory. Then, in turns (A B A B ...), so that the machine's drift is spread evenly over them: the
sandbox, a private Redis and a one-worker gateway are started from that tree, and a scenario (``--scenario``:
the dashboard unless told; permit-detail and large-client too) is driven at concurrency 8 with fast upstreams
(gateway CPU ms per request, requests per second) and at concurrency 1 with 20 ms upstream latency (p50).
The harness itself (driver, scenario, database preparation) is this checkout's. Prints a Markdown table of
the medians over the rounds.

    .venv/bin/python -m bench.compare dc0f159 HEAD --rounds 3
    .venv/bin/python -m bench.compare 386c7c1 HEAD --scenario large-client
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from bench.load import drive, graphql_caller
from bench.processes import CHECKOUT, Gateway, Redis, Sandbox, database_kind, prepare_database
from bench.report import cpu_check_seconds
from bench.scenarios import ALL_SCENARIOS, login, prepare


@dataclass
class Figures:
    cpu_ms: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)


def checkout(revision: str, into: Path) -> Path:
    if revision == ".":
        return CHECKOUT
    tree = into / revision.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(CHECKOUT), "worktree", "add", "--detach", str(tree), revision],
        check=True,
        capture_output=True,
    )
    return tree


def measure(
    tree: Path, work: Path, seconds: float, figures: Figures, scenario: str, database_url: str | None = None
) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sandbox = Sandbox.start(work, clients=20, latency_ms=0, root=tree)
    redis = Redis.start(work)
    gateway = None
    try:
        database = prepare_database(work / "var", database_url)
        gateway = Gateway.start(
            work,
            sandbox=sandbox,
            database_url=database,
            redis_url=redis.url if redis else None,
            workers=1,
            batching=True,
            root=tree,
        )
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            prepared = prepare(client, scenario, sandbox_url=sandbox.url)
            # a partner bank's token renews itself; a portal user logs in
            token = prepared.token or login(client, prepared.email, prepared.password)
        host, port = gateway.url.removeprefix("http://").split(":")
        callers = graphql_caller(host, int(port), token, prepared.bodies(), lambda answer: None)
        process = psutil.Process(gateway.process.pid)

        asyncio.run(drive(callers, concurrency=8, seconds=2, max_requests=10**6))
        before = sum(process.cpu_times()[:2])
        run = asyncio.run(drive(callers, concurrency=8, seconds=seconds, max_requests=10**6))
        figures.cpu_ms.append((sum(process.cpu_times()[:2]) - before) / run.requests * 1000)
        figures.rate.append(len(run.latencies_ms) / run.seconds)

        sandbox.set_latency(20)
        asyncio.run(drive(callers, concurrency=1, seconds=1, max_requests=10**6))
        run = asyncio.run(drive(callers, concurrency=1, seconds=seconds, max_requests=10**6))
        figures.p50_ms.append(statistics.median(run.latencies_ms))
    finally:
        if gateway is not None:
            gateway.close()
        sandbox.close()
        if redis is not None:
            redis.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.split("\n\n")[0])
    p.add_argument("revisions", nargs="+", help="commits, branches or tags; '.' is this working tree")
    p.add_argument("--rounds", type=int, default=3, help="measurements per revision, taken in turns")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per figure")
    p.add_argument("--scenario", choices=ALL_SCENARIOS, default="dashboard", help="the scenario to drive")
    p.add_argument(
        "--database-url",
        help="a scratch PostgreSQL database, emptied before each measurement (default: SQLite)",
    )
    args = p.parse_args()
    check_before = cpu_check_seconds()
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        trees = {rev: checkout(rev, Path(tmp)) for rev in args.revisions}
        figures = {rev: Figures() for rev in args.revisions}
        try:
            for round_ in range(args.rounds):
                for rev, tree in trees.items():
                    measure(
                        tree,
                        Path(tmp) / "work",
                        args.duration,
                        figures[rev],
                        args.scenario,
                        args.database_url,
                    )
                    print(f"round {round_ + 1}: {rev} done", flush=True)
        finally:
            for tree in trees.values():
                if tree != CHECKOUT:
                    subprocess.run(
                        ["git", "-C", str(CHECKOUT), "worktree", "remove", "--force", str(tree)],
                        check=False,
                        capture_output=True,
                    )
    database = database_kind(args.database_url)
    print(
        f"\n{args.scenario}, one gateway worker, database {database}, medians of {args.rounds} rounds; "
        f"CPU check (sum(range(10**7)), about 0.2 to 0.3 s idle) {check_before} s before, "
        f"{cpu_check_seconds()} s after\n"
    )
    print("| revision | gateway CPU ms/req (c. 8, 0 ms) | req/s (c. 8, 0 ms) | p50 ms (c. 1, 20 ms) |")
    print("|---|--:|--:|--:|")
    for rev, f in figures.items():
        cpu, rate, p50 = (statistics.median(v) for v in (f.cpu_ms, f.rate, f.p50_ms))
        print(f"| {rev} | {cpu:.1f} | {rate:.0f} | {p50:.1f} |")


if __name__ == "__main__":
    main()
