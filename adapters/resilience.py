"""Resilience policies for calling the company systems: timeouts, retry with backoff, a circuit breaker.

Plain policy objects without I/O; ``adapters.http.UpstreamClient`` applies them (and re-exports them).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``connect``/``read``/``write``/``pool`` go to httpx; ``total`` bounds each whole attempt."""

    connect: float = 2.0
    read: float = 5.0
    write: float = 5.0
    pool: float = 2.0
    total: float | None = 8.0

    def for_httpx(self) -> httpx.Timeout:
        """The httpx part of these timeouts."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter for idempotent requests; ``attempts`` counts the first try too."""

    attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 1.0
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    statuses: frozenset[int] = frozenset({502, 503, 504})
    jitter: Callable[[float, float], float] = random.uniform
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based); Retry-After wins, capped."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        cap = min(self.max_delay, self.base_delay * 2**attempt)
        return self.jitter(0.0, cap) if cap > 0 else 0.0


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failed calls → half-open after ``cooldown``.

    Half-open lets exactly one trial call through: its success closes the breaker, its failure reopens it.
    Only unavailability counts as a failure; a 404 or 422 shows the system is alive. A failure is one whole
    call (after its retries), not one attempt.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (cooldown over, a trial may run or is running)."""
        if self._opened_at is None:
            return "closed"
        if self._trial_running or self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open, claims the single trial slot."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        """The system answered: close the breaker."""
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        """The system was unavailable: count it; open (or reopen after a failed trial) at the threshold."""
        self._failures += 1
        if self._trial_running or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def release(self) -> None:
        """The call ended without a verdict (e.g. cancelled): free the trial slot for the next caller."""
        self._trial_running = False


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); ``None`` when unusable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
