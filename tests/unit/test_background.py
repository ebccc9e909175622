"""The app's background loops stop at shutdown even when a cancellation is swallowed on the way (a library
catching ``CancelledError`` inside a loop's store read): shutdown must never hang."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.app import stop_tasks


def stubborn(swallow: list[int]) -> asyncio.Task[None]:
    """A loop that sleeps and swallows its cancellation while ``swallow[0]`` is above 0 (counting down)."""

    async def loop() -> None:
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                if swallow[0] <= 0:
                    raise
                swallow[0] -= 1

    return asyncio.create_task(loop(), name="stubborn")


async def test_a_loop_that_swallowed_its_cancellation_is_stopped_at_its_next_wait() -> None:
    swallow = [2]
    task = stubborn(swallow)
    await asyncio.sleep(0.01)
    await asyncio.wait_for(stop_tasks([task], seconds=5), timeout=3)
    assert task.cancelled() and swallow == [0]


async def test_shutdown_gives_up_on_a_loop_that_never_stops_and_says_which(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swallow = [10**9]
    task = stubborn(swallow)
    with caplog.at_level(logging.ERROR, logger="gateway"):
        await asyncio.wait_for(stop_tasks([task], seconds=0.3), timeout=3)
    assert not task.done()
    assert "stubborn did not stop within 0.3 s" in caplog.text
    swallow[0] = 0
    await stop_tasks([task])
    assert task.cancelled()
