"""``Http11Transport``: httpx stays the API of every adapter; plain HTTP/1.1 on asyncio moves the bytes.

httpx's default transport (httpcore over anyio and h11) costs about 0.85 ms of CPU per upstream call on the
gateway's machine, and aiohttp's client, which carried the calls before, about half of that: most of it in
the machinery around its C parser (request objects, tracing hooks, timers, its own stream classes). This
transport is only what an upstream call needs: a pool of kept-alive connections, each an ``asyncio.Protocol``
whose answers llhttp (``httptools``, the parser uvicorn uses) reads in C; the request goes out in one write.
``httpx.AsyncBaseTransport`` is httpx's documented extension point, so ``UpstreamClient`` keeps its single
``httpx.AsyncClient`` per system (timeouts, headers, redirects refused, error handling) and only swaps what is
under it. ``python -m bench.http_client`` measures it against httpx's own.

What it does:

* The request goes out with exactly the headers httpx built (Host, User-Agent, Accept, Accept-Encoding,
  Content-Type, Content-Length...): nothing of its own. A header with CR, LF or NUL in it is refused before
  anything is sent (``httpx.LocalProtocolError``). A streamed request body is read whole first and framed
  with ``Content-Length``.
* Answers are read by llhttp: ``Content-Length``, chunked and close-delimited bodies, interim 1xx answers
  skipped. The body streams to httpx as it arrives; more than ``_HIGH_WATER`` bytes not yet taken pause the
  reading until they are. httpx decodes ``Content-Encoding`` itself, from the headers.
* One request at a time per connection. A connection read to the end of an answer that allows it goes back
  to the pool; idle connections are dropped after ``keepalive`` seconds (kept under the 5 s that uvicorn, and
  so the sandbox, allows by default, so that the server is not the one closing a connection we are about to
  reuse). An answer left unread, or broken, closes its connection.
* A kept-alive connection that the server closed before sending any byte of the answer is replaced and the
  request sent once more, for methods that allow it (GET, HEAD, OPTIONS, PUT, DELETE: RFC 9112, 9.3.1);
  POST and PATCH are never resent. That attempt is invisible to ``UpstreamClient.calls``.
* Timeouts, from ``request.extensions["timeout"]`` (what ``httpx.Timeout`` puts there); ``None`` means none:

  ========  ===========================================================  =====================
  httpx     enforced as                                                  raises
  ========  ===========================================================  =====================
  pool      the wait for one of ``max_connections`` slots, held from     ``httpx.PoolTimeout``
            sending until the answer's body is read or closed
  connect   name resolution, TCP connect and TLS handshake of a new      ``httpx.ConnectTimeout``
            connection
  read      the longest silence allowed while waiting for the answer's   ``httpx.ReadTimeout``
            head and for each piece of its body
  write     not enforced: a request is one write of a small body;        -
            ``UpstreamClient``'s per-attempt deadline bounds the whole
            exchange anyway
  ========  ===========================================================  =====================

* Errors are httpx's: a refused or unresolvable connection ``ConnectError``; an answer that is not HTTP,
  ends early or is cut short ``RemoteProtocolError``; a reset while reading ``ReadError``; a scheme other
  than http or https ``UnsupportedProtocol``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping

import httptools
import httpx

__all__ = ["Http11Transport"]

# Body bytes received but not yet taken by the reader, above which the socket is not read any further.
_HIGH_WATER = 256 * 1024
_RESENDABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_PORTS = {"http": 80, "https": 443}


class _Broken(Exception):
    """What went wrong on a connection, raised as the httpx error ``kind`` (``_Connection.fail``)."""

    def __init__(self, kind: type[httpx.TransportError], message: str, before_answer: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.before_answer = before_answer  # no byte of the answer had arrived


class _Unsolicited(Exception):
    """An answer the server sent though none was asked for."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection to an upstream: sends a request, parses its answer with llhttp."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.idle_since = 0.0
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None
        self._begin(head_only=False)

    def _begin(self, head_only: bool) -> None:
        """Ready for the next answer."""
        self.head_only = head_only  # the answer to HEAD: no body, whatever its Content-Length says
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.interim = False
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False  # a byte of this answer
        self.body: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self.broken: _Broken | None = None

    def send(self, data: bytes, head_only: bool) -> None:
        self._begin(head_only)
        assert self.transport is not None
        self.transport.write(data)

    async def wait(self, read: float | None) -> None:
        """Until the next thing happens on the connection; ``_Broken`` (a ReadTimeout) after ``read`` seconds.

        One timer on the waiter, not ``asyncio.timeout``: that would cancel the task, and this is called for
        every answer."""
        waiter = self.waiter = self.loop.create_future()
        timer = None if read is None else self.loop.call_later(read, self._expire, waiter)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()

    def take_body(self) -> bytes:
        chunk = self.body.popleft() if len(self.body) == 1 else b"".join(self.body)
        self.body.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return chunk

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.body and not self.closed and not self.head_only

    def fail(self, kind: type[httpx.TransportError], message: str) -> None:
        if self.broken is None and not self.complete:
            self.broken = _Broken(kind, message, before_answer=not self.received)
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(_Broken(httpx.ReadTimeout, "no answer within the read timeout", False))

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.fail(httpx.RemoteProtocolError, "the server switched protocols")
            self.close()
        except httptools.HttpParserError as exc:
            self.fail(httpx.RemoteProtocolError, f"not an HTTP/1.1 answer: {exc}")
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.head_done and not self.complete and exc is None and self._until_close():
            self.complete = True  # a body delimited by the end of the connection
            self._wake()
        elif isinstance(exc, OSError):
            self.fail(httpx.ReadError, f"connection lost: {exc}")
        else:
            self.fail(httpx.RemoteProtocolError, "the server closed the connection before the answer's end")

    def _until_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    # llhttp's callbacks

    def on_message_begin(self) -> None:
        if self.complete:
            # More after the answer, or bytes while idle: nobody asked for it. Raising stops llhttp before it
            # touches the answer already handed on; the connection is then closed, never reused.
            raise _Unsolicited

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.interim = True  # 100 Continue and the like: the real answer follows
            return
        self.status = status
        self.head_done = True
        if self.head_only:
            self.complete = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            self.reason = b""
            self.headers = []
            return
        self.keep_alive = bool(self.parser.should_keep_alive())
        self.complete = True
        self._wake()


