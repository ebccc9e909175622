"""The partner banks' side of the sandbox: bank-entry assertions into the portal, and the payment pages.

Endpoints, relative to where the app is mounted (``/sandbox/bank`` in the gateway):

* ``GET /{bank_id}/jwks``: the bank's public signing keys (each bank has its own RS256 key).
* ``GET /entry?personal_code=...&bank=demo-bank``: "you are being sent to the portal": a form that posts a
  freshly signed ``assertion`` to the gateway's ``/auth/bank/entry`` (auto-submitted by a line of script; the
  button is there for browsers without it). Without a personal code: a list of the bank's customers.
* ``GET /pay/{session_id}``: a payment session the billing system opened, with "Pay" and "Cancel", which post
  to ``/pay/{session_id}/complete`` or ``/cancel`` here; those call the billing system's
  ``POST /payment-sessions/{id}/complete`` or ``/cancel``.

The assertion is a compact JWS (RS256, ``kid``) with ``iss`` (the bank id), ``aud``, ``iat``,
``exp`` (iat + 300), ``jti``, ``personal_code``, ``given_name`` and ``family_name``. The gateway's root is
``gateway_url`` when given, else the root of the host app serving this request (right when the sandbox is
mounted inside the gateway).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

import httpx
from joserfc.jwk import KeySetSerialization, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox.identities import (
    BANK_IDS,
    GATEWAY_AUDIENCE,
    Person,
    default_persons,
    normalize_code,
    persons_by_code,
)
from sandbox.keys import SigningKeys
from sandbox.pages import page

ASSERTION_TTL = 300  # seconds: the contract's "at most 5 minutes old"
_BILLING_BASE = "http://billing.sandbox"  # any host will do for an in-process (ASGI) billing app


class PartnerBanks:
    """The sandbox banks' keys and customers, and what they sign."""

    def __init__(
        self,
        *,
        bank_ids: Iterable[str] = BANK_IDS,
        persons: Iterable[Person] | None = None,
        audience: str = GATEWAY_AUDIENCE,
        gateway_url: str | None = None,
        billing: ASGIApp | str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys: dict[str, SigningKeys] = {bank: SigningKeys() for bank in bank_ids}
        self.persons = persons_by_code(default_persons() if persons is None else persons)
        self.audience = audience
        self.gateway_url = gateway_url.rstrip("/") if gateway_url else None
        self.billing = billing
        self.clock = clock

    def jwks(self, bank_id: str) -> KeySetSerialization:
        """The public JWKS of ``bank_id`` (``KeyError`` for an unknown bank)."""
        return self.keys[bank_id].jwks()

    def make_assertion(
        self,
        bank_id: str,
        personal_code: str,
        *,
        iat: int | None = None,
        exp: int | None = None,
        aud: str | None = None,
        jti: str | None = None,
        key: RSAKey | None = None,
        given_name: str | None = None,
        family_name: str | None = None,
    ) -> str:
        """A bank-entry assertion as ``bank_id`` signs it; every keyword overrides one part, so that tests can
        forge expired (``iat``/``exp``), wrong-audience (``aud``), replayed (same ``jti``) or wrongly signed
        (``key``: any other RSA key, e.g. ``sandbox.keys.new_signing_key()``) ones.

        Names default to the person's, when the bank knows the code. An unknown ``bank_id`` needs ``key``.
        """
        person = self.persons.get(normalize_code(personal_code))
        now = int(self.clock()) if iat is None else iat
        claims: dict[str, Any] = {
            "iss": bank_id,
            "aud": self.audience if aud is None else aud,
            "iat": now,
            "exp": now + ASSERTION_TTL if exp is None else exp,
            "jti": jti or secrets.token_urlsafe(16),
            "personal_code": personal_code,
            "given_name": given_name if given_name is not None else (person.given_name if person else ""),
            "family_name": family_name if family_name is not None else (person.family_name if person else ""),
        }
        signer = self.keys[bank_id] if key is None else self.keys.get(bank_id, SigningKeys())
        return signer.sign(claims, key=key)

    def gateway_root(self, request: Request) -> str:
        """``gateway_url``, or the root URL of the host app that serves ``request``."""
        return self.gateway_url or str(request.base_url).rstrip("/")

    async def call_billing(
        self, method: str, path: str, *, idempotency_key: str | None = None
    ) -> httpx.Response:
        """``method path`` on the billing system (in process or by URL); writes need an idempotency key."""
        assert self.billing is not None
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if isinstance(self.billing, str):
            client = httpx.AsyncClient(base_url=self.billing, timeout=10)
        else:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.billing), base_url=_BILLING_BASE
            )
        async with client:
            return await client.request(method, path, headers=headers)


def banks_of(app: Starlette) -> PartnerBanks:
    """The banks behind an app made by ``create_bank_app``."""
    banks = app.state.banks
    assert isinstance(banks, PartnerBanks)
    return banks


def _page(title: str, body: str, status: int = 200) -> Response:
    return page("Partner bank (sandbox)", title, body, status)


