"""``AiohttpTransport``: httpx stays the API of every adapter, aiohttp moves the bytes underneath.

httpx's default transport (httpcore over anyio and h11) costs about 0.85 ms of CPU per upstream call on the
gateway's machine; aiohttp's C HTTP parser and plain asyncio streams do the same work in a fraction of that.
``httpx.AsyncBaseTransport`` is httpx's documented extension point, so ``UpstreamClient`` keeps its single
``httpx.AsyncClient`` per system (pool, timeouts, headers, error handling) and only swaps what is under it.

What the transport does, and how httpx's settings map onto aiohttp:

* One ``aiohttp.ClientSession`` per transport, created on the first request inside the running loop and
  closed by ``aclose()``: a ``TCPConnector`` (``max_connections`` in all, DNS answers cached for
  ``dns_ttl`` seconds, idle connections dropped after ``keepalive`` seconds), no cookie jar, no proxies or
  netrc from the environment, no redirects followed, no decompression (httpx decodes ``Content-Encoding``
  itself from the headers, as it does over its own transport).
* The request goes out with exactly the headers httpx built (Host, User-Agent, Accept, Accept-Encoding,
  Content-Type...): aiohttp adds none of its own, only the framing of the body (``Content-Length``).
* Timeouts, from ``request.extensions["timeout"]`` (what ``httpx.Timeout`` puts there):

  ========  ==========================================================  =====================
  httpx     enforced as                                                 raises
  ========  ==========================================================  =====================
  pool      the wait for one of ``max_connections`` slots, held from    ``httpx.PoolTimeout``
            sending until the answer's body is read or closed (as
            httpcore holds a connection)
  connect   ``ClientTimeout(connect=..., sock_connect=...)``: name      ``httpx.ConnectTimeout``
            resolution, TCP connect and TLS handshake of a new
            connection
  read      ``ClientTimeout(sock_read=...)``: the longest silence       ``httpx.ReadTimeout``
            allowed between two reads, for the headers and each
            chunk of the body
  write     not enforced: aiohttp has no write timeout (our bodies      -
            are small; ``UpstreamClient``'s per-attempt deadline
            bounds the whole exchange anyway)
  ========  ==========================================================  =====================

  There is no total timeout here (``ClientTimeout(total=None)``); ``None`` for any of them means no limit.
* Errors become httpx's, the aiohttp one kept as ``__cause__`` (first match wins):

  ==========================================  ===============================================
  aiohttp                                     httpx
  ==========================================  ===============================================
  ``ConnectionTimeoutError``                  ``ConnectTimeout``
  ``SocketTimeoutError``, ``ServerTimeout``   ``ReadTimeout``
  ``ClientConnectorError`` (refused, DNS,     ``ConnectError``
  TLS)
  ``ServerDisconnectedError``,                ``RemoteProtocolError`` (closed early, a body cut
  ``ClientPayloadError``,                     short, an answer that is not HTTP)
  ``ClientResponseError``
  ``NonHttpUrlClientError``, ``InvalidURL``   ``UnsupportedProtocol`` (as httpcore does for a
                                              scheme or host it cannot use)
  ``ClientConnectionResetError``              ``WriteError`` (writing to a closed connection)
  other ``ClientOSError``,                    ``ReadError`` (reset while waiting or reading)
  ``ClientConnectionError``
  any other ``ClientError``                   ``TransportError``
  ``ValueError`` while building the request   ``LocalProtocolError`` (e.g. CR/LF in a header)
  ==========================================  ===============================================

  Errors while the body streams are mapped the same way, so ``ResponseChunks`` sees ``httpx.HTTPError``.
* aiohttp resends an idempotent request (GET, HEAD, PUT, DELETE...) once, by itself, when a kept-alive
  connection turns out to be closed by the server before any answer (RFC 9112, 9.3.1); httpcore does not.
  That attempt is invisible to ``UpstreamClient.calls``. POST and PATCH are never resent.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpTransport"]

# httpx always sends these (AsyncClient defaults); aiohttp must not fill in its own when one is removed.
_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
# aiohttp rounds deadlines over this many seconds up to a whole second; timeouts should mean what they say.
_NO_ROUNDING = math.inf
_HTTP_VERSIONS = {(1, 1): b"HTTP/1.1", (1, 0): b"HTTP/1.0"}

_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionResetError, httpx.WriteError),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (aiohttp.ClientError, httpx.TransportError),
    (TimeoutError, httpx.TimeoutException),
    (ValueError, httpx.LocalProtocolError),
)
_MAPPED = tuple(source for source, _ in _ERRORS)


def _httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for an aiohttp one (``_ERRORS``, first match)."""
    kind = next(target for source, target in _ERRORS if isinstance(exc, source))
    return kind(str(exc) or type(exc).__name__, request=request)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` sending HTTP/1.1 over one ``aiohttp.ClientSession`` (module docstring).

    ``max_connections`` bounds the requests in flight, and so the open connections; ``keepalive`` is the
    idle time after which a pooled connection is closed, kept under the 5 s that uvicorn (and so the
    sandbox) allows by default, so that the server is not the one closing a connection we are about to
    reuse. ``ssl_context`` defaults to httpx's own (certifi), created on the first HTTPS request.
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive: float = 4.0,
        dns_ttl: int = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive = keepalive
        self.dns_ttl = dns_ttl
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return once the status and headers are in; the body streams on."""
        session = self._session or self._open()
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
        headers: list[tuple[str, str]] = request.headers.multi_items()
        try:
            body: bytes | None = request.content or None
        except httpx.RequestNotRead:
            # A streamed request body is read whole; aiohttp then frames it with Content-Length.
            body = await request.aread() or None
            headers = [(name, value) for name, value in headers if name.lower() != "transfer-encoding"]
        try:
            target = URL(str(url), encoded=True)  # httpx has percent-encoded it already: send it as is
        except ValueError as exc:
            raise httpx.InvalidURL(f"aiohttp cannot send to {url}: {exc}") from exc
        timeout: Mapping[str, float | None] = request.extensions.get("timeout") or {}
        await self._acquire(timeout.get("pool"), request)
        try:
            answer = await session.request(
                request.method,
                target,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout(timeout.get("connect"), timeout.get("read")),
                ssl=self._tls() if url.scheme == "https" else True,
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, _MAPPED):
                raise _httpx_error(exc, request) from exc
            raise
        extensions: dict[str, Any] = {
            "http_version": _HTTP_VERSIONS.get(answer.version or (1, 1), b"HTTP/1.1"),
            "reason_phrase": (answer.reason or "").encode("ascii", "replace"),
        }
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=_ResponseBody(answer, request, self._slots),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the pool and every connection in it; the transport cannot be used afterwards."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("AiohttpTransport is closed")
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=self.max_connections,
            keepalive_timeout=self.keepalive,
            ttl_dns_cache=self.dns_ttl,
            timeout_ceil_threshold=_NO_ROUNDING,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_AUTO_HEADERS,
            auto_decompress=False,
            trust_env=False,
            requote_redirect_url=False,
            timeout=aiohttp.ClientTimeout(total=None, ceil_threshold=_NO_ROUNDING),
        )
        return self._session

    async def _acquire(self, pool: float | None, request: httpx.Request) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # uncontended, so no timer to arm
            return
        try:
            async with asyncio.timeout(pool):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout(
                f"no free connection within {pool} s ({self.max_connections} in use)", request=request
            ) from exc

    def _timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:  # per-request timeouts of every value must not grow this forever
                self._timeouts.clear()
            timeout = aiohttp.ClientTimeout(
                total=None, connect=connect, sock_connect=connect, sock_read=read, ceil_threshold=_NO_ROUNDING
            )
            self._timeouts[key] = timeout
        return timeout

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context


class _ResponseBody(httpx.AsyncByteStream):
    """The body of an aiohttp answer as httpx's byte stream; gives back the pool slot when done or closed.

    Read to the end, aiohttp returns the connection to its pool by itself; closed early, the connection is
    dropped (its unread rest cannot be skipped safely).
    """

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request, slots: asyncio.Semaphore):
        self._answer = answer
        self._request = request
        self._slots: asyncio.Semaphore | None = slots

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._answer.content
        while True:
            try:
                chunk = await content.readany()
            except _MAPPED as exc:
                self._finish()
                raise _httpx_error(exc, self._request) from exc
            if not chunk:
                self._finish()
                return
            yield chunk

    async def aclose(self) -> None:
        self._finish()

    def _finish(self) -> None:
        # No await here: a cancellation can never leave the slot taken or the connection half released.
        self._answer.release()
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.release()