class Http11Transport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` sending HTTP/1.1 over pooled asyncio connections (module docstring).

    ``max_connections`` bounds the requests in flight, and so the open connections; ``keepalive`` is the idle
    time after which a pooled connection is closed. ``ssl_context`` defaults to httpx's own (certifi),
    created on the first HTTPS request.
    """

    def __init__(
        self, *, max_connections: int = 100, keepalive: float = 4.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive = keepalive
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return once the status and headers are in; the body streams on."""
        if self._closed:
            raise RuntimeError("Http11Transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme not in _PORTS or not url.host:
            raise httpx.UnsupportedProtocol(
                f"cannot send to {url}: only http and https URLs", request=request
            )
        data = await _encoded(request)
        timeout: Mapping[str, float | None] = request.extensions.get("timeout") or {}
        read = timeout.get("read")
        key = (scheme, url.host, url.port or _PORTS[scheme])
        head_only = request.method == "HEAD"
        await self._acquire(timeout.get("pool"), request)
        connection = None
        try:
            connection = self._pooled(key)
            if connection is not None:
                try:
                    await self._exchange(connection, data, head_only, read)
                except _Broken as exc:
                    self._drop(connection)
                    if not (exc.before_answer and request.method in _RESENDABLE):
                        raise
                    connection = None  # closed by the server while idle: once more, on a new connection
            if connection is None:
                connection = await self._connect(key, timeout.get("connect"), request)
                await self._exchange(connection, data, head_only, read)
        except BaseException as exc:
            if connection is not None:
                self._drop(connection)
            self._slots.release()
            if isinstance(exc, _Broken):
                raise exc.kind(str(exc), request=request) from exc
            raise
        version = b"HTTP/1.0" if connection.parser.get_http_version() == "1.0" else b"HTTP/1.1"
        return httpx.Response(
            connection.status,
            headers=connection.headers,
            stream=_ResponseBody(self, connection, key, request, read),
            extensions={"http_version": version, "reason_phrase": connection.reason},
        )

    async def aclose(self) -> None:
        """Close every connection; the transport cannot be used afterwards."""
        self._closed = True
        self._idle.clear()
        for connection in list(self._open):
            connection.close()
        self._open.clear()

    async def _exchange(
        self, connection: _Connection, data: bytes, head_only: bool, read: float | None
    ) -> None:
        connection.send(data, head_only)
        while not connection.head_done:
            if connection.broken is not None:
                raise connection.broken
            await connection.wait(read)

    def _pooled(self, key: tuple[str, str, int]) -> _Connection | None:
        """The most recently used idle connection to ``key`` still open; stale ones are closed on the way."""
        idle = self._idle.get(key)
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self.keepalive:
                return connection
            self._drop(connection)
        return None

    async def _connect(
        self, key: tuple[str, str, int], connect: float | None, request: httpx.Request
    ) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        tls = self._tls() if scheme == "https" else None
        server_name = request.extensions.get("sni_hostname", host) if tls is not None else None
        try:
            async with asyncio.timeout(connect):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), host, port, ssl=tls, server_hostname=server_name
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"no connection to {host}:{port} within {connect} s", request=request
            ) from exc
        except OSError as exc:  # refused, unreachable, name not resolved, TLS handshake failed
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}", request=request) from exc
        self._open.add(connection)
        return connection

    def _release(self, connection: _Connection, key: tuple[str, str, int]) -> None:
        """The answer is done with: its slot back, its connection to the pool or closed."""
        self._slots.release()
        if connection.reusable() and not self._closed:
            connection.idle_since = connection.loop.time()
            self._idle.setdefault(key, []).append(connection)
        else:
            self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

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

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context


async def _encoded(request: httpx.Request) -> bytes:
    """The request as it goes on the wire: request line, httpx's headers, the body."""
    headers = request.headers.raw
    try:
        body = request.content
    except httpx.RequestNotRead:
        # A streamed body is read whole and framed with Content-Length instead of chunks.
        body = await request.aread()
        headers = [(n, v) for n, v in headers if n.lower() not in (b"transfer-encoding", b"content-length")]
        headers.append((b"Content-Length", str(len(body)).encode()))
    lines = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    head = b"".join(lines)
    # Each line ends in CRLF and nothing else may hold CR, LF or NUL: one more would split a header in two.
    if head.count(b"\n") != len(headers) + 2 or head.count(b"\r") != len(headers) + 2 or b"\0" in head:
        raise httpx.LocalProtocolError("a header holds CR, LF or NUL", request=request)
    return head + body if body else head


class _ResponseBody(httpx.AsyncByteStream):
    """The body of an answer as httpx's byte stream; gives the connection back when done, or closes it."""

    def __init__(
        self,
        transport: Http11Transport,
        connection: _Connection,
        key: tuple[str, str, int],
        request: httpx.Request,
        read: float | None,
    ) -> None:
        self._transport: Http11Transport | None = transport
        self._connection = connection
        self._key = key
        self._request = request
        self._read = read

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        try:
            while True:
                if connection.body:
                    yield connection.take_body()
                elif connection.complete:
                    return
                elif connection.broken is not None:
                    raise connection.broken.kind(str(connection.broken), request=self._request)
                else:
                    try:
                        await connection.wait(self._read)
                    except _Broken as exc:
                        raise exc.kind(str(exc), request=self._request) from exc
        finally:
            self._finish()

    async def aclose(self) -> None:
        self._finish()

    def _finish(self) -> None:
        # No await here: a cancellation can never leave the slot taken or the connection half released.
        transport, self._transport = self._transport, None
        if transport is not None:
            transport._release(self._connection, self._key)
