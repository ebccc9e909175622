"""The load driver: N concurrent callers for a bounded time and count, with per-request latencies.

Requests to the gateway go over a minimal HTTP/1.1 keep-alive client (one connection per caller) rather than
httpx: the driver shares the machine with the gateway and the sandbox, so every microsecond it spends is one
the gateway does not get. The ``direct`` baseline is driven the same way, with its own call per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import orjson

Check = Callable[[dict[str, object]], str | None]  # a problem with a 200 answer, or None when it is fine
# What a call gives once the whole answer is in: a problem, or what checks the answer (decodes it, looks at
# it) after the clock has stopped: a latency is the time to the answer's last byte, as load tools measure it.
Checked = str | Callable[[], str | None]
Call = Callable[[int], Awaitable[Checked]]  # request number → a problem, or the answer's check
Token = str | Callable[[], str]  # a bearer token, or what gives the current one (a bank's expires)


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection: POST a body, read the whole answer (Content-Length or chunked)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=2**22)
        return self._reader, self._writer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._reader = self._writer = None

    async def post(self, path: str, body: bytes, headers: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        writer.write(head + headers + b"\r\n" + body)
        try:
            status_line = await reader.readuntil(b"\r\n")
            raw_headers = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            raise HttpError(f"connection lost: {type(exc).__name__}") from None
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked = close = False
        for line in raw_headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size + 2))
            data = b"".join(p[:-2] for p in parts)
        elif length >= 0:
            data = await reader.readexactly(length)
        else:
            data = await reader.read()
            close = True
        if close:
            await self.close()
        return status, data


def graphql_caller(
    host: str, port: int, token: Token, bodies: Sequence[bytes], check: Check
) -> Callable[[], tuple[Call, Callable[[], Awaitable[None]]]]:
    """A factory of callers: each gets its own connection and sends ``bodies`` round robin. A callable
    ``token`` is asked before every request (it renews itself); the header is rebuilt only when it changes."""
    cached: list[tuple[str, bytes]] = []

    def auth() -> bytes:
        current = token() if callable(token) else token
        if not cached or cached[0][0] != current:
            cached[:] = [(current, f"Authorization: Bearer {current}\r\n".encode())]
        return cached[0][1]

    def make() -> tuple[Call, Callable[[], Awaitable[None]]]:
        connection = Connection(host, port)

        async def call(n: int) -> Checked:
            status, data = await connection.post("/graphql", bodies[n % len(bodies)], auth())
            if status != 200:
                return f"HTTP {status}"
            return lambda: check(orjson.loads(data))

        return call, connection.close

    return make


@dataclass
class CellRun:
    """What one measured run gives: latencies in ms of the requests that succeeded, and the problems."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def record_error(self, problem: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5 and problem not in self.error_samples:
            self.error_samples.append(problem)


async def drive(
    make_caller: Callable[[], tuple[Call, Callable[[], Awaitable[None]]]],
    *,
    concurrency: int,
    seconds: float,
    max_requests: int,
    timeout: float = 20.0,  # noqa: ASYNC109 (a per-request limit, not one on the whole call)
    on_done: Callable[[int], None] | None = None,
) -> CellRun:
    """``concurrency`` callers in a closed loop until ``seconds`` have passed or ``max_requests`` were sent;
    requests in flight at the deadline are finished and counted; one that takes longer than ``timeout`` is an
    error (its connection is dropped). Every request is numbered, so the callers
    walk the same sequence of variables whatever the concurrency."""
    run = CellRun()
    counter = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal counter
        call, close = make_caller()
        try:
            while counter < max_requests and time.perf_counter() < deadline:
                n = counter
                counter += 1
                t0 = time.perf_counter()
                checked: Checked | None
                try:
                    checked = await asyncio.wait_for(call(n), timeout)
                except TimeoutError:
                    checked = f"no answer within {timeout:g} s"
                    await close()
                except Exception as exc:
                    checked = f"{type(exc).__name__}: {exc}"[:200]
                elapsed = (time.perf_counter() - t0) * 1000
                problem = checked() if callable(checked) else checked
                run.requests += 1
                if problem is None:
                    run.latencies_ms.append(elapsed)
                else:
                    run.record_error(problem)
                if on_done is not None:
                    on_done(1)
        finally:
            await close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - start
    return run


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
