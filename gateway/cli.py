"""The ``gateway`` command: serve, sandbox, users, audit, schema export, trusted documents."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

import uvicorn

from gateway import cli_audit, cli_maintenance, cli_users
from gateway.metrics import MULTIPROCESS_ENV
from gateway.redaction import mask_pii_in_logs

# Allocations between two collections of the youngest generation in a served worker (Python's default: 700).
SERVE_GC_THRESHOLD = 10_000


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def _tls(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """uvicorn's TLS arguments (terms 35: the gateway can serve TLS itself), or none for plain HTTP behind a
    TLS proxy; a half-given or unreadable pair stops the start with a message."""
    cert, key = args.tls_cert, args.tls_key
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise SystemExit("gateway serve: give both --tls-cert and --tls-key, or neither.")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not os.access(path, os.R_OK) or not os.path.isfile(path):
            raise SystemExit(f"gateway serve: {option} {path} is not a readable file.")
    return cert, key


def _serve(args: argparse.Namespace) -> int:
    cert, key = _tls(args)
    # The workers inherit it and share out the connection budgets (Settings.per_worker).
    os.environ["GATEWAY_WORKERS"] = str(args.workers)
    # A served worker tunes its garbage collector (gateway.app.tune_gc) unless the operator says otherwise.
    os.environ.setdefault("GATEWAY_GC_THRESHOLD", str(SERVE_GC_THRESHOLD))
    if args.workers > 1 and not os.environ.get(MULTIPROCESS_ENV):
        # /metrics adds up every worker's figures from files here (gateway.metrics); a fresh directory per run
        runs = Path(os.environ.get("GATEWAY_VAR_DIR", "var")) / "prometheus"
        for run in runs.glob("*"):  # those of servers that have stopped
            if not (run.name.isdigit() and _alive(int(run.name))):
                shutil.rmtree(run, ignore_errors=True)
        shared = runs / str(os.getpid())
        shared.mkdir(parents=True, exist_ok=True)
        os.environ[MULTIPROCESS_ENV] = str(shared)
    uvicorn.run(
        "gateway.asgi:create",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        proxy_headers=False,
        log_level=args.log_level,
        access_log=False,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox.app import create_sandbox_app
    from sandbox.data import build_dataset

    app = create_sandbox_app(
        build_dataset(clients=args.clients),
        latency_ms=args.latency_ms,
        fail_rate=args.fail_rate,
        gateway_url=args.gateway_url,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def _schema_export(args: argparse.Namespace) -> int:
    from schema.build import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def _trusted_documents(args: argparse.Namespace) -> int:
    from schema.trusted import REGISTRY, build_registry, render

    registry = build_registry()
    text = render(registry)
    if args.check:
        if REGISTRY.read_text(encoding="utf-8") != text:
            print(f"{REGISTRY} is stale: run `gateway trusted-documents`", file=sys.stderr)
            return 1
        return 0
    REGISTRY.write_text(text, encoding="utf-8")
    print(f"wrote {REGISTRY} ({len(registry)} documents)")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gateway", description="The radioatlaujas.lv GraphQL gateway.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain) file")
    serve.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    serve.set_defaults(run=_serve)

    sandbox = sub.add_parser("sandbox", help="serve the sandbox company systems alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8100)
    sandbox.add_argument("--latency-ms", type=int, default=0)
    sandbox.add_argument("--fail-rate", type=float, default=0.0)
    sandbox.add_argument("--clients", type=int, default=0, help="generated clients besides the personas")
    sandbox.add_argument(
        "--gateway-url", help="where the sandbox bank's entry forms post (the gateway's root)"
    )
    sandbox.add_argument("--log-level", default="warning")
    sandbox.set_defaults(run=_sandbox)

    cli_users.add_parser(sub)
    cli_audit.add_parser(sub)
    cli_maintenance.add_parser(sub)

    trusted = sub.add_parser(
        "trusted-documents", help="regenerate schema/trusted-documents.json from schema/trusted/*.graphql"
    )
    trusted.add_argument("--check", action="store_true", help="exit 1 when the committed list is stale")
    trusted.set_defaults(run=_trusted_documents)

    schema = sub.add_parser("schema", help="schema tools")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_sub.add_parser("export", help="print the SDL")
    export.set_defaults(run=_schema_export)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    mask_pii_in_logs()
    # One line per upstream call is noise at INFO; failures reach the log through the gateway's own errors.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
