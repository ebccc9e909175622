"""``python -m bench``: the gateway's benchmark harness (see bench/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.run import RESULTS_DIR, Options, run_benchmark
from bench.scenarios import ALL_SCENARIOS


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("every value must be 1 or more")
    return values


def _names(text: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [n for n in names if n not in ALL_SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {unknown}; known: {', '.join(ALL_SCENARIOS)}")
    return names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a short run to check it works (about 2 minutes)")
    p.add_argument("--duration", type=float, help="measured seconds per cell (default 8, --quick 2)")
    p.add_argument(
        "--warmup", type=float, help="unmeasured seconds before each cell (default 1.5, --quick 0.5)"
    )
    p.add_argument(
        "--requests", type=int, help="at most this many measured requests per cell (default 100000)"
    )
    p.add_argument("--concurrency", type=_ints, help="concurrent callers (default 1,8,32; --quick 1,8)")
    p.add_argument(
        "--workers", type=_ints, help="gateway worker counts for the throughput phase (default 1,2)"
    )
    p.add_argument("--latency-ms", type=int, help="upstream latency of the latency phase (default 20)")
    p.add_argument(
        "--scenarios", type=_names, help=f"comma-separated, of {', '.join(ALL_SCENARIOS)} (default all)"
    )
    p.add_argument(
        "--soak", type=float, metavar="SECONDS", help="memory soak length (default 300, --quick 0 = off)"
    )
    p.add_argument("--clients", type=int, help="generated sandbox clients (default 200; at least 1)")
    p.add_argument("--output", type=Path, help=f"where the results go (default {RESULTS_DIR})")
    p.add_argument(
        "--name", help="file name of the results, without extension (default latest, --quick quick)"
    )
    p.add_argument("--timeout", type=float, help="seconds before a request counts as failed (default 20)")
    p.add_argument("--pages", type=int, help="large-client: walk only the first N pages of 100 (default all)")
    p.add_argument(
        "--database-url",
        help="the gateway's database: a scratch PostgreSQL database, emptied of the gateway's tables first "
        "(default: a new SQLite file)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def options_from(args: argparse.Namespace) -> Options:
    o = Options.quick_defaults() if args.quick else Options()
    for name in (
        "duration",
        "warmup",
        "requests",
        "concurrency",
        "workers",
        "scenarios",
        "soak",
        "clients",
        "output",
        "name",
        "timeout",
        "pages",
        "database_url",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(o, name, value)
    if args.latency_ms is not None:
        o.latency_ms = args.latency_ms
    o.progress = not args.no_progress
    if o.clients < 1 and "large-client" in o.scenarios:
        raise SystemExit(
            "--clients must be at least 1 for large-client (the first generated client is K300001)"
        )
    return o


def main(argv: list[str] | None = None) -> int:
    options = options_from(parser().parse_args(argv))
    results = run_benchmark(options)
    from bench.report import markdown

    sys.stdout.write("\n" + markdown(results))
    out = options.output
    written = ", ".join(str(out / f"{options.name}.{ext}") for ext in ("json", "md", "png"))
    print(f"\nwritten: {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
