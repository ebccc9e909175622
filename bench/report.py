"""The report: the machine, the targets met or not, the Markdown tables, the JSON and the PNG chart."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "httpx",
    "orjson",
    "aiodataloader",
    "sqlalchemy",
    "aiosqlite",
    "redis",
    "psutil",
    "matplotlib",
    "tqdm",
)
TARGET_ORDER = ("gateway", "naive", "direct")


def cpu_check_seconds() -> float:
    """CPU seconds this process takes for ``sum(range(10**7))``: how fast the machine is right now.

    The same code's figures drift with a shared machine's speed (by a factor of two from one day to the
    next); this check, taken before and after a run, says how fast the machine was while they were measured
    (about 0.2 to 0.3 s on an idle machine of this kind; CI prints the same check).
    """
    started = time.process_time()
    sum(range(10**7))
    return round(time.process_time() - started, 3)


def machine_info() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit: str | None = None
    with contextlib.suppress(OSError):
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            or None
        )
    return {
        "cpu_model": model,
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "commit": commit,
    }


def _cells(results: dict[str, Any], **where: Any) -> list[dict[str, Any]]:
    return [c for c in results["cells"] if all(c.get(k) == v for k, v in where.items())]


def _one(results: dict[str, Any], **where: Any) -> dict[str, Any] | None:
    found = _cells(results, **where)
    return found[0] if found else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of bench/README.md with the measured figure and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []
    scenarios = sorted({c["scenario"] for c in results["cells"]})
    low = min((c["concurrency"] for c in results["cells"]), default=1)
    high = max((c["concurrency"] for c in results["cells"]), default=1)
    base_workers = min((c["workers"] for c in results["cells"] if c["workers"]), default=1)

    for check in results.get("rows_check", []):
        if check["target"] == "gateway":
            same = check["calls_1_row"] == check["calls_per_100_row_page"]
            out.append(
                {
                    "target": "upstream calls per query the same for 1 row and 100-row pages (1,000 rows)",
                    "figure": f"{check['calls_1_row']} calls at 1 row, "
                    f"{check['calls_per_100_row_page']:g} per 100-row page "
                    f"({check['calls_all_rows']} for all {check['rows']} rows)",
                    "met": same,
                }
            )
    for s in scenarios:
        g = _one(results, phase="latency", scenario=s, target="gateway", concurrency=low)
        d = _one(results, phase="latency", scenario=s, target="direct", concurrency=low)
        if g and d:
            same = g["upstream_calls_per_query"] == d["upstream_calls_per_query"]
            out.append(
                {
                    "target": f"{s}: upstream calls per query equal to direct",
                    "figure": f"{_fmt(g['upstream_calls_per_query'], 2)} against "
                    f"{_fmt(d['upstream_calls_per_query'], 2)}",
                    "met": same,
                }
            )
            r = _ratio(g["p50_ms"], d["p50_ms"])
            out.append(
                {
                    "target": f"{s}: p50 at concurrency {low}, upstream latency "
                    f"{g['upstream_latency_ms']} ms, within 10% of direct",
                    "figure": f"{_fmt(g['p50_ms'])} ms against {_fmt(d['p50_ms'])} ms (x{_fmt(r, 2)})",
                    "met": None if r is None else r <= 1.10,
                }
            )
        gt = _one(
            results, phase="throughput", scenario=s, target="gateway", workers=base_workers, concurrency=high
        )
        dt = _one(results, phase="throughput", scenario=s, target="direct", concurrency=high)
        nt = _one(results, phase="throughput", scenario=s, target="naive", concurrency=high)
        # One row per worker count measured: one worker is the gateway's cost per core, one per core is how
        # it is deployed on the machine (``direct`` is one process, but it and the sandbox fill both cores).
        for workers in sorted({c["workers"] for c in results["cells"] if c["workers"]}):
            gw = _one(
                results, phase="throughput", scenario=s, target="gateway", workers=workers, concurrency=high
            )
            if gw and dt:
                r = _ratio(gw["rps"], dt["rps"])
                out.append(
                    {
                        "target": f"{s}: throughput with fast upstreams at least half of direct's "
                        f"({workers} worker{'s' if workers > 1 else ''}, concurrency {high})",
                        "figure": f"{gw['rps']:.0f} req/s against {dt['rps']:.0f} (x{_fmt(r, 2)})",
                        "met": None if r is None else r >= 0.5,
                    }
                )
        if gt and nt and s == "large-client":
            r = _ratio(gt["rps"], nt["rps"])
            out.append(
                {
                    "target": f"{s}: throughput at least 10x naive's",
                    "figure": f"{gt['rps']:.0f} req/s against {nt['rps']:.1f} (x{_fmt(r, 1)})",
                    "met": None if r is None else r >= 10,
                }
            )
    dash = _one(results, phase="throughput", scenario="dashboard", target="gateway", workers=base_workers)
    if dash and dash["gateway_cpu_ms_per_request"] is not None:
        out.append(
            {
                "target": "gateway CPU per dashboard request under 5 ms",
                "figure": f"{dash['gateway_cpu_ms_per_request']:.2f} ms (fast upstreams, concurrency "
                f"{dash['concurrency']})",
                "met": dash["gateway_cpu_ms_per_request"] < 5,
            }
        )
    soak = results.get("soak")
    if soak:
        out.append(
            {
                "target": "memory per worker flat over a soak (growth under 5%)",
                "figure": f"{soak['rss_start_mb']} MB → {soak['rss_end_mb']} MB over {soak['seconds']} s, "
                f"{soak['requests']} requests ({soak['growth_pct']}%)",
                "met": soak["growth_pct"] is not None and soak["growth_pct"] < 5,
            }
        )
    return out


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer() and digits <= 1:
        return str(int(value))
    return f"{value:.{digits}f}"


def _met(value: bool | None) -> str:
    return "not measured" if value is None else ("**met**" if value else "**not met**")


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    o = results["options"]
    lines = [
        f"# Benchmark: {results['name']} ({results['started_at']}, {results['wall_seconds']} s)",
        "",
        f"Machine: {m['cpu_model']}, {m['logical_cores']} logical cores, {m['memory_gb']} GB, "
        f"Python {m['python']}, {m['platform']}, commit {m['commit']}.",
        f"Setup: sandbox with {results['setup']['sandbox_clients']} generated clients in its own process; "
        f"gateway store {results['setup']['store']}, database {results['setup']['database']}; "
        f"{o['duration']} s per cell after {o['warmup']} s warm-up; "
        f"load driver: {results['setup']['load_driver']}. Load average (1, 5, 15 min) "
        f"{results['setup'].get('load_average_before')} before, "
        f"{results['setup'].get('load_average_after')} after; CPU check (``sum(range(10**7))``, about "
        f"0.2 to 0.3 s on an idle machine) {results['setup'].get('cpu_check_before_s')} s before, "
        f"{results['setup'].get('cpu_check_after_s')} s after; "
        "the last column of each table is the CPU that processes outside the benchmark took during the cell "
        "(other test runs on a shared machine), in % of all cores.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['figure']} | {_met(t['met'])} |" for t in results["targets"]]
    latency = [c for c in results["cells"] if c["phase"] == "latency"]
    if latency:
        lat = latency[0]["upstream_latency_ms"]
        lines += [
            "",
            f"## Latency: upstream latency {lat} ms per call, "
            f"gateway with {latency[0]['workers'] or 1} worker",
            "",
            "| scenario | target | conc. | req/s | p50 ms | p95 ms | p99 ms | errors | upstream calls/query "
            "| gateway CPU ms/req | peak RSS MB/worker | other load % |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        lines += [_row(c) for c in _sorted(latency)]
    throughput = [c for c in results["cells"] if c["phase"] == "throughput"]
    if throughput:
        lines += [
            "",
            f"## Throughput: fast upstreams (0 ms), concurrency {throughput[0]['concurrency']}",
            "",
            "| scenario | target | workers | req/s | p50 ms | p95 ms | p99 ms | errors "
            "| upstream calls/query | gateway CPU ms/req | peak RSS MB/worker "
            "| driver CPU ms/req | sandbox CPU ms/req | database CPU ms/req | other load % |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        lines += [_row(c, throughput=True) for c in _sorted(throughput)]
    if results.get("rows_check"):
        lines += [
            "",
            "## Upstream calls against rows (large-client document)",
            "",
            "| target | 1 row (client with 1 permit) | per 100-row page | all rows of K300001 |",
            "|---|--:|--:|--:|",
        ]
        lines += [
            f"| {r['target']} | {r['calls_1_row']} | {r['calls_per_100_row_page']:g} | "
            f"{r['calls_all_rows']} for {r['rows']} rows |"
            for r in results["rows_check"]
        ]
    soak = results.get("soak")
    if soak:
        lines += [
            "",
            f"## Soak: {soak['seconds']} s, scenarios mixed, "
            f"concurrency {soak['concurrency']}, fast upstreams",
            "",
            f"{soak['requests']} requests ({soak['rps']} req/s, {soak['errors']} errors); peak worker RSS "
            f"{soak['rss_start_mb']} MB in the first fifth, {soak['rss_end_mb']} MB in the last fifth "
            f"({soak['growth_mb']:+} MB, {soak['growth_pct']}%).",
        ]
    extra = []
    for name, why in results.get("skipped", {}).items():
        extra.append(f"- `{name}`: {why}")
    for name, same in results.get("direct_matches_gateway", {}).items():
        extra.append(
            f"- `{name}`: the direct baseline's `data` "
            + (
                "equals the gateway's (download links compared without expiry and signature)"
                if same
                else f"differs from the gateway's: {results['direct_differences'].get(name)}"
            )
        )
    extra += [f"- {n}" for n in results.get("notes", []) if "differs" not in n and "skipped" not in n]
    if extra:
        lines += ["", "## Notes", "", *extra]
    return "\n".join(lines) + "\n"


def _sorted(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {"dashboard": 0, "permit-detail": 1, "settlement": 2, "large-client": 3}
    return sorted(
        cells,
        key=lambda c: (
            order.get(c["scenario"], 9),
            c["concurrency"],
            TARGET_ORDER.index(c["target"]),
            c["workers"] or 0,
        ),
    )


def _row(c: dict[str, Any], throughput: bool = False) -> str:
    rss = "/".join(f"{v:.0f}" for v in c["peak_rss_mb_per_worker"]) or "–"
    cpu = _fmt(c["gateway_cpu_ms_per_request"], 2)
    head = [c["scenario"], c["target"]]
    head.append(str(c["workers"] or "–") if throughput else str(c["concurrency"]))
    cols = [
        f"{c['rps']:.1f}",
        _fmt(c["p50_ms"]),
        _fmt(c["p95_ms"]),
        _fmt(c["p99_ms"]),
        f"{c['errors']}/{c['requests']}" if c["errors"] else "0",
        _fmt(c["upstream_calls_per_query"], 2),
        cpu,
        rss,
    ]
    if throughput:
        cols += [
            _fmt(c["driver_cpu_ms_per_request"], 2),
            _fmt(c["sandbox_cpu_ms_per_request"], 2),
            _fmt(c.get("database_cpu_ms_per_request"), 2),
        ]
    cols.append(_fmt(c.get("other_cpu_pct"), 0))
    return "| " + " | ".join(head + cols) + " |"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [
        s
        for s in ("dashboard", "permit-detail", "settlement", "large-client")
        if any(c["scenario"] == s for c in results["cells"])
    ]
    if not scenarios:
        return
    rows = 3 if results.get("soak") else 2
    fig, axes = plt.subplots(rows, len(scenarios), figsize=(5 * len(scenarios), 4 * rows), squeeze=False)
    colours = {"gateway": "tab:blue", "naive": "tab:red", "direct": "tab:green"}
    for i, s in enumerate(scenarios):
        ax = axes[0][i]
        for target in TARGET_ORDER:
            cells = sorted(
                _cells(results, phase="latency", scenario=s, target=target), key=lambda c: c["concurrency"]
            )
            if not cells:
                continue
            xs = [c["concurrency"] for c in cells]
            ax.plot(xs, [c["p50_ms"] for c in cells], "o-", color=colours[target], label=f"{target} p50")
            ax.plot(
                xs,
                [c["p95_ms"] for c in cells],
                "x--",
                color=colours[target],
                alpha=0.6,
                label=f"{target} p95",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        lat = next((c["upstream_latency_ms"] for c in results["cells"] if c["phase"] == "latency"), 0)
        ax.set_title(f"{s}: latency ({lat} ms upstreams)")
        ax.set_xlabel("concurrency")
        ax.set_ylabel("ms")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)

        ax = axes[1][i]
        gw = sorted(
            _cells(results, phase="throughput", scenario=s, target="gateway"), key=lambda c: c["workers"]
        )
        if gw:
            ax.plot(
                [c["workers"] for c in gw],
                [c["rps"] for c in gw],
                "o-",
                color=colours["gateway"],
                label="gateway",
            )
        for target in ("direct", "naive"):
            ref = _one(results, phase="throughput", scenario=s, target=target)
            if ref:
                ax.axhline(
                    ref["rps"], color=colours[target], linestyle="--", label=f"{target} ({ref['rps']:.0f})"
                )
        ax.set_title(f"{s}: throughput (fast upstreams)")
        ax.set_xlabel("gateway workers")
        ax.set_ylabel("req/s")
        ax.set_xticks(sorted({c["workers"] for c in gw}) or [1])
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    if rows == 3:
        soak = results["soak"]
        ax = axes[2][0]
        ax.plot([t for t, _ in soak["series"]], [v for _, v in soak["series"]], "-", color="tab:purple")
        ax.set_title("soak: peak worker RSS")
        ax.set_xlabel("s")
        ax.set_ylabel("MB")
        ax.grid(True, alpha=0.3)
        for j in range(1, len(scenarios)):
            axes[2][j].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(results: dict[str, Any], directory: Path, name: str) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {ext: directory / f"{name}.{ext}" for ext in ("json", "md", "png")}
    paths["json"].write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    paths["md"].write_text(markdown(results))
    chart(results, paths["png"])
    return paths
