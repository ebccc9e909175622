"""``gateway users ...``: the staff operations on portal accounts from a shell (terms 5, 10, 12.2, 15.4, 21).

They work on the database and the store the gateway uses (``DATABASE_URL``, ``REDIS_URL``), through the same
``Identity`` service as the staff mutations, and are journalled like them: principal kind "system", principal
the operating-system user who ran the command (terms 23.3).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from adapters.billing.http import HttpBilling
from adapters.errors import UpstreamError
from auth.accounts import Account, Accounts
from auth.identity import LINK_MAIL, REASONS, AccountError, Identity, NewMandate
from auth.policy import SCOPES
from auth.sessions import Sessions
from gateway.audit import AuditJournal
from gateway.cli_audit import record_command
from gateway.db import create_engine, migrate, utcnow
from gateway.mail import create_mailer
from gateway.outbox import Outbox
from gateway.settings import Settings
from gateway.side_effects import password_link
from gateway.store import create_store
from gateway.wiring import sandbox_if_needed, upstream_client

# The names of the staff mutations, so that the journal calls an operation the same wherever it came from.
OPERATIONS = {
    "add": "registerPortalUser",
    "block": "blockUser",
    "unblock": "unblockUser",
    "terminate": "terminateUser",
    "require-password-change": "requirePasswordChange",
}


@asynccontextmanager
async def identity_service(settings: Settings) -> AsyncIterator[tuple[Identity, AuditJournal]]:
    engine = create_engine(settings.database_url)
    await migrate(engine)
    store = create_store(settings.redis_url, settings.redis_prefix)
    sessions = Sessions(store, settings.session_idle_seconds, settings.session_absolute_seconds)
    mailer = create_mailer(settings.smtp_url, Path(settings.outbox_dir))
    outbox = Outbox(engine)
    identity = Identity(Accounts(engine, store), sessions, store, mailer, settings.public_url, outbox)
    outbox.handlers[LINK_MAIL] = password_link(identity)
    try:
        yield identity, AuditJournal(engine)
    finally:
        await store.close()
        await engine.dispose()


def parse_mandate(text: str) -> NewMandate:
    """``CLIENT_ID:SCOPE,SCOPE[:YYYY-MM-DD]``."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("a mandate is CLIENT_ID:SCOPE,SCOPE[:YYYY-MM-DD]")
    scopes = [s.strip().upper() for s in parts[1].split(",") if s.strip()]
    unknown = set(scopes) - SCOPES
    if unknown or not scopes:
        raise argparse.ArgumentTypeError(f"unknown or no scopes: {', '.join(sorted(unknown)) or '(none)'}")
    until = date.fromisoformat(parts[2]) if len(parts) == 3 else None
    return NewMandate(parts[0], scopes, until)


def _details(args: argparse.Namespace) -> dict[str, object]:
    """The command's arguments, as the mutations' inputs would be (the journal redacts the personal code)."""
    skip = ("run", "command", "users_command", "mandate")
    details: dict[str, object] = {k: v for k, v in vars(args).items() if k not in skip and v is not None}
    if getattr(args, "mandate", None):
        details["mandates"] = [
            {"clientId": m.client_id, "scopes": list(m.scopes), "validUntil": m.valid_until}
            for m in args.mandate
        ]
    return details


Recorder = Callable[..., Awaitable[None]]


async def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    async with identity_service(settings) as (identity, journal):
        details = _details(args)

        async def record(outcome: str, **more: object) -> None:
            await record_command(journal, OPERATIONS[args.users_command], outcome, {**details, **more})

        try:
            return await _apply(args, identity, record, settings)
        except AccountError as exc:
            # A refusal is evidence as much as a change (terms 23.3); run() prints the message.
            await record("bad_user_input", error=str(exc))
            raise


async def _register(args: argparse.Namespace, identity: Identity, settings: Settings) -> Account:
    """``users add``, checked against the billing system as the staff mutation is (terms 2.5): the one at
    ``BILLING_URL``, or the sandbox's data where none is set, as the gateway would use."""
    client = upstream_client("billing", settings, sandbox_if_needed(settings))
    try:
        return await identity.register(
            email=args.email,
            full_name=args.name,
            phone=args.phone,
            personal_code=args.personal_code,
            self_client_id=args.self_client,
            mandates=args.mandate or [],
            granted_by=None,
            today=utcnow().date(),
            clients=HttpBilling(client).clients_by_ids,
            role="STAFF" if args.staff else "USER",
        )
    except UpstreamError as exc:
        raise AccountError(
            f"The billing system could not be asked ({exc}); try again when it answers."
        ) from exc
    finally:
        await client.aclose()


async def _apply(args: argparse.Namespace, identity: Identity, record: Recorder, settings: Settings) -> int:
    if args.users_command == "add":
        account = await _register(args, identity, settings)
        await record("ok", userId=account.id)
        # Delivered now if the mail server takes it; otherwise a running gateway's outbox retries it.
        sent = await identity.outbox.deliver_due()
        mailed = "was mailed" if sent else "waits in the outbox (a running gateway delivers it)"
        print(f"registered {account.email} ({account.id}); a first-password link {mailed}")
        return 0
    found = await identity.accounts.by_email(args.email)
    if found is None:
        await record("not_found")
        print(f"no portal user with the e-mail {args.email}", file=sys.stderr)
        return 1
    if args.users_command == "require-password-change":
        await identity.require_password_change(found.id)
        await record("ok", userId=found.id)
        print(f"{found.email} must change the password at the next login")
        return 0
    state = {"block": "BLOCKED", "unblock": "ACTIVE", "terminate": "TERMINATED"}[args.users_command]
    updated = await identity.set_state(found.id, state, getattr(args, "reason", None))
    await record("ok", userId=found.id)
    print(
        f"{updated.email}: {updated.state}" + (f" ({updated.state_reason})" if updated.state_reason else "")
    )
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="staff operations on portal accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="register a portal user; a first-password link is mailed")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True, help="given name and surname")
    add.add_argument("--phone")
    add.add_argument("--personal-code", help="lets the person use the unified login")
    add.add_argument("--self-client", help="billing client id of the person, when the person is a client")
    add.add_argument(
        "--mandate", action="append", type=parse_mandate, help="CLIENT_ID:SCOPE,SCOPE[:YYYY-MM-DD]"
    )
    add.add_argument("--staff", action="store_true", help="a staff account")
    for name, helptext in (("block", "block an account"), ("terminate", "terminate an account for good")):
        command = users_sub.add_parser(name, help=helptext)
        command.add_argument("email")
        command.add_argument("--reason", required=True, choices=REASONS)
    users_sub.add_parser("unblock", help="let a blocked account log in again").add_argument("email")
    users_sub.add_parser(
        "require-password-change", help="the next login may only change the password"
    ).add_argument("email")
    users.set_defaults(run=run)
