"""Account life cycle: passwords (terms 11, 13, 15), states (5, 12.2, 21), registration (10).

One service used by the HTTP endpoints, the staff mutations and the ``gateway users`` command alike, so that
every path applies the same rules and ends sessions the same way.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from adapters.billing.records import ClientRecord
from auth.accounts import Account, Accounts
from auth.passwords import hash_password, password_problems, verify_password
from auth.sessions import Sessions
from auth.tokens import OneTimeTokens
from gateway.mail import Mailer, message
from gateway.outbox import Outbox
from gateway.store import Store

RESET_TTL = 30 * 60
# The outbox's kind for a mail with a password link (delivered by ``Identity.send_password_link``).
LINK_MAIL = "password_link"
FIRST_PASSWORD_TTL = 72 * 3600
STATES = ("ACTIVE", "LOCKED", "BLOCKED", "TERMINATED")
REASONS = ("USER_REQUEST", "NO_LEGAL_BASIS", "SUSPECTED_MISUSE", "TERMS_VIOLATION")


class InvalidToken(Exception):
    """The link's token is unknown, used or expired."""


class WeakPassword(Exception):
    """The password breaks the rules; ``reasons`` lists every rule it breaks."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class AccountError(Exception):
    """A staff operation that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class NewMandate:
    client_id: str
    scopes: Sequence[str]
    valid_until: date | None


# Client records by id from the billing system (those it knows), for the registration's checks.
ClientsLookup = Callable[[Sequence[str]], Awaitable[Mapping[str, ClientRecord]]]


async def check_clients(
    clients: ClientsLookup,
    personal_code: str | None,
    self_client_id: str | None,
    mandate_client_ids: Sequence[str],
) -> None:
    """Terms 2.5 against the billing system's records: a user's own client is a natural person with the
    user's personal code (a legal person never logs in itself: its representatives hold mandates), and every
    mandate names a client that exists. ``AccountError`` says what is wrong."""
    ids = [*([self_client_id] if self_client_id else []), *mandate_client_ids]
    records = await clients(ids) if ids else {}
    for client_id in mandate_client_ids:
        if client_id not in records:
            raise AccountError(f"A mandate names client {client_id}, which the billing system does not know.")
    if self_client_id is None:
        return
    own = records.get(self_client_id)
    if own is None:
        raise AccountError(f"`selfClientId` {self_client_id} is not a client the billing system knows.")
    if own.kind != "NATURAL_PERSON":
        raise AccountError(
            f"{own.name} is a legal person, which never logs in itself (terms 2.5): register the people who "
            "act for it with mandates instead of `selfClientId`."
        )
    if personal_code is None or personal_code.replace("-", "") != own.code.replace("-", ""):
        raise AccountError(
            "`personalCode` must be the personal code of the client `selfClientId` names (terms 2.5)."
        )


