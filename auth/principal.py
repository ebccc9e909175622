"""The Principal: who is asking, for which clients, with which scopes. Resolvers ask it, and only it.

``require(client_id, scope)`` is the one authorisation helper every field that reaches client data calls
(``allow`` is the same check for a field that does not need the client's record):

- a client outside the principal's reach (no mandate, an expired or revoked one, someone else's) is
  ``NOT_FOUND``, exactly like a client that does not exist, so nothing can be probed;
- a client within reach but without the scope is ``FORBIDDEN``;
- an anonymous caller is ``UNAUTHENTICATED``; a session whose password must change is
  ``PASSWORD_CHANGE_REQUIRED``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from adapters.billing.records import ClientRecord
from auth.accounts import Account, Mandate
from auth.policy import PolicyFile
from gateway.errors import Forbidden, NotFound, PasswordChangeRequired, Unauthenticated

ClientLookup = Callable[[str], Awaitable[ClientRecord | None]]

SCOPE_WORDS = {
    "PERMITS_READ": "see the permits",
    "BILLING_READ": "see the invoices, payments and balance",
    "PAYMENTS_MAKE": "make payments",
    "DOCUMENTS_READ": "see the documents",
    "APPLICATIONS_SUBMIT": "see or submit applications",
    "REPORTS_GENERATE": "generate reports",
    "CONTACTS_UPDATE": "change the contact data",
    "REPRESENTATIVES_MANAGE": "manage the representatives",
}


@dataclass(frozen=True, slots=True)
class Access:
    """One client the user may act for: itself (SELF) or through a mandate in force (REPRESENTATIVE)."""

    client_id: str
    role: str
    mandate_scopes: frozenset[str] | None  # None for SELF: the policy alone decides
    valid_until: date | None


def accesses_of(account: Account, mandates: Iterable[Mandate], today: date) -> dict[str, Access]:
    """Every client the account reaches today; an account that is not ACTIVE reaches none."""
    if account.state != "ACTIVE":
        return {}
    reach: dict[str, Access] = {}
    for m in mandates:
        if m.in_force(today):
            reach[m.client_id] = Access(m.client_id, "REPRESENTATIVE", m.scopes, m.valid_until)
    if account.self_client_id:
        reach[account.self_client_id] = Access(account.self_client_id, "SELF", None, None)
    return reach


class Principal:
    """The caller of one request. Built once per request by the context; never cached across requests."""

    def __init__(
        self,
        *,
        kind: str,
        account: Account | None = None,
        accesses: dict[str, Access] | None = None,
        policy: PolicyFile | None = None,
        lookup_client: ClientLookup | None = None,
        bank_id: str | None = None,
    ) -> None:
        self.kind = kind  # anonymous | user | staff | bank
        self.account = account
        self.accesses = accesses or {}
        self.policy = policy
        self.lookup_client = lookup_client
        self.bank_id = bank_id

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(kind="anonymous")

    @property
    def is_user(self) -> bool:
        return self.kind in ("user", "staff") and self.account is not None

    def must_change_password(self) -> bool:
        return self.account is not None and self.account.password_change_required(datetime.now(UTC))

    def require_user(self) -> Account:
        """The logged-in account, or ``UNAUTHENTICATED``."""
        if self.account is None or not self.is_user:
            raise Unauthenticated(
                "Log in first: POST /auth/login, or the unified login at /auth/unified/login."
            )
        return self.account

    def require_fresh_password(self) -> Account:
        account = self.require_user()
        if self.must_change_password():
            raise PasswordChangeRequired(
                "Your password has expired or must be changed; change it with changePassword first."
            )
        return account

    async def scopes_on(self, client: ClientRecord) -> frozenset[str]:
        access = self.accesses.get(client.id)
        if access is None or self.policy is None:
            return frozenset()
        return self.policy.current().effective(client.kind, client.billing_arrangement, access.mandate_scopes)

    async def allow(self, client_id: str, scope: str) -> None:
        """Raises as ``require`` does. Reads the client's record only when the decision needs it: when the
        policy makes ``scope`` depend on the client's kind or billing arrangement, or to name the client in a
        refusal. So a field's data can be fetched in the same round trip as the client's record."""
        self.require_fresh_password()
        access = self.accesses.get(client_id)
        if (
            access is not None
            and self.policy is not None
            and scope in self.policy.current().unconditional
            and (access.mandate_scopes is None or scope in access.mandate_scopes)
        ):
            return
        await self.require(client_id, scope)

    async def require(self, client_id: str, scope: str | None = None) -> ClientRecord:
        """The client record when the caller may act for it (with ``scope``, when given); raises otherwise."""
        self.require_fresh_password()
        access = self.accesses.get(client_id)
        if access is None or self.lookup_client is None:
            raise NotFound("No such client within your reach.")
        client = await self.lookup_client(client_id)
        if client is None:
            raise NotFound("No such client within your reach.")
        if scope is not None and scope not in await self.scopes_on(client):
            raise Forbidden(
                f"Your access to {client.name} does not allow you to {SCOPE_WORDS.get(scope, scope)} "
                f"(scope {scope}). Ask whoever manages the client's representatives to grant it."
            )
        return client
