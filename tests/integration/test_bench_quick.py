"""The benchmark harness at tiny scale: real processes, every phase, a report with sane numbers (bench/)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import RESULTS_DIR, Options, run_benchmark

RUNNABLE = ("dashboard", "permit-detail", "settlement", "large-client")


def test_the_harness_measures_every_scenario_and_writes_a_report(tmp_path: Path) -> None:
    before = sorted(p.name for p in RESULTS_DIR.glob("*")) if RESULTS_DIR.exists() else []
    # One gateway worker (a second one costs another start); two pages of the large client; short cells.
    options = Options(
        duration=0.25,
        warmup=0.0,
        requests=100,
        concurrency=(1, 2),
        workers=(1,),
        latency_ms=2,
        soak=0.5,
        clients=1,
        pages=2,
        output=tmp_path,
        name="tiny",
        progress=False,
    )
    results = run_benchmark(options)

    # Files where asked, and nothing written into bench/results.
    for ext in ("json", "md", "png"):
        assert (tmp_path / f"tiny.{ext}").stat().st_size > 0
    assert json.loads((tmp_path / "tiny.json").read_text())["name"] == "tiny"
    after = sorted(p.name for p in RESULTS_DIR.glob("*")) if RESULTS_DIR.exists() else []
    assert after == before

    # Every scenario ran: settlement too, as demo-bank (a token from the sandbox broker, trusted documents
    # by hash), with answers free of errors (the rate limit lifted).
    assert results["skipped"] == {}, results["skipped"]
    cells = results["cells"]
    for scenario in RUNNABLE:
        for target in ("gateway", "naive", "direct"):
            for c in options.concurrency:
                found = [
                    x
                    for x in cells
                    if (x["phase"], x["scenario"], x["target"], x["concurrency"])
                    == ("latency", scenario, target, c)
                ]
                assert len(found) == 1, (scenario, target, c)
        for w in options.workers:
            assert any(
                x["phase"] == "throughput"
                and x["scenario"] == scenario
                and x["target"] == "gateway"
                and x["workers"] == w
                for x in cells
            ), (scenario, w)

    # Sane numbers: requests answered without errors, ordered percentiles, CPU and memory measured.
    for x in cells:
        label = (x["phase"], x["scenario"], x["target"], x["workers"], x["concurrency"])
        assert x["requests"] > 0 and x["errors"] == 0, (label, x["error_samples"])
        assert x["rps"] > 0, label
        assert 0 < x["p50_ms"] <= x["p95_ms"] <= x["p99_ms"] < 30_000, label
        assert x["upstream_calls_per_query"] >= 1, label
        if x["target"] == "direct":
            assert x["gateway_cpu_ms_per_request"] is None
        else:
            assert 0 < x["gateway_cpu_ms_per_request"] < 10_000, label
            assert x["peak_rss_mb_per_worker"] and all(20 < m < 4_000 for m in x["peak_rss_mb_per_worker"])
            assert len(x["peak_rss_mb_per_worker"]) == x["workers"], label

    # The baselines are what they claim: direct answers the gateway's data with the same upstream calls;
    # batching keeps calls per query flat in the rows, naive does not.
    assert results["direct_matches_gateway"] == dict.fromkeys(RUNNABLE, True), results["direct_differences"]
    latency = {
        (x["scenario"], x["target"]): x for x in cells if x["phase"] == "latency" and x["concurrency"] == 1
    }
    for scenario in RUNNABLE:
        assert (
            latency[scenario, "gateway"]["upstream_calls_per_query"]
            == latency[scenario, "direct"]["upstream_calls_per_query"]
        )
    rows = {r["target"]: r for r in results["rows_check"]}
    assert rows["gateway"]["calls_1_row"] == rows["gateway"]["calls_per_100_row_page"] == 3
    assert rows["direct"]["calls_per_100_row_page"] == 3
    assert rows["naive"]["calls_per_100_row_page"] > 100
    assert rows["gateway"]["pages"] == 2
    assert latency["large-client", "naive"]["upstream_calls_per_query"] > 100
    # settlement reads the billing system only (the bank's token is checked against the broker's keys).
    settlement = latency["settlement", "gateway"]["upstream_calls_by_system"]
    assert settlement["billing"] >= 1 and settlement["permits"] == settlement["documents"] == 0

    # The report names every scenario and every target of bench/README.md.
    markdown = (tmp_path / "tiny.md").read_text()
    for scenario in RUNNABLE:
        assert f"| {scenario} | gateway |" in markdown
    assert "gateway CPU per dashboard request" in markdown
    # How fast the machine was, before and after, so that figures of different days can be compared.
    setup = results["setup"]
    assert 0 < setup["cpu_check_before_s"] < 60 and 0 < setup["cpu_check_after_s"] < 60
    assert f"{setup['cpu_check_before_s']} s before" in markdown
    assert results["soak"] is not None and results["soak"]["requests"] > 0
    assert results["soak"]["errors"] == 0  # the scenarios mixed, the bank's included
    assert {t["target"] for t in results["targets"]} >= {
        "gateway CPU per dashboard request under 5 ms",
        "memory per worker flat over a soak (growth under 5%)",
    }
