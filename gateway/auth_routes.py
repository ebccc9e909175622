"""The HTTP endpoints of logging in and out (``shared/contract/API.md``, "HTTP endpoints")."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.lockout import Lockout
from auth.passwords import verify_password
from auth.sessions import COOKIE_NAME
from gateway.context import session_token
from resolvers.services import Services


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _lockout(services: Services) -> Lockout:
    s = services.settings
    return Lockout(services.store, s.lockout_threshold, s.lockout_seconds)


async def _credentials(request: Request) -> tuple[str, str] | None:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
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
    retry_after = await lockout.retry_after(email)
    if retry_after is not None:
        return JSONResponse(
            {"error": "locked", "retryAfter": retry_after},
            status_code=423,
            headers={"Retry-After": str(retry_after)},
        )
    account = await services.accounts.by_email(email)
    # The hash is verified even for an unknown e-mail, so both cost the same time.
    if not await verify_password(account.password_hash if account else None, password) or account is None:
        await lockout.failed(email)
        return JSONResponse({"error": "invalid_credentials"}, status_code=401)
    if account.state in ("BLOCKED", "TERMINATED"):
        return JSONResponse({"error": f"account_{account.state.lower()}"}, status_code=403)
    await lockout.succeeded(email)
    token, session = await services.sessions.create(account.id)
    await services.accounts.record_login(account.id)
    now = datetime.now(UTC)
    body = {
        "token": token,
        "expiresAt": datetime.fromtimestamp(session.absolute_expiry, UTC).isoformat(),
        "mustChangePassword": account.password_change_required(now),
    }
    response = JSONResponse(body)
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
    if token is not None:
        await services.sessions.end(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


routes = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
]
