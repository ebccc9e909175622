"""UpstreamClient over Http11Transport, against a real HTTP server on 127.0.0.1: headers, errors, pool."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web

from adapters.errors import UpstreamConflict, UpstreamError, UpstreamNotFound, UpstreamUnavailable
from adapters.http import USER_AGENT, RetryPolicy, Timeouts, UpstreamClient
from adapters.transport import Http11Transport
from tests.unit.adapter_fakes import FAST_RETRY

ONCE = RetryPolicy(attempts=1)
BIG = bytes(range(256)) * 4096  # 1 MiB
BIG_PIECE = 64 * 1024


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: list[tuple[str, str]]
    body: bytes
    peer_port: int

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class Upstream:
    """A small company system: records what it receives and how many requests it serves at once."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def record(self, request: web.Request) -> Seen:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen = Seen(
            request.method,
            request.path,
            dict(request.query),
            list(request.headers.items()),
            await request.read(),
            int(peer[1]) if peer else 0,
        )
        self.seen.append(seen)
        self.arrived.set()
        return seen

    async def echo(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        return web.json_response({"method": seen.method, "size": len(seen.body)})

    async def gzipped(self, request: web.Request) -> web.Response:
        await self.record(request)
        body = gzip.compress(orjson.dumps({"items": [{"id": "K100001", "name": "Jānis Bērziņš"}]}))
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    async def status(self, request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.json_response({"error": "refused", "detail": f"answer {code}"}, status=code)

    async def not_json(self, request: web.Request) -> web.Response:
        return web.Response(body=b"{not json", content_type="application/json")

    async def slow(self, request: web.Request) -> web.Response:
        await self.record(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), float(request.query.get("seconds", "5")))
        finally:
            self.in_flight -= 1
        return web.json_response({"slow": True})

    async def big(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = len(BIG)
        await response.prepare(request)
        for start in range(0, len(BIG), BIG_PIECE):
            await response.write(BIG[start : start + BIG_PIECE])
            await asyncio.sleep(0)  # separate writes, so the client sees the body arrive in pieces
        await response.write_eof()
        return response


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    system = Upstream()
    app = web.Application()
    app.router.add_route("*", "/billing/echo", system.echo)
    app.router.add_get("/billing/gzip", system.gzipped)
    app.router.add_get("/billing/status/{code}", system.status)
    app.router.add_get("/billing/not-json", system.not_json)
    app.router.add_get("/billing/slow", system.slow)
    app.router.add_get("/billing/big", system.big)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    system.url = f"http://{host}:{port}/billing"
    yield system
    system.closing.set()
    await runner.cleanup()


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full: the kernel drops further SYNs, so a connect hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def client_of(url: str, **options: Any) -> UpstreamClient:
    options.setdefault("retry", FAST_RETRY)
    return UpstreamClient("billing", url, **options)


# -- what arrives -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_arrives_with_our_user_agent_accept_and_query(upstream: Upstream) -> None:
    async with client_of(upstream.url) as client:
        answer = await client.get_json(
            "/echo", {"ids": "K1,K2", "name": "Jānis B/1", "limit": 5, "skip": None}
        )
    assert answer == {"method": "GET", "size": 0}
    [seen] = upstream.seen
    assert seen.path == "/billing/echo"
    assert seen.query == {"ids": "K1,K2", "name": "Jānis B/1", "limit": "5"}
    assert seen.header("User-Agent") == [USER_AGENT]
    assert seen.header("Accept") == ["application/json"]
    assert len(seen.header("Accept-Encoding")) == 1 and "gzip" in seen.header("Accept-Encoding")[0]
    assert seen.header("Content-Type") == [] and seen.header("Content-Length") == []


@pytest.mark.asyncio
async def test_post_arrives_with_its_body_and_idempotency_key(upstream: Upstream) -> None:
    async with client_of(upstream.url) as client:
        answer = await client.post_json("/echo", {"amount": 12, "ref": "ā"}, idempotency_key="key-1")
    [seen] = upstream.seen
    assert orjson.loads(seen.body) == {"amount": 12, "ref": "ā"}
    assert answer == {"method": "POST", "size": len(seen.body)}
    assert seen.header("Idempotency-Key") == ["key-1"]
    assert seen.header("Content-Type") == ["application/json"]
    assert seen.header("Content-Length") == [str(len(seen.body))]
    assert seen.header("User-Agent") == [USER_AGENT]


@pytest.mark.asyncio
async def test_transport_adds_no_headers_of_its_own(upstream: Upstream) -> None:
    async with httpx.AsyncClient(transport=Http11Transport()) as http:
        request = http.build_request("POST", f"{upstream.url}/echo", content=b"raw")
        for name in ("User-Agent", "Accept", "Accept-Encoding"):
            del request.headers[name]
        assert (await http.send(request)).status_code == 200
    [seen] = upstream.seen
    assert seen.body == b"raw"
    assert {name.lower() for name, _ in seen.headers} == {"host", "connection", "content-length"}


@pytest.mark.asyncio
async def test_gzip_answer_is_decoded(upstream: Upstream) -> None:
    async with client_of(upstream.url) as client:
        answer = await client.get_json("/gzip")
    assert answer == {"items": [{"id": "K100001", "name": "Jānis Bērziņš"}]}


@pytest.mark.asyncio
@pytest.mark.parametrize(("code", "error"), [(404, UpstreamNotFound), (409, UpstreamConflict)])
async def test_error_status_maps_to_its_adapter_error(
    upstream: Upstream, code: int, error: type[UpstreamError]
) -> None:
    async with client_of(upstream.url) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.get_json(f"/status/{code}")
    assert type(caught.value) is error
    assert caught.value.detail == f"answer {code}"


@pytest.mark.asyncio
async def test_invalid_json_answer_is_unavailable(upstream: Upstream) -> None:
    async with client_of(upstream.url) as client:
        with pytest.raises(UpstreamUnavailable, match="GET /not-json: invalid JSON"):
            await client.get_json("/not-json")


# -- failures -----------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_refused_connection_is_unavailable_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.perf_counter()
    async with client_of(url) as client:
        with pytest.raises(UpstreamUnavailable, match="ConnectError") as caught:
            await client.get_json("/echo")
    assert time.perf_counter() - started < 1.0
    assert client.calls == 3  # a GET is retried; each attempt is refused again
    assert "timed out" not in caught.value.detail
    async with httpx.AsyncClient(transport=Http11Transport()) as http:
        with pytest.raises(httpx.ConnectError) as raw:
            await http.get(url)
    assert isinstance(raw.value.__cause__, ConnectionRefusedError)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "timeouts",
    [Timeouts(total=0.2), Timeouts(read=0.2, total=None)],
    ids=["per-attempt-deadline", "read-timeout"],
)
async def test_upstream_slower_than_the_timeout_is_unavailable(
    upstream: Upstream, timeouts: Timeouts
) -> None:
    async with client_of(upstream.url, timeouts=timeouts, retry=ONCE, max_connections=1) as client:
        started = time.perf_counter()
        with pytest.raises(UpstreamUnavailable, match="GET /slow: timed out"):
            await client.get_json("/slow")
        assert 0.2 <= time.perf_counter() - started < 1.5
        # The abandoned request gave its one connection back: the next one is not left waiting for it.
        assert await client.get_json("/echo") == {"method": "GET", "size": 0}
    assert [seen.path for seen in upstream.seen] == ["/billing/slow", "/billing/echo"]


@pytest.mark.asyncio
async def test_read_timeout_is_httpx_read_timeout(upstream: Upstream) -> None:
    timeout = httpx.Timeout(5.0, read=0.1)
    async with httpx.AsyncClient(transport=Http11Transport(), timeout=timeout) as http:
        started = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{upstream.url}/slow")
    assert 0.1 <= time.perf_counter() - started < 1.5


@pytest.mark.asyncio
async def test_connect_that_hangs_is_a_connect_timeout() -> None:
    with full_backlog() as port:
        url = f"http://127.0.0.1:{port}"
        timeout = httpx.Timeout(5.0, connect=0.2)
        async with httpx.AsyncClient(transport=Http11Transport(), timeout=timeout) as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get(url)
        async with client_of(url, timeouts=Timeouts(connect=0.2), retry=ONCE) as client:
            with pytest.raises(UpstreamUnavailable, match="timed out"):
                await client.get_json("/echo")


@pytest.mark.asyncio
async def test_body_cut_short_fails_the_download_instead_of_hanging() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n")
        writer.write(b"%PDF" + b"x" * 996)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(cut, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client_of(f"http://127.0.0.1:{port}") as client:
            download = await client.stream("/doc.pdf")
            assert download.size_bytes == 100_000
            received = b""
            async with asyncio.timeout(3):
                with pytest.raises(UpstreamUnavailable, match="download broke off: RemoteProtocolError"):
                    async for chunk in download.chunks:
                        received += chunk
            assert received.startswith(b"%PDF") and len(received) < 100_000
    finally:
        server.close()
        await server.wait_closed()


# -- streaming and the pool ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_download_arrives_whole_in_chunks_and_its_connection_is_reused(upstream: Upstream) -> None:
    async with client_of(upstream.url, max_connections=1) as client:
        download = await client.stream("/big")
        assert download.size_bytes == len(BIG)
        chunks = [chunk async for chunk in download.chunks]
        await download.chunks.aclose()
        assert b"".join(chunks) == BIG
        assert len(chunks) > 1
        # One connection at most: a slot not given back would make this wait for the pool and time out.
        async with asyncio.timeout(2):
            assert await client.get_json("/echo") == {"method": "GET", "size": 0}
    big, after = upstream.seen
    assert after.peer_port == big.peer_port


@pytest.mark.asyncio
async def test_download_closed_early_gives_its_connection_back(upstream: Upstream) -> None:
    async with client_of(upstream.url, max_connections=1, timeouts=Timeouts(pool=0.5)) as client:
        download = await client.stream("/big")
        first = await download.chunks.__anext__()
        assert 0 < len(first) < len(BIG)
        await download.chunks.aclose()
        assert await client.get_json("/echo") == {"method": "GET", "size": 0}
    big, after = upstream.seen
    # The unread rest cannot be skipped on that connection, so it is dropped and a new one opened.
    assert after.peer_port != big.peer_port


@pytest.mark.asyncio
async def test_requests_beyond_max_connections_wait_their_turn(upstream: Upstream) -> None:
    async with client_of(upstream.url, max_connections=2) as client:
        answers = await asyncio.gather(*(client.get_json("/slow", {"seconds": "0.05"}) for _ in range(10)))
    assert answers == [{"slow": True}] * 10
    assert upstream.most_in_flight == 2
    assert len({seen.peer_port for seen in upstream.seen}) == 2


@pytest.mark.asyncio
async def test_wait_for_a_free_connection_is_a_pool_timeout(upstream: Upstream) -> None:
    timeout = httpx.Timeout(5.0, pool=0.05)
    async with httpx.AsyncClient(transport=Http11Transport(max_connections=1), timeout=timeout) as http:
        first = asyncio.create_task(http.get(f"{upstream.url}/slow", params={"seconds": "0.5"}))
        async with asyncio.timeout(2):
            await upstream.arrived.wait()
        with pytest.raises(httpx.PoolTimeout):
            await http.get(f"{upstream.url}/echo")
        assert (await first).json() == {"slow": True}
        assert (await http.get(f"{upstream.url}/echo")).status_code == 200


# -- HTTP/1.1 on the wire, against a hand-written server -----------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[str]:
    """A server that answers with the bytes ``handle`` writes; yields its base URL."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's head and its Content-Length body; b"" when the client has gone."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return b""
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return head + (await reader.readexactly(length) if length else b"")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
        (
            b"Connection: close\r\n\r\nuntil the end",
            b"until the end",
        ),  # no length: the body ends with the connection
        (b"Content-Length: 0\r\n\r\n", b""),
    ],
    ids=["chunked", "close-delimited", "empty"],
)
async def test_bodies_framed_every_way_arrive_whole(answer: bytes, body: bytes) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        # an interim answer first, which is skipped
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Kind: test\r\n" + answer)
        await writer.drain()
        if b"close" in answer:
            writer.close()

    async with raw_server(handle) as url, httpx.AsyncClient(transport=Http11Transport()) as http:
        response = await http.get(f"{url}/x")
    assert (response.status_code, response.content, response.headers["X-Kind"]) == (200, body, "test")
    assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"


@pytest.mark.asyncio
async def test_a_kept_alive_connection_closed_by_the_server_is_replaced_for_a_get_not_for_a_post() -> None:
    served: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers the first request of each connection and keeps it open, then drops it at the next request,
        # without a byte of answer: what a server does when its keep-alive time runs out under a request.
        first = await read_request(reader)
        served.append(first.split(b"\r\n")[0])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await read_request(reader)
        writer.close()

    async with raw_server(handle) as url, httpx.AsyncClient(transport=Http11Transport()) as http:
        assert (await http.get(f"{url}/a")).content == b"ok"
        assert (await http.get(f"{url}/b")).content == b"ok"  # sent again, on a new connection
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{url}/c", content=b"once")  # a POST is never sent twice
    assert served == [b"GET /a HTTP/1.1", b"GET /b HTTP/1.1"]


@pytest.mark.asyncio
async def test_connection_close_answer_is_not_reused_and_head_has_no_body() -> None:
    ports: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ports.append(writer.get_extra_info("peername")[1])
        while request := await read_request(reader):
            if request.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")  # the length a GET would get
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()

    async with raw_server(handle) as url, httpx.AsyncClient(transport=Http11Transport()) as http:
        async with asyncio.timeout(2):
            assert (await http.head(f"{url}/h")).headers["Content-Length"] == "1000"
            assert (await http.get(f"{url}/a")).content == b"ok"
            assert (await http.get(f"{url}/b")).content == b"ok"
    assert len(ports) == 3  # neither a HEAD's connection nor one the server closes is used again


@pytest.mark.asyncio
async def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()

    async with raw_server(handle) as url:
        async with httpx.AsyncClient(transport=Http11Transport()) as http:
            with pytest.raises(httpx.RemoteProtocolError, match=r"not an HTTP/1\.1 answer"):
                await http.get(url)
        async with client_of(url, retry=ONCE) as client:
            with pytest.raises(UpstreamUnavailable, match="RemoteProtocolError"):
                await client.get_json("/x")


@pytest.mark.asyncio
async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(upstream: Upstream) -> None:
    async with httpx.AsyncClient(transport=Http11Transport()) as http:
        for value in ("a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"):
            request = http.build_request("GET", f"{upstream.url}/echo", headers={"X-Note": value})
            with pytest.raises(httpx.LocalProtocolError):
                await http.send(request)
        assert (await http.get(f"{upstream.url}/echo")).status_code == 200
    assert len(upstream.seen) == 1


@pytest.mark.asyncio
async def test_a_download_read_slowly_is_held_back_and_arrives_whole(upstream: Upstream) -> None:
    async with client_of(upstream.url, max_connections=1) as client:
        download = await client.stream("/big")
        await asyncio.sleep(0.3)  # the server has written all it could: reading paused at the high water
        async with asyncio.timeout(5):  # reading resumes as the body is taken
            received = b"".join([chunk async for chunk in download.chunks])
        await download.chunks.aclose()
        assert received == BIG
        assert await client.get_json("/echo") == {"method": "GET", "size": 0}
    big, after = upstream.seen
    assert after.peer_port == big.peer_port


@pytest.mark.asyncio
async def test_an_answer_nobody_asked_for_closes_the_connection_and_leaves_the_answer_alone() -> None:
    ports: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ports.append(writer.get_extra_info("peername")[1])
        while await read_request(reader):
            # the answer, then a second one in the same write
            writer.write(b"HTTP/1.1 200 OK\r\nX-Part: one\r\nContent-Length: 2\r\n\r\nok")
            writer.write(b"HTTP/1.1 500 Oops\r\nX-Part: two\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    async with raw_server(handle) as url, httpx.AsyncClient(transport=Http11Transport()) as http:
        first = await http.get(f"{url}/a")
        second = await http.get(f"{url}/b")
    for response in (first, second):
        assert (response.status_code, response.content) == (200, b"ok")
        assert response.headers.get_list("X-Part") == ["one"]
    assert len(ports) == 2  # the first connection was not used again
