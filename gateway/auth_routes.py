"""The HTTP endpoints of logging in and out (``shared/contract/API.md``, "HTTP endpoints")."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

import orjson
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from auth.identity import InvalidToken, WeakPassword
from auth.lockout import Lockout
from auth.passwords import verify_password
from auth.sessions import COOKIE_NAME
from auth.terms import current_terms
from auth.throttle import over_limit, refused
from gateway.access_log import note_principal
from gateway.audit_routes import audit_request
from gateway.context import client_ip, session_token
from gateway.pages import RESET_PAGE
from resolvers.services import Services

log = logging.getLogger("gateway.auth")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _lockout(services: Services) -> Lockout:
    s = services.settings
    return Lockout(services.store, s.lockout_threshold, s.lockout_seconds)


async def _json_body(request: Request) -> dict[str, object] | None:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:  # invalid UTF-8 and nesting past 1,024 levels too
        return None
    return body if isinstance(body, dict) else None


async def _credentials(request: Request) -> tuple[str, str] | None:
    body = await _json_body(request)
    if body is None:
        return None
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email.strip():
        return None
    return email.strip().lower(), password


async def login(request: Request) -> Response:
    services = _services(request)
    credentials = await _credentials(request)
    if credentials is None:
        return JSONResponse(
            {"error": "invalid_request", "detail": 'Send JSON {"email": "...", "password": "..."}.'},
            status_code=400,
        )
    email, password = credentials
    lockout = _lockout(services)
    attempt = await lockout.begin(email)
    if attempt.retry_after is not None:
        await _audit_login(request, email, "locked", retryAfter=attempt.retry_after)
        return JSONResponse(
            {"error": "locked", "retryAfter": attempt.retry_after},
            status_code=423,
            headers={"Retry-After": str(attempt.retry_after)},
        )
    account = await services.accounts.by_email(email)
    # The hash is verified even for an unknown e-mail, so both cost the same time.
    if not await verify_password(account.password_hash if account else None, password) or account is None:
        await lockout.failed(attempt)
        await _audit_login(request, email, "invalid_credentials")
        return JSONResponse({"error": "invalid_credentials"}, status_code=401)
    await lockout.succeeded(attempt)
    if account.state in ("BLOCKED", "TERMINATED"):
        await _audit_login(request, email, f"account_{account.state.lower()}")
        return JSONResponse({"error": f"account_{account.state.lower()}"}, status_code=403)
    # Written before the session exists: if the journal cannot take it, nobody is logged in unrecorded.
    await audit_request(
        request,
        "auth.login",
        "ok",
        principal_kind="staff" if account.is_staff else "user",
        principal=account.id,
        details={"email": email, "method": "password"},
    )
    token, session = await services.sessions.create(account.id)
    note_principal(request.scope, "staff" if account.is_staff else "user", account.id)
    await after_login(services, account.id, client_ip(request))
    now = datetime.now(UTC)
    body = {
        "token": token,
        "expiresAt": datetime.fromtimestamp(session.absolute_expiry, UTC).isoformat(),
        "mustChangePassword": account.password_change_required(now),
    }
    response = JSONResponse(body)
    set_session_cookie(response, services, token)
    return response


async def _audit_login(request: Request, email: str, outcome: str, **details: object) -> None:
    """A refused password login: the principal is the e-mail tried (the user name); never the password."""
    await audit_request(
        request,
        "auth.login",
        outcome,
        principal_kind="anonymous",
        principal=email,
        details={"email": email, "method": "password", **details},
    )


async def after_login(services: Services, user_id: str, ip: str | None) -> None:
    """Whatever the way in: the login time, and (clause 30) logging in counts as accepting the terms in force;
    the first such login of a version is kept as the evidence."""
    await services.accounts.record_login(user_id)
    terms = current_terms().version
    if terms not in await services.accounts.accepted_terms_versions(user_id):
        await services.accounts.record_terms_acceptance(user_id, terms, ip)


async def start_browser_session(services: Services, user_id: str, ip: str | None) -> Response:
    """After a redirect-based login (unified, bank): a session, its cookie, 303 to ``FRONTEND_URL``."""
    token, _ = await services.sessions.create(user_id)
    await after_login(services, user_id, ip)
    response = RedirectResponse(services.settings.frontend_url, status_code=303)
    set_session_cookie(response, services, token)
    return response


def set_session_cookie(response: Response, services: Services, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=services.settings.session_absolute_seconds,
        httponly=True,
        secure=not services.settings.is_dev,
        samesite="lax",
        path="/",
    )


async def logout(request: Request) -> Response:
    services = _services(request)
    token, _ = session_token(request)
    user_id = await services.sessions.end(token) if token is not None else None
    if user_id is not None:
        account = await services.accounts.by_id(user_id)
        kind = "staff" if account is not None and account.is_staff else "user"
        await audit_request(request, "auth.logout", "ok", principal_kind=kind, principal=user_id)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


routes = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
]


async def forgot_password(request: Request) -> Response:
    """Always 202, and the mail goes out after the answer, so neither content nor time tells who exists."""
    services = _services(request)
    body = await _json_body(request)
    email = body.get("email") if body else None
    if not isinstance(email, str) or "@" not in email:
        return JSONResponse(
            {"error": "invalid_request", "detail": 'Send JSON {"email": "..."}.'}, status_code=400
        )
    email = email.strip().lower()
    limited = await _reset_mail_limited(request, services, email)
    # Recorded whatever the e-mail: the journal is for staff, and the answer stays the same for everyone.
    await audit_request(
        request,
        "auth.password.forgot",
        "rate_limited" if limited else "accepted",
        principal_kind="anonymous",
        principal=email,
    )
    task = None if limited else BackgroundTask(_mail_reset_link, services, email)
    return JSONResponse({"status": "accepted"}, status_code=202, background=task)


async def _reset_mail_limited(request: Request, services: Services, email: str) -> bool:
    """Terms 12.2: reset mails per e-mail (``RESET_MAIL_RATE_LIMIT``, 3 an hour) and requests per client
    address (``LOGIN_RATE_LIMIT``), so that nobody can flood a mailbox or the mail server. Beyond either the
    answer is the same 202 (the contract's "always"), and no mail goes out."""
    limits = services.settings
    address = await over_limit(services.store, f"reset-address:{client_ip(request)}", limits.login_rate_limit)
    hashed = hashlib.sha256(email.encode()).hexdigest()  # no address in clear in the store's keys
    mailbox = await over_limit(services.store, f"reset-mail:{hashed}", limits.reset_mail_rate_limit)
    if address is None and mailbox is None:
        return False
    refused("reset_mail", f"{client_ip(request)} (a reset mail)", address or mailbox)
    return True


async def _mail_reset_link(services: Services, email: str) -> None:
    try:
        await services.identity.forgot_password(email)
    except Exception:  # the caller has had its answer; a mail failure must only be logged
        log.exception("could not send the password reset mail")


async def reset_password(request: Request) -> Response:
    services = _services(request)
    body = await _json_body(request)
    token = body.get("token") if body else None
    password = body.get("newPassword") if body else None
    if not isinstance(token, str) or not isinstance(password, str):
        return JSONResponse(
            {"error": "invalid_request", "detail": 'Send JSON {"token": "...", "newPassword": "..."}.'},
            status_code=400,
        )
    # Whose link it is, read before the token is spent; the token itself never reaches the journal.
    user_id = await services.identity.reset_tokens.peek(token)
    outcome, answer = "ok", Response(status_code=204)
    details: dict[str, object] = {}
    try:
        await services.identity.reset_password(token, password)
    except InvalidToken:
        outcome, answer = "invalid_token", JSONResponse({"error": "invalid_token"}, status_code=400)
    except WeakPassword as exc:
        outcome, details = "weak_password", {"reasons": exc.reasons}
        answer = JSONResponse({"error": "weak_password", "reasons": exc.reasons}, status_code=400)
    await audit_request(
        request,
        "auth.password.reset",
        outcome,
        principal_kind="user" if user_id else "anonymous",
        principal=user_id,
        details=details,
    )
    return answer


async def reset_page(request: Request) -> HTMLResponse:
    """Where the mailed link lands: a form that sends the token and the new password to the endpoint above."""
    return HTMLResponse(RESET_PAGE)


routes += [
    Route("/auth/password/forgot", forgot_password, methods=["POST"]),
    Route("/auth/password/reset", reset_password, methods=["POST"]),
    Route("/auth/password/reset", reset_page, methods=["GET"]),
]
