"""The load driver times each request to its answer's last byte; the answer's check runs after the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.load import Call, Checked, drive


def callers(check: Callable[[], str | None]) -> Callable[[], tuple[Call, Callable[[], Awaitable[None]]]]:
    async def call(n: int) -> Checked:
        await asyncio.sleep(0.01)  # the answer's way back
        return check

    async def close() -> None:
        return None

    return lambda: (call, close)


def slow_check() -> str | None:
    time.sleep(0.2)  # decoding and looking at a large answer
    return None


def test_a_latency_ends_with_the_answer_and_its_check_runs_after() -> None:
    run = asyncio.run(drive(callers(slow_check), concurrency=1, seconds=10, max_requests=3))
    assert run.requests == 3 and not run.errors
    assert all(10 <= ms < 150 for ms in run.latencies_ms)  # the check's 200 ms are not in them


def test_a_problem_the_check_finds_is_an_error_not_a_latency() -> None:
    run = asyncio.run(drive(callers(lambda: "no data"), concurrency=2, seconds=10, max_requests=4))
    assert run.requests == 4 and not run.latencies_ms
    assert run.errors == 4 and run.error_samples == ["no data"]
