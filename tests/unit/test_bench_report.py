"""The benchmark report's targets: the throughput target is judged once per worker count measured."""

from __future__ import annotations

from typing import Any

from bench.report import targets


def _cell(target: str, workers: int | None, rps: float) -> dict[str, Any]:
    return {
        "phase": "throughput",
        "scenario": "dashboard",
        "target": target,
        "workers": workers,
        "concurrency": 32,
        "rps": rps,
        "gateway_cpu_ms_per_request": None if workers is None else 4.0,
    }


def test_throughput_is_judged_for_one_worker_and_for_each_larger_count() -> None:
    results = {"cells": [_cell("gateway", 1, 99.0), _cell("gateway", 2, 230.0), _cell("direct", None, 313.0)]}
    rows = {t["target"]: t for t in targets(results) if "throughput" in t["target"]}

    one = rows[
        "dashboard: throughput with fast upstreams at least half of direct's (1 worker, concurrency 32)"
    ]
    two = rows[
        "dashboard: throughput with fast upstreams at least half of direct's (2 workers, concurrency 32)"
    ]
    assert (one["met"], one["figure"]) == (False, "99 req/s against 313 (x0.32)")
    assert (two["met"], two["figure"]) == (True, "230 req/s against 313 (x0.73)")
    assert len(rows) == 2


def test_without_direct_no_throughput_target_is_judged() -> None:
    results = {"cells": [_cell("gateway", 1, 99.0), _cell("gateway", 2, 230.0)]}
    assert not [t for t in targets(results) if "throughput" in t["target"]]
