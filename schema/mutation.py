"""The root mutation: the viewer's own account, representatives, and staff operations.

The write side of the portal (applications, payments, reports, contact data) comes with its issue.
"""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers import identity as resolve_identity
from resolvers import representatives as resolve_representatives
from resolvers import staff as resolve_staff
from resolvers.context import Context
from schema.base import raw_id
from schema.clients import Representative
from schema.enums import AccountStateReason, Scope
from schema.viewer import PortalUser, Viewer

Info = strawberry.Info[Context, None]


@strawberry.input(description="A mandate given at registration.")
class MandateInput:
    client_id: strawberry.ID = strawberry.field(description="The client (global id) the user will act for.")
    scopes: list[Scope] = strawberry.field(description="What the user may do for it.")
    valid_until: date | None = strawberry.field(default=None, description="Last day; none for no end.")


@strawberry.input(
    description="A portal user to register after the company checked the application (terms 10)."
)
class RegisterPortalUserInput:
    email: str = strawberry.field(description="E-mail; also the user name.")
    full_name: str = strawberry.field(description="Given name and surname.")
    phone: str | None = strawberry.field(default=None, description="Contact phone.")
    personal_code: str | None = strawberry.field(
        default=None, description="Personal code; lets the person use the unified login."
    )
    self_client_id: strawberry.ID | None = strawberry.field(
        default=None, description="The client (global id) that is this person, when the person is a client."
    )
    mandates: list[MandateInput] = strawberry.field(
        default_factory=list, description="Clients the person will represent."
    )


def _values(scopes: list[Scope]) -> list[str]:
    return [s.value for s in scopes]


@strawberry.type(description="Changes: your own account, representatives, and staff operations.")
class Mutation:
    @strawberry.mutation(
        description="Accept the terms of use in force (terms 4, 30); give its version number."
    )
    async def accept_terms(self, info: Info, version: int) -> Viewer:
        return Viewer(account=await resolve_identity.accept_terms(info.context, version))

    @strawberry.mutation(
        description="Change your password (terms 15.3); your other sessions end. Works when it has expired."
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> Viewer:
        account = await resolve_identity.change_password(info.context, current_password, new_password)
        return Viewer(account=account)

    @strawberry.mutation(
        description="Give a portal user a mandate for a client (REPRESENTATIVES_MANAGE; scopes you hold)."
    )
    async def grant_representative(
        self,
        info: Info,
        client_id: strawberry.ID,
        email: str,
        scopes: list[Scope],
        valid_until: date | None = None,
    ) -> Representative:
        row = await resolve_representatives.grant(
            info.context, raw_id(client_id, "Client"), email, _values(scopes), valid_until
        )
        return Representative.from_row(row)

    @strawberry.mutation(
        description="End a representative's mandate at once (terms 6; needs REPRESENTATIVES_MANAGE)."
    )
    async def revoke_representative(
        self, info: Info, client_id: strawberry.ID, representative_id: strawberry.ID
    ) -> bool:
        return await resolve_representatives.revoke(
            info.context, raw_id(client_id, "Client"), raw_id(representative_id, "Representative")
        )

    @strawberry.mutation(
        description="Staff: register a portal user; a mail lets the person set a first password."
    )
    async def register_portal_user(self, info: Info, input: RegisterPortalUserInput) -> PortalUser:
        account = await resolve_staff.register(
            info.context,
            email=input.email,
            full_name=input.full_name,
            phone=input.phone,
            personal_code=input.personal_code,
            self_client_id=raw_id(input.self_client_id, "Client") if input.self_client_id else None,
            mandates=[
                (raw_id(m.client_id, "Client"), _values(m.scopes), m.valid_until) for m in input.mandates
            ],
        )
        return PortalUser.from_account(account)

    @strawberry.mutation(description="Staff: block an account (terms 5, 12.2); its sessions end at once.")
    async def block_user(self, info: Info, email: str, reason: AccountStateReason) -> PortalUser:
        return PortalUser.from_account(
            await resolve_staff.set_state(info.context, email, "BLOCKED", reason.value)
        )

    @strawberry.mutation(description="Staff: let a blocked account log in again.")
    async def unblock_user(self, info: Info, email: str) -> PortalUser:
        return PortalUser.from_account(await resolve_staff.set_state(info.context, email, "ACTIVE", None))

    @strawberry.mutation(
        description="Staff: end an account for good (terms 5, 21); its sessions end at once."
    )
    async def terminate_user(self, info: Info, email: str, reason: AccountStateReason) -> PortalUser:
        account = await resolve_staff.set_state(info.context, email, "TERMINATED", reason.value)
        return PortalUser.from_account(account)

    @strawberry.mutation(
        description="Staff: make the user change the password at the next login (terms 15.4)."
    )
    async def require_password_change(self, info: Info, email: str) -> PortalUser:
        return PortalUser.from_account(await resolve_staff.require_password_change(info.context, email))
