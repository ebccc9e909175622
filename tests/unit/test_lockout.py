"""The lockout of terms 12.1 over the shared store (in memory and in Redis): five failures in a row lock,
whatever their spacing within the window, and tries in parallel get five password checks between them."""

from __future__ import annotations

import asyncio

from auth.lockout import Lockout
from gateway.store import Store

EMAIL = "ilze.kalnina@example.lv"


async def fail(lockout: Lockout, email: str = EMAIL) -> int | None:
    """One wrong password: the seconds to wait when the try was refused, else None."""
    attempt = await lockout.begin(email)
    if attempt.retry_after is None:
        await lockout.failed(attempt)
    return attempt.retry_after


async def test_five_failures_lock_and_the_lock_runs_from_the_fifth(store: Store) -> None:
    lockout = Lockout(store, threshold=5, seconds=900)
    assert [await fail(lockout) for _ in range(5)] == [None] * 5
    assert await lockout.retry_after(EMAIL) is not None
    refused = await lockout.begin(EMAIL.upper())  # the same e-mail, however written
    assert refused.retry_after is not None and 890 <= refused.retry_after <= 900
    assert await lockout.retry_after("other@example.lv") is None


async def test_failures_spaced_within_the_window_still_count_in_a_row(store: Store) -> None:
    """Each failure starts the window again: five failures 0.8 s apart over a 2-second window lock (the
    first is 3.2 s old by the fifth)."""
    lockout = Lockout(store, threshold=5, seconds=2)
    for _ in range(4):
        assert await fail(lockout) is None
        await asyncio.sleep(0.8)
    assert await fail(lockout) is None
    assert await lockout.retry_after(EMAIL) is not None


async def test_a_pause_longer_than_the_window_ends_the_row_and_a_lock_ends(store: Store) -> None:
    lockout = Lockout(store, threshold=3, seconds=1)
    await fail(lockout)
    await fail(lockout)
    await asyncio.sleep(2.1)
    await fail(lockout)
    assert await lockout.retry_after(EMAIL) is None  # the two before were forgotten
    await fail(lockout)
    await fail(lockout)
    assert await lockout.retry_after(EMAIL) is not None
    await asyncio.sleep(2.1)
    assert await lockout.retry_after(EMAIL) is None
    assert await fail(lockout) is None  # a new row of three


async def test_a_success_ends_the_row(store: Store) -> None:
    lockout = Lockout(store, threshold=5, seconds=900)
    for _ in range(4):
        await fail(lockout)
    await lockout.succeeded(await lockout.begin(EMAIL))
    for _ in range(4):
        assert await fail(lockout) is None
    assert await lockout.retry_after(EMAIL) is None


async def test_tries_in_parallel_get_five_checks_between_them(store: Store) -> None:
    """All twenty tries begin before any is checked (as when they arrive together and each waits for its
    password hash): five may be checked, the rest are refused, and the fifth's failure leaves the lock."""
    lockout = Lockout(store, threshold=5, seconds=900)
    attempts = await asyncio.gather(*(lockout.begin(EMAIL) for _ in range(20)))
    checked = [attempt for attempt in attempts if attempt.retry_after is None]
    assert sorted(attempt.number for attempt in checked) == [1, 2, 3, 4, 5]
    for attempt in checked:
        await lockout.failed(attempt)
    assert await lockout.retry_after(EMAIL) is not None
    assert (await lockout.begin(EMAIL)).retry_after is not None


async def test_a_try_beyond_the_threshold_locks_even_when_the_fifth_succeeds(store: Store) -> None:
    lockout = Lockout(store, threshold=5, seconds=900)
    for _ in range(4):
        await fail(lockout)
    fifth = await lockout.begin(EMAIL)
    sixth = await lockout.begin(EMAIL)  # sent while the fifth's password is being checked
    assert fifth.retry_after is None and sixth.retry_after == 900
    await lockout.succeeded(fifth)
    assert await lockout.retry_after(EMAIL) is not None  # no count passes the threshold without a lock
