"""Partner-bank entry (terms 14, 23.2): a user arrives from a bank's site with a signed assertion.

``POST /auth/bank/entry`` with the form field ``assertion``: a JWT signed by a registered bank (its JWKS),
audience the gateway, issued at most 5 minutes ago, its ``jti`` used once (the shared store remembers it).
Only when the bank's personal code matches an ACTIVE portal account is a session started.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from auth.jwt import InvalidJwt, RemoteKeys, unverified_claims, verify
from gateway.audit_routes import audit_login
from gateway.auth_routes import start_browser_session
from gateway.context import client_ip
from gateway.unified_login import refusal
from resolvers.services import Services

log = logging.getLogger("gateway.bank_entry")

MAX_AGE = 300


class BankEntry:
    def __init__(self, services: Services, banks: Mapping[str, RemoteKeys], audience: str) -> None:
        self.services = services
        self.banks = dict(banks)
        self.audience = audience

    async def entry(self, request: Request) -> Response:
        async with request.form(max_files=0, max_fields=5) as form:
            assertion = form.get("assertion")
        if not isinstance(assertion, str) or not assertion:
            await audit_login(request, "auth.bank_entry", "missing_assertion")
            return refusal(
                "Your bank did not send the data needed to log you in. Start again at your bank.", 400
            )
        try:
            claims = await self._verify(assertion)
        except InvalidJwt as exc:
            log.info("bank assertion refused: %s", exc)
            await audit_login(
                request,
                "auth.bank_entry",
                "invalid_assertion",
                claimed_bank=_issuer(assertion),
                error=str(exc),
            )
            return refusal(
                "Your bank's confirmation could not be accepted (it may have expired). Start again."
            )
        code = str(claims.get("personal_code", ""))
        account = await self.services.accounts.by_personal_code(code)
        bank = str(claims.get("iss"))
        if account is None or account.state != "ACTIVE":
            # The code is masked by the journal to its birth-date part (terms 9).
            await audit_login(request, "auth.bank_entry", "no_matching_account", bank=bank, identity=code)
            return refusal(
                "Your bank confirmed who you are, but the data do not match an active portal account "
                "(terms 14). If you have an account, log in with your e-mail and password or contact support."
            )
        kind = "staff" if account.is_staff else "user"
        await audit_login(
            request,
            "auth.bank_entry",
            "ok",
            principal=account.id,
            kind=kind,
            bank=bank,
            jti=str(claims.get("jti")),
        )
        return await start_browser_session(self.services, account.id, client_ip(request))

    async def _verify(self, assertion: str) -> dict[str, object]:
        issuer = unverified_claims(assertion).get("iss")
        keys = self.banks.get(issuer) if isinstance(issuer, str) else None
        if keys is None or not isinstance(issuer, str):
            raise InvalidJwt(f"not a registered bank: {issuer!r}")
        claims = await verify(
            assertion,
            keys,
            issuers=[issuer],
            audience=self.audience,
            max_age=MAX_AGE,
            required=("jti", "iat", "personal_code"),
        )
        fresh = await self.services.store.put(
            f"bank-jti:{issuer}:{claims['jti']}", "used", ttl=2 * MAX_AGE, only_new=True
        )
        if not fresh:
            raise InvalidJwt("assertion replayed")
        return claims


def _issuer(assertion: str) -> str | None:
    """The bank an assertion claims to come from, for the record of a refusal; None when unreadable."""
    try:
        issuer = unverified_claims(assertion).get("iss")
    except InvalidJwt:
        return None
    return issuer if isinstance(issuer, str) else None
