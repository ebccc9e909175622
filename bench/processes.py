"""The processes a benchmark run owns: the sandbox systems, Redis, the gateway; its database and bench user.

Everything listens on 127.0.0.1 only, on free ports, and is stopped by the ``Deployment`` that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import httpx
import psutil  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError

from sandbox.identities import BANK_IDS
from sandbox.personas import ALL_SCOPES

HOST = "127.0.0.1"
CHECKOUT = Path(__file__).resolve().parent.parent  # whose gateway the harness starts, unless told
BENCH_EMAIL = "bench.large@example.lv"
BENCH_PASSWORD = "Bench-2026-large"  # noqa: S105 (a throwaway account in a throwaway database)
BENCH_SECRET = "bench-secret-not-for-production-0123456789abcdef"  # noqa: S105
LARGE_CLIENT = "K300001"  # build_dataset(clients>=1): the first generated client, 1,000 permits
SMALL_CLIENT = "K100002"  # Ilze Kalna (a persona): one permit; for calls per query at 1 row against 100
BANK_ID = "demo-bank"  # the sandbox broker's partner bank with agreements (Jānis Bērziņš, Baltijas Radio)
BANK_SECRET = "demo-bank-secret"  # noqa: S105 (a published sandbox credential, README "For partner banks")
# Far above any rate the harness reaches: the defaults (120/60 per bank, 600/60 per user) would measure the
# limiters instead. Every request is still counted against them in Redis.
BANK_RATE_LIMIT = USER_RATE_LIMIT = "100000000/60"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 300) -> None:
    """Poll ``url`` until it answers below 500; fail early when the process exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"{url}: the process exited with {process.returncode}:\n{err[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; only the process we started (uvicorn stops its workers)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _gateway_cli(
    args: list[str], env: dict[str, str], log: Path, root: Path = CHECKOUT
) -> subprocess.Popen[bytes]:
    """``gateway <args>`` from the checkout at ``root`` (``python -m`` imports from its working directory)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
        )


@dataclass
class Sandbox:
    """``gateway sandbox`` in its own process: the three company systems over one scaled data set."""

    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, workdir: Path, *, clients: int, latency_ms: int, root: Path = CHECKOUT) -> Sandbox:
        port = free_port()
        log = workdir / "sandbox.log"
        args = ["sandbox", "--host", HOST, "--port", str(port), "--clients", str(clients)]
        process = _gateway_cli([*args, "--latency-ms", str(latency_ms)], {}, log, root)
        url = f"http://{HOST}:{port}"
        try:
            wait_ready(f"{url}/billing/health", process)
        except RuntimeError as exc:
            stop(process)
            raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')[-3000:]}") from None
        return cls(process, url)

    def system_urls(self) -> dict[str, str]:
        return {name: f"{self.url}/{name}" for name in ("billing", "permits", "documents")}

    @property
    def idp_url(self) -> str:
        """The identity broker's issuer: ``gateway sandbox`` serves it at ``/idp`` and, with no fixed issuer,
        names itself after the address it is reached at (tokens fetched here carry exactly this ``iss``)."""
        return f"{self.url}/idp"

    def bank_jwks(self) -> str:
        """``PARTNER_BANKS``: the sandbox banks and their published keys (``/bank/<id>/jwks``)."""
        return ",".join(f"{bank}={self.url}/bank/{bank}/jwks" for bank in BANK_IDS)

    def set_latency(self, latency_ms: int) -> None:
        for url in self.system_urls().values():
            httpx.post(f"{url}/_faults", json={"latency_ms": latency_ms, "fail_rate": 0.0, "down": False})

    def reset_stats(self) -> None:
        for url in self.system_urls().values():
            httpx.post(f"{url}/_stats/reset").raise_for_status()

    def stats(self) -> dict[str, dict[str, int]]:
        """``{system: {"requests": N, "GET /route": n, ...}}`` since the last reset."""
        out: dict[str, dict[str, int]] = {}
        for name, url in self.system_urls().items():
            body = httpx.get(f"{url}/_stats").json()
            out[name] = {
                "requests": int(body["requests"]),
                **{k: int(v) for k, v in body["by_route"].items()},
            }
        return out

    def close(self) -> None:
        stop(self.process)


@dataclass
class Redis:
    """A private ``redis-server`` (no persistence) so that several gateway workers share sessions."""

    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, workdir: Path) -> Redis | None:
        exe = shutil.which("redis-server")
        if exe is None:
            return None
        port = free_port()
        args = [exe, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [*args, "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return None
            try:
                with socket.create_connection((HOST, port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return cls(process, f"redis://{HOST}:{port}/0")
            except OSError:
                time.sleep(0.05)
        stop(process)
        return None

    def close(self) -> None:
        stop(self.process)


def prepare_database(var_dir: Path, url: str | None = None) -> str:
    """Migrate a fresh database, seed the contract personas and a bench user with mandates (every scope) on
    the large client and on a client with one permit. Returns the ``DATABASE_URL``. The gateway then finds
    users and seeds nothing.

    Without ``url``, a new SQLite file under ``var_dir``; with one (PostgreSQL, as in production), that
    database emptied of the gateway's tables first: it must be a scratch database.
    """
    from auth.accounts import Accounts
    from auth.passwords import hash_password
    from gateway.db import create_engine, drop_all, migrate, utcnow
    from gateway.seed import seed_personas
    from gateway.settings import normalise_database_url

    var_dir.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{var_dir / 'gateway.db'}"

    async def run() -> None:
        engine = create_engine(normalise_database_url(url))
        try:
            if engine.dialect.name != "sqlite":
                async with engine.begin() as conn:
                    await drop_all(conn)
            await migrate(engine)
            accounts = Accounts(engine)
            await seed_personas(accounts)
            if await accounts.by_email(BENCH_EMAIL) is None:
                now = utcnow()
                user_id = await accounts.create_user(
                    email=BENCH_EMAIL,
                    full_name="Benchmark Large Client",
                    password_hash=hash_password(BENCH_PASSWORD),
                    password_changed_at=now,
                )
                for client_id in (LARGE_CLIENT, SMALL_CLIENT):
                    await accounts.add_mandate(
                        user_id=user_id,
                        client_id=client_id,
                        scopes=ALL_SCOPES,
                        valid_from=now.date() - timedelta(days=1),
                        valid_until=now.date() + timedelta(days=365),
                    )
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise SystemExit(
            f"The {database_kind(url)} database of --database-url cannot be prepared: {reason}. It must "
            "exist and be a scratch database the benchmark may empty (for example: createdb -h 127.0.0.1 "
            "-U postgres benchprof)."
        ) from None
    return url


def database_kind(database_url: str | None) -> str:
    """``sqlite`` or ``postgresql``: what the results name, never the URL (it may hold a password)."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).get_backend_name() if database_url else "sqlite"


