"""The benchmark run: start the processes, prepare the scenarios, drive every cell, write the report.

Phases, all in one run so that every figure is a ratio on the same machine:

1. ``latency``: upstream latency ``--latency-ms`` (20 ms), every scenario at every ``--concurrency``, against
   the gateway (first ``--workers`` count), the naive gateway (``GATEWAY_BATCHING=off``) and ``direct``;
2. ``throughput``: fast upstreams (0 ms), the highest concurrency, the gateway at every ``--workers`` count,
   naive and direct;
3. ``soak`` (``--soak SECONDS``): the scenarios mixed at concurrency 8 against one gateway worker, RSS sampled
   every second.

Besides: the ``direct`` answers are compared with the gateway's, and the calls per query are counted at 1 row
and at 100 rows per page.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
from tqdm import tqdm  # type: ignore[import-untyped]

from bench import report
from bench.direct import Direct
from bench.load import Call, CellRun, Checked, Token, drive, graphql_caller, percentile
from bench.processes import (
    BENCH_EMAIL,
    BENCH_PASSWORD,
    BENCH_SECRET,
    LARGE_CLIENT,
    SMALL_CLIENT,
    DatabaseServer,
    Gateway,
    Redis,
    Sandbox,
    WorkerMonitor,
    database_kind,
    prepare_database,
)
from bench.scenarios import (
    ALL_SCENARIOS,
    Prepared,
    Unavailable,
    document,
    first_difference,
    graphql,
    login,
    normalise,
    post_graphql,
    prepare,
)
from schema.base import to_global_id

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SOAK_CONCURRENCY = 8


@dataclass
class Options:
    quick: bool = False
    duration: float = 8.0  # measured seconds per cell
    warmup: float = 1.5  # unmeasured seconds before each cell
    requests: int = 100_000  # at most this many measured requests per cell
    concurrency: tuple[int, ...] = (1, 8, 32)
    workers: tuple[int, ...] = (1, 2)
    latency_ms: int = 20
    scenarios: tuple[str, ...] = ALL_SCENARIOS
    soak: float = 300.0  # the "memory per worker flat over a 5-minute soak"
    clients: int = 200
    output: Path = RESULTS_DIR
    name: str = "latest"
    progress: bool = True
    timeout: float = 20.0  # a request without an answer by then is an error
    pages: int | None = None  # large-client: walk only the first N pages of 100 (None: all 10)
    database_url: str | None = None  # a scratch PostgreSQL database (None: a new SQLite file)

    @classmethod
    def quick_defaults(cls) -> Options:
        return cls(
            quick=True, duration=2.0, warmup=0.5, concurrency=(1, 8), soak=0.0, name="quick", timeout=10.0
        )


@dataclass
class Cell:
    phase: str
    scenario: str
    target: str  # gateway | naive | direct
    workers: int | None
    upstream_latency_ms: int
    concurrency: int
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    upstream_calls_per_query: float | None = None
    upstream_calls_by_system: dict[str, float] = field(default_factory=dict)
    gateway_cpu_ms_per_request: float | None = None
    peak_rss_mb_per_worker: list[float] = field(default_factory=list)
    driver_cpu_ms_per_request: float | None = None
    sandbox_cpu_ms_per_request: float | None = None
    database_cpu_ms_per_request: float | None = None  # a local PostgreSQL server's processes, when it is one
    other_cpu_pct: float | None = None  # machine CPU used by processes outside the benchmark, % of all cores


class Bench:
    """One run's state: the processes, the prepared scenarios, the cells measured so far."""

    def __init__(self, options: Options, workdir: Path) -> None:
        self.o = options
        self.workdir = workdir
        self.cells: list[Cell] = []
        self.notes: list[str] = []
        self.prepared: list[Prepared] = []
        self.skipped: dict[str, str] = {}
        self.verification: dict[str, str | None] = {}
        self.rows_check: list[dict[str, Any]] = []
        self.soak: dict[str, Any] | None = None
        self.stack = contextlib.ExitStack()
        self.bar: tqdm[Any] | None = None
        self.sandbox: Sandbox
        self.redis: Redis | None = None
        self.database_url = ""
        self.database_server: DatabaseServer | None = None  # a local PostgreSQL server, whose CPU is counted

    # -- plumbing ------------------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.bar is not None:
            self.bar.write(f"note: {text}")
        else:
            print(f"note: {text}")

    def planned_cells(self) -> int:
        scenarios = len(self.prepared) or len(self.o.scenarios) or 1
        latency = scenarios * len(self.o.concurrency) * 3
        throughput = scenarios * (len(self.o.workers) + 2)
        return latency + throughput + (1 if self.o.soak > 0 else 0)

    def start(self) -> None:
        self.sandbox = Sandbox.start(self.workdir, clients=self.o.clients, latency_ms=0)
        self.stack.callback(self.sandbox.close)
        self.redis = Redis.start(self.workdir)
        if self.redis is not None:
            self.stack.callback(self.redis.close)
        elif max(self.o.workers) > 1:
            self.note(
                "redis-server not found: gateway workers do not share sessions, runs with >1 worker skipped"
            )
        self.database_url = prepare_database(self.workdir / "var", self.o.database_url)
        self.database_server = DatabaseServer.on_this_machine(self.database_url)

    @contextlib.contextmanager
    def gateway(self, workers: int, batching: bool) -> Iterator[Gateway]:
        gateway = Gateway.start(
            self.workdir,
            sandbox=self.sandbox,
            database_url=self.database_url,
            redis_url=self.redis.url if self.redis else None,
            workers=workers,
            batching=batching,
        )
        try:
            yield gateway
        finally:
            gateway.close()

    def tokens(self, gateway: Gateway) -> dict[str, Token]:
        """Per scenario sender: a session token from the gateway's login, or the partner bank's renewing
        token from the sandbox broker (the same for every gateway: the broker is the sandbox's)."""
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            return {
                p.email: p.token if p.token is not None else login(client, p.email, p.password)
                for p in self.prepared
            }

    # -- preparation ---------------------------------------------------------------------------------------

    def prepare_scenarios(self, gateway: Gateway) -> None:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            for name in self.o.scenarios:
                try:
                    prepared = prepare(client, name, sandbox_url=self.sandbox.url)
                    if name == "large-client" and self.o.pages:
                        prepared.variables = prepared.variables[: self.o.pages]
                    self.prepared.append(prepared)
                except Unavailable as exc:
                    self.skipped[name] = str(exc)
                    self.note(f"{name}: {exc}")

    async def verify_direct(self, gateway: Gateway) -> None:
        """The direct baseline must answer the same ``data`` as the gateway, or its figures mean nothing.
        Checked on the first variables of each shape (settlement: by client code and by payment reference)."""
        tokens = self.tokens(gateway)
        direct = Direct(self.sandbox.system_urls(), secret=BENCH_SECRET)
        try:
            with httpx.Client(base_url=gateway.url, timeout=60) as client:
                for p in self.prepared:
                    shapes = {frozenset(v): v for v in reversed(p.variables)}  # the first of each shape
                    diff = None
                    for v in shapes.values():
                        expected = post_graphql(client, tokens[p.email], p.body(v)).get("data")
                        got = await p.direct(direct, p.viewer, v)
                        diff = first_difference(normalise(expected), normalise(got))
                        if diff:
                            break
                    self.verification[p.name] = diff
                    if diff:
                        self.note(
                            f"{p.name}: the direct baseline's answer differs from the gateway's at {diff}"
                        )
        finally:
            await direct.aclose()

    async def check_rows(self, gateway: Gateway, target: str) -> None:
        """Upstream calls of the large-client document for a client with 1 permit and for 100-row pages of
        the client with 1,000 (every page, so 1,000 rows in all)."""
        if not any(p.name == "large-client" for p in self.prepared):
            return
        query = document("large-client")
        large = next(p for p in self.prepared if p.name == "large-client")
        direct = Direct(self.sandbox.system_urls(), secret=BENCH_SECRET) if target == "direct" else None
        token = ""
        if direct is None:
            with httpx.Client(base_url=gateway.url, timeout=60) as client:
                token = login(client, BENCH_EMAIL, BENCH_PASSWORD)

        async def calls(variables: dict[str, Any]) -> int:
            self.sandbox.reset_stats()
            if direct is not None:
                await large.direct(direct, large.viewer, variables)
            else:
                with httpx.Client(base_url=gateway.url, timeout=60) as client:
                    graphql(client, token, query, variables)
            return sum(s["requests"] for s in self.sandbox.stats().values())

        try:
            one = await calls({"id": to_global_id("Client", SMALL_CLIENT), "after": None})
            pages = [await calls(v) for v in large.variables]
        finally:
            if direct is not None:
                await direct.aclose()
        self.rows_check.append(
            {
                "target": target,
                "calls_1_row": one,
                "calls_per_100_row_page": sum(pages) / len(pages),
                "pages": len(pages),
                "calls_all_rows": sum(pages),
                "rows": 100 * len(pages),
                "client": LARGE_CLIENT,
            }
        )

    # -- cells ---------------------------------------------------------------------------------------------

    async def cell(
        self,
        *,
        phase: str,
        scenario: Prepared,
        target: str,
        concurrency: int,
        gateway: Gateway | None,
        tokens: dict[str, Token] | None = None,
        direct: Direct | None = None,
    ) -> Cell:
        latency = self.o.latency_ms if phase == "latency" else 0
        cell = Cell(phase, scenario.name, target, gateway.workers if gateway else None, latency, concurrency)
        if self.bar is not None:
            where = f"{gateway.workers}w" if gateway else "-"
            self.bar.set_description(f"{phase} {scenario.name} {target} {where} c{concurrency}")

        if gateway is not None and tokens is not None:
            host, port = gateway.url.removeprefix("http://").split(":")
            make = graphql_caller(host, int(port), tokens[scenario.email], scenario.bodies(), scenario.check)
        elif direct is not None:
            make = direct_caller(direct, scenario)
        else:
            raise ValueError("a cell needs a gateway with tokens or a direct client")

        if self.o.warmup > 0:
            await drive(
                make,
                concurrency=concurrency,
                seconds=self.o.warmup,
                max_requests=self.o.requests,
                timeout=self.o.timeout,
            )
        self.sandbox.reset_stats()
        sandbox_process = psutil.Process(self.sandbox.process.pid)
        sandbox_cpu = sum(sandbox_process.cpu_times()[:2])
        database = self.database_server
        database_before = database.readings() if database else {}
        driver_cpu = time.process_time()
        machine_busy = _busy_seconds()
        monitor = WorkerMonitor(gateway.worker_processes() if gateway else [])
        with monitor:
            run = await drive(
                make, concurrency=concurrency, seconds=self.o.duration, max_requests=self.o.requests
            )
        driver_cpu = time.process_time() - driver_cpu
        machine_busy = _busy_seconds() - machine_busy
        sandbox_cpu = sum(sandbox_process.cpu_times()[:2]) - sandbox_cpu
        database_cpu = database.cpu_since(database_before) if database else 0.0
        stats = self.sandbox.stats()
        fill(cell, run)
        if run.requests:
            per = 1000 / run.requests
            total = sum(s["requests"] for s in stats.values())
            cell.upstream_calls_per_query = total / run.requests
            cell.upstream_calls_by_system = {k: v["requests"] / run.requests for k, v in stats.items()}
            cell.driver_cpu_ms_per_request = driver_cpu * per
            cell.sandbox_cpu_ms_per_request = sandbox_cpu * per
            if database is not None:
                cell.database_cpu_ms_per_request = database_cpu * per
            if gateway is not None:
                cell.gateway_cpu_ms_per_request = monitor.cpu_seconds * per
        ours = monitor.cpu_seconds + sandbox_cpu + driver_cpu + database_cpu
        if run.seconds > 0:
            capacity = run.seconds * (psutil.cpu_count() or 1)
            cell.other_cpu_pct = round(max(0.0, machine_busy - ours) * 100 / capacity, 1)
        if gateway is not None:
            cell.peak_rss_mb_per_worker = [round(v, 1) for v in monitor.peak_rss_mb()]
        if run.errors:
            where = f"{phase} {scenario.name} {target} c{concurrency}"
            self.note(f"{where}: {run.errors} errors, e.g. {run.error_samples[:2]}")
        self.cells.append(cell)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{cell.rps:.0f} req/s p50 {cell.p50_ms or 0:.1f} ms")
        return cell

    async def gateway_phases(self, gateway: Gateway, target: str, *, latency: bool, throughput: bool) -> None:
        tokens = self.tokens(gateway)
        if latency:
            self.sandbox.set_latency(self.o.latency_ms)
            for scenario in self.prepared:
                for c in self.o.concurrency:
                    await self.cell(
                        phase="latency",
                        scenario=scenario,
                        target=target,
                        concurrency=c,
                        gateway=gateway,
                        tokens=tokens,
                    )
        if throughput:
            self.sandbox.set_latency(0)
            for scenario in self.prepared:
                await self.cell(
                    phase="throughput",
                    scenario=scenario,
                    target=target,
                    concurrency=max(self.o.concurrency),
                    gateway=gateway,
                    tokens=tokens,
                )

    async def direct_phases(self) -> None:
        direct = Direct(self.sandbox.system_urls(), secret=BENCH_SECRET)
        try:
            self.sandbox.set_latency(self.o.latency_ms)
            for scenario in self.prepared:
                for c in self.o.concurrency:
                    await self.cell(
                        phase="latency",
                        scenario=scenario,
                        target="direct",
                        concurrency=c,
                        gateway=None,
                        direct=direct,
                    )
            self.sandbox.set_latency(0)
            for scenario in self.prepared:
                await self.cell(
                    phase="throughput",
                    scenario=scenario,
                    target="direct",
                    concurrency=max(self.o.concurrency),
                    gateway=None,
                    direct=direct,
                )
        finally:
            await direct.aclose()

    async def run_soak(self, gateway: Gateway) -> None:
        """The scenarios mixed, concurrency 8, fast upstreams; RSS of each worker every second."""
        self.sandbox.set_latency(0)
        tokens = self.tokens(gateway)
        host, port = gateway.url.removeprefix("http://").split(":")
        makers = [
            graphql_caller(host, int(port), tokens[p.email], p.bodies(), p.check) for p in self.prepared
        ]
        turn = iter(range(10**9))

        def make() -> tuple[Call, Callable[[], Awaitable[None]]]:
            return makers[next(turn) % len(makers)]()

        if self.bar is not None:
            self.bar.set_description(f"soak {self.o.soak:.0f} s")
        monitor = WorkerMonitor(gateway.worker_processes(), interval=1.0)
        with monitor:
            run = await drive(
                make,
                concurrency=SOAK_CONCURRENCY,
                seconds=self.o.soak,
                max_requests=10**9,
                timeout=self.o.timeout,
            )
        series = [(round(s.at, 1), round(max(s.rss_mb), 1)) for s in monitor.samples]
        n = max(1, len(series) // 5)
        start = sum(v for _, v in series[:n]) / n
        end = sum(v for _, v in series[-n:]) / n
        self.soak = {
            "seconds": round(run.seconds, 1),
            "concurrency": SOAK_CONCURRENCY,
            "requests": run.requests,
            "errors": run.errors,
            "rps": round(len(run.latencies_ms) / run.seconds, 1) if run.seconds else 0.0,
            "rss_start_mb": round(start, 1),
            "rss_end_mb": round(end, 1),
            "growth_mb": round(end - start, 1),
            "growth_pct": round(100 * (end - start) / start, 1) if start else None,
            "series": series,
        }
        if self.bar is not None:
            self.bar.update(1)

    # -- the whole run -------------------------------------------------------------------------------------

    async def run(self) -> None:
        workers = sorted(set(self.o.workers))
        base = workers[0]
        self.bar = tqdm(
            total=self.planned_cells(), unit="cell", disable=not self.o.progress, dynamic_ncols=True
        )
        try:
            with self.gateway(base, batching=True) as gateway:
                self.prepare_scenarios(gateway)
                if not self.prepared:
                    self.note("no scenario can run")
                    return
                self.bar.total = self.planned_cells()
                self.bar.refresh()
                await self.verify_direct(gateway)
                await self.check_rows(gateway, "gateway")
                await self.gateway_phases(gateway, "gateway", latency=True, throughput=True)
                if self.o.soak > 0:
                    await self.run_soak(gateway)
            await self.check_rows(gateway, "direct")
            await self.direct_phases()
            # A fresh naive gateway per phase: an overloaded one opens its circuit breakers, and that state
            # would otherwise turn the next phase into instant UPSTREAM_UNAVAILABLE answers.
            with self.gateway(base, batching=False) as naive:
                await self.check_rows(naive, "naive")
                await self.gateway_phases(naive, "naive", latency=True, throughput=False)
            with self.gateway(base, batching=False) as naive:
                await self.gateway_phases(naive, "naive", latency=False, throughput=True)
            for w in workers[1:]:
                if self.redis is None:
                    continue
                with self.gateway(w, batching=True) as gateway:
                    await self.gateway_phases(gateway, "gateway", latency=False, throughput=True)
        finally:
            self.bar.close()
            self.bar = None


def direct_caller(
    direct: Direct, scenario: Prepared
) -> Callable[[], tuple[Call, Callable[[], Awaitable[None]]]]:
    """Callers of the direct baseline: the same variables in the same order as the gateway's callers."""

    async def nothing() -> None:
        return None

    def make() -> tuple[Call, Callable[[], Awaitable[None]]]:
        async def call(n: int) -> Checked:
            data = await scenario.direct(
                direct, scenario.viewer, scenario.variables[n % len(scenario.variables)]
            )
            return lambda: scenario.check({"data": data})

        return call, nothing

    return make


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (every core)."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def fill(cell: Cell, run: CellRun) -> None:
    ok = run.latencies_ms
    cell.requests = run.requests
    cell.errors = run.errors
    cell.error_samples = run.error_samples
    cell.seconds = round(run.seconds, 3)
    cell.rps = len(ok) / run.seconds if run.seconds else 0.0
    cell.p50_ms = percentile(ok, 50)
    cell.p95_ms = percentile(ok, 95)
    cell.p99_ms = percentile(ok, 99)
    cell.mean_ms = sum(ok) / len(ok) if ok else None


def run_benchmark(options: Options) -> dict[str, Any]:
    """Run everything and write ``<output>/<name>.json``, ``.md`` and ``.png``; returns the results."""
    for name in options.scenarios:
        if name not in ALL_SCENARIOS:
            raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(ALL_SCENARIOS)}")
    workdir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    bench = Bench(options, workdir)
    started = time.time()
    load_before = _loadavg()
    cpu_check_before = report.cpu_check_seconds()
    try:
        with bench.stack:
            bench.start()
            _run_async(bench.run())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = {
        "name": options.name,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_seconds": round(time.time() - started, 1),
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(options).items()
            if k != "database_url"  # may hold a password; setup.database names the kind
        },
        "machine": report.machine_info(),
        "setup": {
            "sandbox_clients": options.clients,
            "store": "redis" if bench.redis is not None else "memory",
            "database": database_kind(bench.database_url),
            "load_driver": "asyncio + uvloop, raw HTTP/1.1 keep-alive, one connection per caller",
            "load_average_before": load_before,
            "load_average_after": _loadavg(),
            "cpu_check_before_s": cpu_check_before,
            "cpu_check_after_s": report.cpu_check_seconds(),
        },
        "skipped": bench.skipped,
        "direct_matches_gateway": {k: v is None for k, v in bench.verification.items()},
        "direct_differences": {k: v for k, v in bench.verification.items() if v},
        "rows_check": bench.rows_check,
        "cells": [asdict(c) for c in bench.cells],
        "soak": bench.soak,
        "notes": bench.notes,
    }
    results["targets"] = report.targets(results)
    report.write(results, options.output, options.name)
    return results


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _run_async(coro: Any) -> None:
    try:
        import uvloop

        uvloop.run(coro)
    except ImportError:
        asyncio.run(coro)