class Identity:
    def __init__(
        self,
        accounts: Accounts,
        sessions: Sessions,
        store: Store,
        mailer: Mailer,
        public_url: str,
        outbox: Outbox,
    ) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.mailer = mailer
        self.outbox = outbox
        self.public_url = public_url.rstrip("/")
        self.reset_tokens = OneTimeTokens(store, "password")

    def _link(self, token: str) -> str:
        return f"{self.public_url}/auth/password/reset?token={token}"

    @staticmethod
    def check_password(account: Account, password: str) -> None:
        problems = password_problems(password, personal=(account.email, account.full_name))
        if problems:
            raise WeakPassword(problems)

    async def _set_password(
        self, account: Account, password: str, *, keep_session: str | None = None
    ) -> None:
        self.check_password(account, password)
        await self.accounts.set_password(account.id, await asyncio.to_thread(hash_password, password))
        await self.sessions.end_all(account.id, keep=keep_session)

    async def forgot_password(self, email: str) -> None:
        """Mail a one-time link to an active account; nothing at all for any other e-mail (terms 13)."""
        account = await self.accounts.by_email(email)
        if account is None or account.state != "ACTIVE":
            return
        await self._queue_password_link(account.id, "reset")

    async def _queue_password_link(self, user_id: str, purpose: str) -> None:
        """The mail goes through the outbox, so a mail server that is away delays it and loses nothing; the
        row holds only whom and why, never a token (``send_password_link`` makes one when it delivers)."""
        key = f"{LINK_MAIL}:{purpose}:{uuid.uuid4()}"
        await self.outbox.enqueue(LINK_MAIL, {"user_id": user_id, "purpose": purpose}, key)

    async def send_password_link(self, user_id: str, purpose: str) -> None:
        """The outbox's delivery of a password link ("reset": 30 minutes; "first", after registration: 72
        hours). A fresh token for each try; an account no longer active by then gets nothing."""
        account = await self.accounts.by_id(user_id)
        if account is None or account.state != "ACTIVE":
            return
        if purpose == "reset":
            token = await self.reset_tokens.issue(account.id, RESET_TTL)
            subject = "radioatlaujas.lv: set a new password"
            body = (
                f"Labdien, {account.full_name}!\n\n"
                "Someone (we hope you) asked to set a new password for the radioatlaujas.lv client portal.\n"
                f"Open this link within 30 minutes; it works once:\n\n{self._link(token)}\n\n"
                "If it was not you, ignore this mail: your password stays as it is.\n"
            )
        elif purpose == "first":
            token = await self.reset_tokens.issue(account.id, FIRST_PASSWORD_TTL)
            subject = "radioatlaujas.lv: your portal account"
            body = (
                f"Labdien, {account.full_name}!\n\nYour account for the radioatlaujas.lv client portal is "
                f"open; your user name is {account.email}.\n"
                "Set your password within 72 hours with this link (it works once):\n\n"
                f"{self._link(token)}\n"
            )
        else:
            raise ValueError(f"no password link for {purpose!r}")
        await self.mailer.send(message(account.email, subject, body))

    async def reset_password(self, token: str, new_password: str) -> None:
        """Apply the rules, then spend the token, set the password and end every session (terms 13)."""
        user_id = await self.reset_tokens.peek(token)
        account = await self.accounts.by_id(user_id) if user_id else None
        if account is None or account.state in ("BLOCKED", "TERMINATED"):
            raise InvalidToken
        self.check_password(account, new_password)
        if await self.reset_tokens.take(token) != account.id:
            raise InvalidToken
        await self._set_password(account, new_password)

    async def change_password(self, account: Account, current: str, new: str, session_id: str | None) -> None:
        """Terms 15.3-15.4: needs the current password; every other session of the user ends."""
        fresh = await self.accounts.by_id(account.id)
        if fresh is None or not await verify_password(fresh.password_hash, current):
            raise WeakPassword(["the current password is not right"])
        if current == new:
            raise WeakPassword(["different from the current password"])
        await self._set_password(fresh, new, keep_session=session_id)

    async def register(
        self,
        *,
        email: str,
        full_name: str,
        phone: str | None,
        personal_code: str | None,
        self_client_id: str | None,
        mandates: Sequence[NewMandate],
        granted_by: str | None,
        today: date,
        clients: ClientsLookup,
        role: str = "USER",
    ) -> Account:
        """Terms 10: after staff checked the application, the account exists and the user sets a password.
        ``clients`` reads client records from the billing system, for the checks of terms 2.5."""
        await check_clients(clients, personal_code, self_client_id, [m.client_id for m in mandates])
        if await self.accounts.by_email(email) is not None:
            raise AccountError("A portal user with this e-mail exists already.")
        if personal_code and await self.accounts.by_personal_code(personal_code) is not None:
            raise AccountError("A portal user with this personal code exists already.")
        user_id = await self.accounts.create_user(
            email=email,
            full_name=full_name,
            phone=phone,
            personal_code=personal_code,
            self_client_id=self_client_id,
        )
        for m in mandates:
            await self.accounts.add_mandate(
                user_id=user_id,
                client_id=m.client_id,
                scopes=m.scopes,
                valid_from=today,
                valid_until=m.valid_until,
                granted_by=granted_by,
            )
        account = await self.accounts.by_id(user_id)
        assert account is not None
        await self._queue_password_link(user_id, "first")
        return account

    async def set_state(self, user_id: str, state: str, reason: str | None) -> Account:
        """Block, unblock or terminate (terms 5, 12.2, 21); leaving ACTIVE ends every session at once."""
        if state not in ("ACTIVE", "BLOCKED", "TERMINATED"):
            raise AccountError(f"Staff can set ACTIVE, BLOCKED or TERMINATED, not {state}.")
        if state != "ACTIVE" and reason not in REASONS:
            raise AccountError(f"Give a reason: one of {', '.join(REASONS)}.")
        account = await self.accounts.by_id(user_id)
        if account is None:
            raise AccountError("No such portal user.")
        if account.state == "TERMINATED" and state != "TERMINATED":
            raise AccountError("A terminated account stays terminated; register the person again if need be.")
        await self.accounts.set_state(user_id, state, None if state == "ACTIVE" else reason)
        if state != "ACTIVE":
            await self.sessions.end_all(user_id)
        updated = await self.accounts.by_id(user_id)
        assert updated is not None
        return updated

    async def require_password_change(self, user_id: str) -> Account:
        """Terms 15.4: the next session may only change the password."""
        if not await self.accounts.require_password_change(user_id):
            raise AccountError("No such portal user.")
        account = await self.accounts.by_id(user_id)
        assert account is not None
        return account