class DatabaseServer:
    """A PostgreSQL server on this machine, so that a cell counts the CPU the gateway's queries cost there
    instead of calling it other load."""

    def __init__(self, servers: list[psutil.Process]) -> None:
        self.servers = servers  # the postmasters; their children are the backends and workers

    @classmethod
    def on_this_machine(cls, database_url: str) -> DatabaseServer | None:
        """The server when ``database_url`` is PostgreSQL on a local address, else None (SQLite runs inside
        the gateway; a remote server's CPU is not this machine's)."""
        from sqlalchemy.engine import make_url

        url = make_url(database_url)
        if url.get_backend_name() != "postgresql" or (url.host or "localhost") not in (
            "127.0.0.1",
            "localhost",
            "::1",
        ):
            return None
        names = ("postgres", "postmaster")
        servers = []
        for process in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if process.info["name"] in names and process.parent().name() not in names:
                    servers.append(process)
        return cls(servers) if servers else None

    def readings(self) -> dict[int, float]:
        """CPU seconds so far of the server and of each process it runs now, by process id."""
        found: dict[int, float] = {}
        for server in self.servers:
            with contextlib.suppress(psutil.Error):
                for process in (server, *server.children(recursive=True)):
                    with contextlib.suppress(psutil.Error):
                        found[process.pid] = sum(process.cpu_times()[:2])
        return found

    def cpu_since(self, before: dict[int, float]) -> float:
        """CPU seconds spent since ``before`` (``readings()``): a backend started in between counts whole; one
        that ended in between is out of reach, and neither counted nor taken off (the gateway's pooled
        connections stay)."""
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in self.readings().items())


