"""``gateway maintenance on|off|status``: maintenance mode for every instance, from a shell (terms 24, 27,
33).

It writes the switch to the store the instances share (``REDIS_URL``); each instance sees it within a second.
Switching is recorded in the audit journal (terms 23.3), with who ran the command.
"""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli_audit import journal, record_command
from gateway.maintenance import MaintenanceMode
from gateway.settings import Settings
from gateway.store import create_store


def _minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = 0.0
    if not 0 < minutes <= 7 * 24 * 60:
        raise argparse.ArgumentTypeError("minutes from above 0 to a week (10080)")
    return minutes


async def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    store = create_store(settings.redis_url, settings.redis_prefix)
    mode = MaintenanceMode(store)
    if settings.redis_url is None:
        print("note: REDIS_URL is not set, so this reaches no running instance; set it to theirs")
    try:
        if args.maintenance_command == "status":
            await mode.refresh()
            window = mode.current()
            if window is None:
                print("off")
            else:
                until = f" until {window.until.isoformat()}" if window.until else ""
                print(f"on since {window.since.isoformat()}{until}: {window.message}")
            return 0
        details: dict[str, object] = {}
        if args.maintenance_command == "on":
            window = await mode.switch_on(args.message, args.minutes)
            details = {"message": window.message, "minutes": args.minutes}
        else:
            await mode.switch_off()
        async with journal() as evidence:
            operation = f"maintenance{args.maintenance_command.capitalize()}"
            await record_command(evidence, operation, "ok", details)
        print(f"maintenance {args.maintenance_command}")
        return 0
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    maintenance = sub.add_parser("maintenance", help="maintenance mode for every instance")
    maintenance_sub = maintenance.add_subparsers(dest="maintenance_command", required=True)
    on = maintenance_sub.add_parser("on", help="every instance answers 503 MAINTENANCE within a second")
    on.add_argument("--message", help="what users are told (default: closed for maintenance, try later)")
    on.add_argument("--minutes", type=_minutes, help="it ends by itself after this long")
    maintenance_sub.add_parser("off", help="every instance serves again within a second")
    maintenance_sub.add_parser("status", help="print whether maintenance is on, since when, until when")
    maintenance.set_defaults(run=run)
