"""The logged-in viewer, its portal user, and the terms of use."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from auth.accounts import Account
from auth.terms import TERMS_URL, TERMS_VERSIONS, current_terms
from resolvers import clients as resolve_clients
from resolvers import viewer as resolve
from resolvers.context import Context
from schema.base import Node, to_global_id
from schema.clients import ClientAccess, prefetch_clients
from schema.enums import AccountState, AccountStateReason

Info = strawberry.Info[Context, None]


@strawberry.type(
    description="A portal user (terms 2.5): a natural person, acting for itself or as a representative."
)
class PortalUser(Node):
    email: str = strawberry.field(description="E-mail, which is also the user name (terms 2.6).")
    full_name: str = strawberry.field(description="Given name and surname.")
    phone: str | None = strawberry.field(description="Contact phone.")
    last_login_at: datetime | None = strawberry.field(description="When the user last logged in.")
    account: strawberry.Private[Account]

    @strawberry.field(description="State of the account; LOCKED while too many failed logins keep it shut.")
    async def state(self, info: Info) -> AccountState:
        return AccountState(await resolve.account_state(info.context, self.account))

    @strawberry.field(description="Why the account is blocked or terminated.")
    def state_reason(self) -> AccountStateReason | None:
        return AccountStateReason(self.account.state_reason) if self.account.state_reason else None

    @strawberry.field(description="Personal code; masked unless you are this user.")
    def personal_code(self, info: Info) -> str | None:
        viewer = info.context.principal.account
        if viewer is not None and viewer.id == self.account.id:
            return self.account.personal_code
        return resolve_clients.mask_personal_code(self.account.personal_code)

    @classmethod
    def from_account(cls, a: Account) -> PortalUser:
        return cls(
            id=to_global_id("PortalUser", a.id),
            email=a.email,
            full_name=a.full_name,
            phone=a.phone,
            last_login_at=a.last_login_at,
            account=a,
        )


@strawberry.type(description="You: the logged-in portal user and every client you may act for.")
class Viewer:
    account: strawberry.Private[Account]

    @strawberry.field(description="Your portal user.")
    def user(self) -> PortalUser:
        return PortalUser.from_account(self.account)

    @strawberry.field(description="Every client you may act for now, with your role and scopes.")
    async def clients(self, info: Info) -> list[ClientAccess]:
        prefetch_clients(info, info.context.principal.accesses, path=("client",))
        return [ClientAccess.from_row(r) for r in await resolve_clients.accessible_clients(info.context)]

    @strawberry.field(
        description="True when you must change your password before anything else (terms 15.3)."
    )
    def must_change_password(self, info: Info) -> bool:
        return info.context.principal.must_change_password()

    @strawberry.field(description="When your password expires (90 days after it was set, terms 15.3).")
    def password_expires_at(self) -> datetime | None:
        return self.account.password_expires_at

    @strawberry.field(description="True when you have accepted the current version of the terms of use.")
    async def terms_accepted(self, info: Info) -> bool:
        return await resolve.terms_accepted(info.context, self.account)


@strawberry.type(description="A version of the terms of use.")
class TermsVersion:
    version: int = strawberry.field(description="Version number.")
    approved_on: date = strawberry.field(description="Date of approval.")


@strawberry.type(description="The portal's terms of use: the current version and its history.")
class TermsOfUse:
    version: int = strawberry.field(description="Current version.")
    approved_on: date = strawberry.field(description="When the current version was approved.")
    title: str = strawberry.field(description="Title of the current version.")
    url: str | None = strawberry.field(description="Where to read the full text.")
    history: list[TermsVersion] = strawberry.field(description="Every version, oldest first.")

    @classmethod
    def current(cls) -> TermsOfUse:
        latest = current_terms()
        return cls(
            version=latest.version,
            approved_on=latest.approved_on,
            title=latest.title,
            url=TERMS_URL,
            history=[TermsVersion(version=v.version, approved_on=v.approved_on) for v in TERMS_VERSIONS],
        )
