"""``gateway audit verify`` and ``gateway audit export``: the audit journal from a shell (terms 23.3).

They read the database the gateway uses (``DATABASE_URL``). ``verify`` exits 0 with "N records, chain
intact", or 1 naming the first broken record, so that it can run from cron or CI and page someone.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from gateway.audit import AuditJournal, parse_since
from gateway.db import create_engine, migrate
from gateway.settings import Settings


def _operator() -> str:
    """Who ran the command, as the operating system knows them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for the uid (containers)
        return "cli:unknown"


async def record_command(
    journal: AuditJournal, operation: str, outcome: str, details: dict[str, object]
) -> None:
    """A command run from a shell, as evidence (terms 23.3): principal kind "system", principal who ran it."""
    await journal.record(
        principal_kind="system",
        principal=_operator(),
        user_agent="gateway-cli",
        operation=operation,
        outcome=outcome,
        request_id=uuid.uuid4().hex,
        details=details,
    )


@asynccontextmanager
async def journal() -> AsyncIterator[AuditJournal]:
    settings = Settings.from_env()
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        yield AuditJournal(engine)
    finally:
        await engine.dispose()


async def _verify() -> int:
    async with journal() as j:
        result = await j.verify()
    if result.ok:
        print(f"{result.checked} records, chain intact")
        return 0
    print(
        f"chain broken at record seq {result.first_bad_seq}: {result.reason} "
        f"({result.checked} records before it are intact)",
        file=sys.stderr,
    )
    return 1


async def _export(since: datetime | None) -> int:
    async with journal() as j:
        async for chunk in j.export_csv(since=since):
            sys.stdout.write(chunk)
    sys.stdout.flush()
    return 0


def _since(text: str) -> datetime:
    try:
        since = parse_since(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a date (2026-01-31) or an ISO 8601 time") from None
    assert since is not None
    return since


def run(args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return asyncio.run(_verify())
    return asyncio.run(_export(args.since))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit journal: verify its hash chain, export it")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain; exit 1 and the first broken record if altered")
    export = audit_sub.add_parser("export", help="write the journal as CSV to standard output")
    export.add_argument("--since", type=_since, help="only records from this date or time (UTC) on")
    audit.set_defaults(run=run)
