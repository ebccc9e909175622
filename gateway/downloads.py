"""``GET /documents/{id}/download``: the signed link of ``Document.downloadUrl`` (terms 17).

Checked on every use: the signature, the expiry, that the user it was issued to may still see the document's
client (a revoked mandate or a blocked account stops the link at once), and, when the request carries a
session, that it is that same user. The request counts against that user's rate limit, with a session or
without one. The bytes stream from the document store without being held in memory.
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from adapters.errors import UpstreamError, UpstreamNotFound
from gateway.access_log import note_principal
from gateway.context import new_loaders, principal_for_user, session_token
from gateway.errors import GatewayError, NotFound, from_upstream
from gateway.middleware import too_many_requests
from resolvers.services import Services


def _error(error: GatewayError, status: int) -> JSONResponse:
    return JSONResponse({"error": error.code.lower(), "detail": error.message}, status_code=status)


_STATUS = {"NOT_FOUND": 404, "FORBIDDEN": 403, "UNAUTHENTICATED": 401, "PASSWORD_CHANGE_REQUIRED": 403}


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    document_id = request.path_params["document_id"]
    q = request.query_params
    claims = services.links.verify(document_id, q.get("u", ""), q.get("exp", ""), q.get("sig", ""))
    if claims is None:
        return _error(NotFound("This link is invalid or has expired; ask for the document again."), 404)
    token, _ = session_token(request)
    session = None if token is None else await services.sessions.resolve(token)
    if session is not None and session.user_id != claims.user_id:
        return _error(NotFound("This link was issued to someone else."), 404)
    # The link's user's requests count the same with or without a session (terms 12.2).
    wait = (
        session.retry_after if session is not None else await services.sessions.count_request(claims.user_id)
    )
    if wait is not None:
        return too_many_requests("user", wait, f"user {claims.user_id} at a download")
    loaders = new_loaders(services)
    principal = await principal_for_user(services, claims.user_id, loaders)
    note_principal(request.scope, principal.kind, claims.user_id)
    if not principal.is_user:
        return _error(NotFound("This link is no longer valid; log in and ask for the document again."), 404)
    try:
        record = await loaders.document_by_id.load(document_id)
        if record is None:
            raise NotFound("No such document within your reach.")
        await principal.allow(record.owner_id, "DOCUMENTS_READ")
        stream = await services.documents.open_content(document_id)
    except UpstreamNotFound:
        return _error(NotFound("No such document within your reach."), 404)
    except UpstreamError as exc:
        return _error(from_upstream(exc), 503)
    except GatewayError as exc:
        return _error(exc, _STATUS.get(exc.code, 503 if exc.code == "UPSTREAM_UNAVAILABLE" else 400))
    headers = {
        "Content-Disposition": f'attachment; filename="{_filename(record.title, record.mime_type)}"',
        "Cache-Control": "private, no-store",
    }
    if stream.size_bytes is not None:
        headers["Content-Length"] = str(stream.size_bytes)
    return StreamingResponse(
        stream.chunks, media_type=stream.media_type, headers=headers, background=BackgroundTask(stream.aclose)
    )


def _filename(title: str, mime_type: str) -> str:
    safe = (
        "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in title).strip()
        or "document"
    )
    return safe + (".pdf" if mime_type == "application/pdf" and not safe.endswith(".pdf") else "")


routes = [Route("/documents/{document_id}/download", download, methods=["GET"])]