def gateway_environment(
    workdir: Path,
    sandbox: Sandbox,
    database_url: str,
    redis_url: str | None,
    *,
    batching: bool = True,
    upstream_timeout_seconds: int = 10,
) -> dict[str, str]:
    """The settings of a bench gateway pointed at ``sandbox`` over HTTP (``Gateway``, ``bench.calls``)."""
    urls = sandbox.system_urls()
    return {
        "GATEWAY_ENV": "dev",  # introspection on: the harness detects settlementStatus by introspection
        "GATEWAY_SECRET": BENCH_SECRET,
        "GATEWAY_VAR_DIR": str(workdir / "var"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "",
        "BILLING_URL": urls["billing"],
        "PERMITS_URL": urls["permits"],
        "DOCUMENTS_URL": urls["documents"],
        "GATEWAY_BATCHING": "on" if batching else "off",
        "GATEWAY_SEED_PERSONAS": "1",
        "UPSTREAM_TIMEOUT_SECONDS": str(upstream_timeout_seconds),
        # The partner banks: with the systems in another process the gateway has no in-process broker,
        # so it is told where the sandbox's is (bank tokens are checked against its discovered JWKS) and
        # which banks there are; the rate limits are lifted (see BANK_RATE_LIMIT).
        "OIDC_ISSUER": sandbox.idp_url,
        "PARTNER_BANKS": sandbox.bank_jwks(),
        "BANK_RATE_LIMIT": BANK_RATE_LIMIT,
        "BANK_RATE_LIMITS": "",
        "USER_RATE_LIMIT": USER_RATE_LIMIT,
    }


@dataclass
class Gateway:
    """``gateway serve --workers N`` pointed at the sandbox over HTTP."""

    process: subprocess.Popen[bytes]
    url: str
    workers: int
    batching: bool

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        sandbox: Sandbox,
        database_url: str,
        redis_url: str | None,
        workers: int,
        batching: bool,
        root: Path = CHECKOUT,
    ) -> Gateway:
        port = free_port()
        env = gateway_environment(workdir, sandbox, database_url, redis_url, batching=batching)
        name = f"gateway-w{workers}-{'batching' if batching else 'naive'}.log"
        args = ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
        process = _gateway_cli([*args, "--log-level", "warning"], env, workdir / name, root)
        url = f"http://{HOST}:{port}"
        try:
            wait_ready(f"{url}/healthz", process)
            wait_ready(f"{url}/readyz", process)
        except RuntimeError as exc:
            stop(process)
            raise RuntimeError(f"{exc}\n{(workdir / name).read_text(errors='replace')[-3000:]}") from None
        gateway = cls(process, url, workers, batching)
        deadline = time.monotonic() + 30
        while len(gateway.worker_processes()) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        return gateway

    def worker_processes(self) -> list[psutil.Process]:
        """The processes that serve requests: uvicorn's workers, or the server itself with one worker."""
        main = psutil.Process(self.process.pid)
        if self.workers <= 1:
            return [main]
        workers = []
        for child in main.children(recursive=False):
            try:
                cmdline = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "resource_tracker" not in cmdline:
                workers.append(child)
        return workers

    def close(self) -> None:
        stop(self.process)


@dataclass
class ResourceSample:
    at: float
    rss_mb: list[float]


@dataclass
class WorkerMonitor:
    """CPU time and RSS of a gateway's workers over a measured run (a sampling thread for the peaks)."""

    processes: list[psutil.Process]
    interval: float = 0.2
    samples: list[ResourceSample] = field(default_factory=list)
    _cpu_start: float = 0.0
    _cpu_end: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0

    def _cpu(self) -> float:
        total = 0.0
        for p in self.processes:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def _rss(self) -> list[float]:
        out = []
        for p in self.processes:
            try:
                out.append(p.memory_info().rss / 2**20)
            except psutil.Error:
                out.append(0.0)
        return out

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(ResourceSample(time.monotonic() - self._t0, self._rss()))

    def __enter__(self) -> WorkerMonitor:
        self._t0 = time.monotonic()
        self.samples.append(ResourceSample(0.0, self._rss()))
        self._cpu_start = self._cpu()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._cpu_end = self._cpu()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.samples.append(ResourceSample(time.monotonic() - self._t0, self._rss()))

    @property
    def cpu_seconds(self) -> float:
        return max(0.0, self._cpu_end - self._cpu_start)

    def peak_rss_mb(self) -> list[float]:
        """The highest RSS seen per worker."""
        peaks = [0.0] * len(self.processes)
        for sample in self.samples:
            for i, value in enumerate(sample.rss_mb):
                peaks[i] = max(peaks[i], value)
        return peaks