def create_bank_app(
    *,
    bank_ids: Iterable[str] = BANK_IDS,
    persons: Iterable[Person] | None = None,
    audience: str = GATEWAY_AUDIENCE,
    gateway_url: str | None = None,
    billing: ASGIApp | str | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The partner banks as a Starlette app.

    ``audience``: the assertions' ``aud``. ``gateway_url``: the gateway's root URL for a sandbox served
    apart from it (``None``: the host app's root). ``billing``: the billing system, an ASGI app (called in
    process) or a base URL; ``None`` leaves the payment pages unable to pay. The banks object is
    ``app.state.banks`` (or ``banks_of(app)``).
    """
    banks = PartnerBanks(
        bank_ids=bank_ids,
        persons=persons,
        audience=audience,
        gateway_url=gateway_url,
        billing=billing,
        clock=clock,
    )

    async def jwks(request: Request) -> Response:
        bank_id = request.path_params["bank_id"]
        if bank_id not in banks.keys:
            return JSONResponse({"error": "not_found", "detail": f"no bank {bank_id}"}, status_code=404)
        return JSONResponse(dict(banks.jwks(bank_id)))

    async def entry(request: Request) -> Response:
        bank_id = request.query_params.get("bank", "demo-bank")
        if bank_id not in banks.keys:
            return _page("Unknown bank", f"<p>There is no sandbox bank {escape(bank_id)}.</p>", 400)
        code = request.query_params.get("personal_code", "")
        person = banks.persons.get(normalize_code(code)) if code else None
        if person is None:
            return _customers(request, bank_id, code, 400 if code else 200)
        assertion = banks.make_assertion(bank_id, person.personal_code)
        action = f"{banks.gateway_root(request)}/auth/bank/entry"
        body = (
            f"<p>{escape(person.name)}, you are being sent to the radioatlaujas.lv portal.</p>"
            f'<form id="entry" method="post" action="{escape(action)}">'
            f'<input type="hidden" name="assertion" value="{escape(assertion)}">'
            '<button type="submit">Continue to radioatlaujas.lv</button></form>'
            '<script>document.getElementById("entry").submit();</script>'
        )
        return _page("You are being sent to the radioatlaujas.lv portal", body)

    def _customers(request: Request, bank_id: str, code: str, status: int) -> Response:
        links = "".join(
            f'<li><a href="{escape(str(request.url.include_query_params(personal_code=p.personal_code)))}">'
            f"{escape(p.name)} ({escape(p.personal_code)})</a></li>"
            for p in banks.persons.values()
        )
        message = (
            f"<p>{escape(bank_id)} has no customer with the personal code {escape(code)}.</p>" if code else ""
        )
        return _page("Go to radioatlaujas.lv", f"{message}<p>Who are you?</p><ul>{links}</ul>", status)

    async def pay(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        details, status = "", "OPEN"
        if banks.billing is not None:
            try:
                found = await banks.call_billing("GET", f"/payment-sessions/{session_id}")
            except httpx.HTTPError:
                found = None  # the buttons still work once billing is back
            if found is not None and found.status_code == 404:
                return _page("Unknown payment", "<p>There is no such payment session.</p>", 404)
            session = _json_object(found) if found is not None and found.status_code == 200 else None
            if session is not None:
                status = str(session.get("status", "OPEN"))
                details = (
                    f"<p>Amount: {escape(str(session.get('amount')))} {escape(str(session.get('currency')))}"
                )
                details += f" ({escape(status)})</p>"
        base = escape(request.url.path.rstrip("/"))
        body = f"<p>Payment session <code>{escape(session_id)}</code> for radioatlaujas.lv.</p>{details}"
        if status == "OPEN":
            body += (
                f'<form method="post" action="{base}/complete"><button type="submit">Pay</button></form>'
                f'<form method="post" action="{base}/cancel"><button type="submit">Cancel</button></form>'
            )
        return _page("Payment", body)

    async def finish(request: Request) -> Response:
        session_id, action = request.path_params["session_id"], request.path_params["action"]
        if action not in ("complete", "cancel"):
            return _page("Not found", "<p>There is no such page.</p>", 404)
        if banks.billing is None:
            return _page("Payment unavailable", "<p>This bank is not connected to a billing system.</p>", 503)
        try:
            # One key per session and action: a double click replays the first answer instead of failing.
            path = f"/payment-sessions/{session_id}/{action}"
            answer = await banks.call_billing("POST", path, idempotency_key=f"bank-{session_id}-{action}")
        except httpx.HTTPError:
            return _page("Payment unavailable", "<p>The billing system did not answer. Try again.</p>", 502)
        if answer.status_code == 404:
            return _page("Unknown payment", "<p>There is no such payment session.</p>", 404)
        if answer.status_code >= 500:
            return _page("Payment unavailable", "<p>The billing system failed. Try again later.</p>", 502)
        if answer.status_code >= 400:
            return _page(
                "Payment not possible", "<p>This payment is already finished or has expired.</p>", 409
            )
        # Back to the portal when the billing system tells where (a real bank redirects the customer back).
        back = _return_url(answer)
        if back is not None:
            return RedirectResponse(back, status_code=303)
        done = "Payment completed" if action == "complete" else "Payment cancelled"
        return _page(done, f"<p>{done}: <code>{escape(session_id)}</code>.</p>")

    app = Starlette(
        routes=[
            Route("/{bank_id}/jwks", jwks, methods=["GET"]),
            Route("/entry", entry, methods=["GET"]),
            Route("/pay/{session_id}", pay, methods=["GET"]),
            Route("/pay/{session_id}/{action}", finish, methods=["POST"]),
        ]
    )
    app.state.banks = banks
    return app


def _json_object(answer: httpx.Response) -> dict[str, Any] | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _return_url(answer: httpx.Response) -> str | None:
    # The billing system's payment session names where the payer goes back to (``return_url``).
    url = (_json_object(answer) or {}).get("return_url")
    return url if isinstance(url, str) and url else None
