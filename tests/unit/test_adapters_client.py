"""UpstreamClient: error mapping, retries, Retry-After, the per-attempt deadline, the circuit breaker."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from adapters.errors import (
    UpstreamConflict,
    UpstreamError,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from adapters.http import (
    CircuitBreaker,
    NoCookiesClient,
    RetryPolicy,
    Timeouts,
    UpstreamClient,
    _url_parts,
    chunked,
    unique,
)
from adapters.resilience import retry_after_seconds
from tests.unit.adapter_fakes import FAST_RETRY, make_client, no_sleep


class Counter:
    """A handler answering a fixed sequence of responses (the last one repeats), counting requests."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.responses)) - 1
        return self.responses[index]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


OK = httpx.Response(200, json={"ok": True})
UNAVAILABLE = httpx.Response(503, json={"error": "unavailable"})


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error", "detail"),
    [
        (404, UpstreamNotFound, "no such invoice"),
        (409, UpstreamConflict, "conflict"),
        (400, UpstreamRejected, "bad limit"),
        (422, UpstreamRejected, "bad cursor"),
        (500, UpstreamUnavailable, "GET /x: HTTP 500"),
        (502, UpstreamUnavailable, "GET /x: HTTP 502"),
        (503, UpstreamUnavailable, "GET /x: HTTP 503"),
        (504, UpstreamUnavailable, "GET /x: HTTP 504"),
        (401, UpstreamUnavailable, "GET /x: HTTP 401"),
        (302, UpstreamUnavailable, "GET /x: HTTP 302"),
    ],
)
async def test_status_maps_to_error(status: int, error: type[UpstreamError], detail: str) -> None:
    body = {"error": "x", "detail": detail} if status in (400, 404, 422) else {"error": detail}
    handler = Counter(httpx.Response(status, json=body))
    async with make_client(handler) as client:
        with pytest.raises(error) as caught:
            await client.get_json("/x")
    assert type(caught.value) is error
    assert caught.value.detail == detail
    assert caught.value.system == "billing"


@pytest.mark.asyncio
async def test_rejected_detail_is_kept_short() -> None:
    handler = Counter(httpx.Response(422, json={"error": "invalid_request", "detail": "x" * 5000}))
    async with make_client(handler) as client:
        with pytest.raises(UpstreamRejected) as caught:
            await client.get_json("/x")
    assert len(caught.value.detail) <= 200


@pytest.mark.asyncio
async def test_error_messages_hold_no_url_or_secret() -> None:
    handler = Counter(httpx.Response(503))
    client = UpstreamClient(
        "billing", "https://user:s3cret@billing.test/api?token=s3cret", transport=httpx.MockTransport(handler)
    )
    client.retry = FAST_RETRY
    async with client:
        with pytest.raises(UpstreamUnavailable) as caught:
            await client.get_json("/invoices", {"ids": "a"})
    assert "s3cret" not in str(caught.value) and "http" not in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.asyncio
async def test_invalid_json_is_unavailable() -> None:
    async with make_client(Counter(httpx.Response(200, content=b"<html>"))) as client:
        with pytest.raises(UpstreamUnavailable, match="invalid JSON"):
            await client.get_json("/x")


@pytest.mark.asyncio
async def test_transport_error_is_unavailable_and_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    async with make_client(handler) as client:
        with pytest.raises(UpstreamUnavailable, match="ConnectError"):
            await client.get_json("/x")
    assert calls == 3


@pytest.mark.asyncio
async def test_get_retries_503_then_succeeds() -> None:
    handler = Counter(UNAVAILABLE, UNAVAILABLE, OK)
    async with make_client(handler) as client:
        assert await client.get_json("/x") == {"ok": True}
        assert client.calls == 3
    assert len(handler.requests) == 3


@pytest.mark.asyncio
async def test_get_gives_up_after_the_attempts() -> None:
    handler = Counter(UNAVAILABLE)
    async with make_client(handler, retry=RetryPolicy(attempts=4, base_delay=0.0, sleep=no_sleep)) as client:
        with pytest.raises(UpstreamUnavailable):
            await client.get_json("/x")
    assert len(handler.requests) == 4


@pytest.mark.asyncio
async def test_no_retry_on_404_or_500() -> None:
    for status in (404, 500):
        handler = Counter(httpx.Response(status))
        async with make_client(handler) as client:
            with pytest.raises(UpstreamError):
                await client.get_json("/x")
        assert len(handler.requests) == 1


@pytest.mark.asyncio
async def test_post_is_never_retried_and_sends_key_and_decimal() -> None:
    handler = Counter(UNAVAILABLE, OK)
    async with make_client(handler) as client:
        with pytest.raises(UpstreamUnavailable):
            await client.post_json("/payments", {"amount": Decimal("1.50")}, idempotency_key="k-1")
    assert len(handler.requests) == 1
    request = handler.requests[0]
    assert request.method == "POST"
    assert request.headers["Idempotency-Key"] == "k-1"
    assert request.content == b'{"amount":"1.50"}'


@pytest.mark.asyncio
async def test_retry_after_is_honoured_up_to_max_delay() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    handler = Counter(
        httpx.Response(503, headers={"Retry-After": "0.3"}),
        httpx.Response(503, headers={"Retry-After": "120"}),
        OK,
    )
    retry = RetryPolicy(base_delay=0.0, max_delay=0.5, sleep=sleep)
    async with make_client(handler, retry=retry) as client:
        assert await client.get_json("/x") == {"ok": True}
    assert waits == [0.3, 0.5]


@pytest.mark.asyncio
async def test_retry_after_really_waits_bounded() -> None:
    handler = Counter(httpx.Response(503, headers={"Retry-After": "30"}), OK)
    started = time.monotonic()
    async with make_client(handler, retry=RetryPolicy(max_delay=0.05)) as client:
        assert await client.get_json("/x") == {"ok": True}
    assert 0.04 <= time.monotonic() - started < 1.0


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=0.35, jitter=lambda low, high: high)
    assert [policy.delay(n) for n in range(4)] == [0.1, 0.2, 0.35, 0.35]
    assert RetryPolicy(base_delay=0.1, jitter=lambda low, high: low).delay(3) == 0.0


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("nan") is None
    past = retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT")
    assert past is not None and past < 0


@pytest.mark.asyncio
async def test_slow_upstream_hits_the_per_attempt_deadline() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return OK

    timeouts = Timeouts(total=0.05)
    started = time.monotonic()
    async with make_client(
        handler, timeouts=timeouts, retry=RetryPolicy(attempts=2, base_delay=0.0)
    ) as client:
        with pytest.raises(UpstreamUnavailable, match="timed out"):
            await client.get_json("/x")
        assert client.calls == 2
    assert time.monotonic() - started < 1.0


@pytest.mark.asyncio
async def test_deadline_is_per_attempt_not_per_call() -> None:
    slow_first = True

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal slow_first
        await asyncio.sleep(0.04)
        if slow_first:
            slow_first = False
            return UNAVAILABLE
        return OK

    # Two attempts of 0.04 s each exceed 0.06 s together but each fits.
    async with make_client(handler, timeouts=Timeouts(total=0.06)) as client:
        assert await client.get_json("/x") == {"ok": True}


@pytest.mark.asyncio
async def test_httpx_timeout_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with make_client(handler, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(UpstreamUnavailable, match="timed out"):
            await client.get_json("/x")


@pytest.mark.asyncio
async def test_breaker_opens_then_half_opens_then_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10.0, clock=clock)
    handler = Counter(UNAVAILABLE)
    async with make_client(handler, breaker=breaker, retry=RetryPolicy(attempts=1)) as client:
        for _ in range(2):
            with pytest.raises(UpstreamUnavailable, match="HTTP 503"):
                await client.get_json("/x")
        assert breaker.state == "open"
        with pytest.raises(UpstreamUnavailable, match="circuit open"):
            await client.get_json("/x")
        assert len(handler.requests) == 2

        clock.now += 10.0
        assert breaker.state == "half_open"
        with pytest.raises(UpstreamUnavailable, match="HTTP 503"):
            await client.get_json("/x")  # the trial fails: open again
        assert breaker.state == "open"
        assert len(handler.requests) == 3

        clock.now += 10.0
        handler.responses = [OK]
        assert await client.get_json("/x") == {"ok": True}
        assert breaker.state == "closed"


@pytest.mark.asyncio
async def test_a_trial_call_that_ends_without_a_verdict_frees_the_slot_and_a_404_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    started = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/slow"):
            started.set()
            await asyncio.sleep(60)
        return httpx.Response(404, json={"detail": "no such client"})

    async with make_client(handler, breaker=breaker, retry=RetryPolicy(attempts=1)) as client:
        breaker.record_failure()
        clock.now += 1.0  # half-open: one trial may go
        trial = asyncio.create_task(client.get_json("/slow"))
        await started.wait()
        with pytest.raises(UpstreamUnavailable, match="circuit open"):
            await client.get_json("/x")  # the trial is running
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        assert breaker.state == "half_open"
        with pytest.raises(UpstreamNotFound):
            await client.get_json("/x")  # the next trial: an answer, if not the one hoped for
        assert breaker.state == "closed"


def test_half_open_lets_only_one_trial_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()
    assert not breaker.allow()
    breaker.release()
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


@pytest.mark.asyncio
async def test_breaker_ignores_not_found_and_rejected() -> None:
    breaker = CircuitBreaker(failure_threshold=1)
    handler = Counter(httpx.Response(404), httpx.Response(422))
    async with make_client(handler, breaker=breaker) as client:
        for error in (UpstreamNotFound, UpstreamRejected):
            with pytest.raises(error):
                await client.get_json("/x")
    assert breaker.state == "closed"


@pytest.mark.asyncio
async def test_request_basics_counter_and_hook() -> None:
    seen: list[tuple[str, str, str]] = []
    handler = Counter(OK)
    client = make_client(handler)
    client.on_request = lambda system, method, path: seen.append((system, method, path))
    async with client:
        await client.get_json("/invoices", {"status": None, "limit": 5, "client_ids": "K1,K2"})
    request = handler.requests[0]
    assert request.headers["User-Agent"] == "esakari-gateway/0.1"
    assert request.url.path == "/sandbox/system/invoices"
    assert dict(request.url.params) == {"limit": "5", "client_ids": "K1,K2"}
    assert seen == [("billing", "GET", "/invoices")] and client.calls == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path", "params", "content", "headers"),
    [
        ("GET", "/invoices", {"client_ids": "K1,K2,K3", "first": 20, "after": "Y3Vyc29yOjIw"}, None, None),
        ("GET", "/clients", {"ids": "K 1,Ā/2?&=#%,ü"}, None, None),  # what httpx escapes, escaped the same
        ("GET", "/documents/D%2F1/content", None, None, {"Accept": "*/*", "Accept-Encoding": "identity"}),
        (
            "POST",
            "/applications",
            None,
            b'{"a":1}',
            {"Content-Type": "application/json", "Idempotency-Key": "k"},
        ),
        ("GET", "health", None, None, None),
    ],
)
async def test_requests_are_what_httpx_would_build(
    method: str,
    path: str,
    params: dict[str, str | int] | None,
    content: bytes | None,
    headers: dict[str, str] | None,
) -> None:
    async with make_client(Counter(OK)) as client:
        ours = client._request(method, path, params, content, headers)
        theirs = client._http.build_request(method, path, params=params, content=content, headers=headers)
    assert ours.method == theirs.method
    assert (
        ours.url.path == theirs.url.path
        and ours.url.raw_path.split(b"?")[0] == theirs.url.raw_path.split(b"?")[0]
    )
    assert ours.url.params == theirs.url.params  # the same values once decoded; commas may stay unescaped
    assert ours.headers.multi_items() == theirs.headers.multi_items()
    assert ours.extensions == theirs.extensions
    assert ours.content == theirs.content


@pytest.mark.asyncio
async def test_a_cookie_an_upstream_sets_is_neither_kept_nor_sent() -> None:
    handler = Counter(httpx.Response(200, json={}, headers={"Set-Cookie": "session=anna; Path=/"}), OK)
    async with make_client(handler) as client:
        await client.get_json("/clients", {"ids": "K1"})
        await client.get_json("/clients", {"ids": "K2"})
        assert list(client._http.cookies.jar) == []
    assert "cookie" not in handler.requests[1].headers


@pytest.mark.asyncio
async def test_the_client_keeps_no_cookie_it_is_given_or_set() -> None:
    handler = Counter(httpx.Response(200, headers={"Set-Cookie": "session=anna; Path=/"}))
    transport = httpx.MockTransport(handler)
    async with NoCookiesClient(base_url="http://b.test", transport=transport, cookies={"a": "1"}) as http:
        http.cookies = {"b": "2"}
        http.cookies.set("c", "3")
        http.cookies["d"] = "4"
        await http.get("/x")
        await http.get("/y")
        assert not http.cookies and list(http.cookies.jar) == []
    assert all("cookie" not in request.headers for request in handler.requests)


@pytest.mark.asyncio
async def test_an_answer_read_whole_is_freed_when_its_last_reference_goes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})  # a new one each time, held by nothing here

    async with NoCookiesClient(base_url="http://b.test", transport=httpx.MockTransport(handler)) as http:
        gc.disable()  # only reference counting may free it
        try:
            response = await http.get("/x")
            assert response.json() == {"items": []}
            answer = weakref.ref(response)
            del response
            assert answer() is None
        finally:
            gc.enable()


BASES = ["http://b.test", "http://127.0.0.1:8101/", "https://b.test:8443/sandbox/system/"]
PATHS = [
    "/invoices",
    "health",
    "/documents/D%2F1/content",
    "/clients/K1,K2:@!$&'()*+;=-._~",
    "/a b/ā",  # needs quoting: httpx's own parsing
    "/x/../y",  # a dot segment httpx removes: httpx's own parsing
    "/%zz",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("params", [None, {"ids": "K 1,Ā/2?&=#%,ü", "first": 20}])
def test_url_for_is_the_url_httpx_parses(base: str, path: str, params: dict[str, str | int] | None) -> None:
    client = NoCookiesClient(base_url=base, transport=httpx.MockTransport(Counter(OK)))
    text = str(client.base_url).rstrip("/") + (path if path.startswith("/") else "/" + path)
    if params:
        text += "?" + urlencode(params, safe=",")
    ours, theirs = client.url_for(path, params), httpx.URL(text)
    assert _url_parts(client.base_url) is not None  # so plain paths take the short way here
    # every part, so every property of the two is the same
    assert ours._uri_reference == theirs._uri_reference and ours == theirs


@pytest.mark.asyncio
async def test_a_request_goes_straight_to_the_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Chunks(httpx.AsyncByteStream):
        closed = False

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"ok":'
            yield b"true}"

        async def aclose(self) -> None:
            self.closed = True

    async def not_through_httpx(*args: object, **kwargs: object) -> None:
        raise AssertionError("sent through AsyncClient.send")

    monkeypatch.setattr(httpx.AsyncClient, "send", not_through_httpx)
    handler, chunks = Counter(OK), Chunks()
    async with NoCookiesClient(
        base_url="http://b.test", transport=httpx.MockTransport(handler), timeout=7
    ) as http:
        request = httpx.Request("GET", http.url_for("/x", {"a": 1}))
        response = await http.send(request)
        assert response.request is request and response.json() == {"ok": True}
        assert handler.requests[0].extensions["timeout"] == httpx.Timeout(7).as_dict()
        own = httpx.Request("GET", "http://b.test/y", extensions={"timeout": {"read": 1}})
        await http.send(own)
        assert handler.requests[1].extensions["timeout"] == {"read": 1}
        handler.responses.append(httpx.Response(200, stream=chunks))
        streamed = await http.send(httpx.Request("GET", "http://b.test/z"), stream=True)
        assert not streamed.is_stream_consumed and not chunks.closed
        assert await streamed.aread() == b'{"ok":true}' and chunks.closed
    with pytest.raises(RuntimeError, match="closed"):
        await http.send(httpx.Request("GET", "http://b.test/x"))


@pytest.mark.asyncio
async def test_a_transport_error_names_the_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")  # no request given, as a transport may do

    async with NoCookiesClient(base_url="http://b.test", transport=httpx.MockTransport(handler)) as http:
        request = httpx.Request("GET", "http://b.test/x")
        with pytest.raises(httpx.ConnectError) as caught:
            await http.send(request)
    assert caught.value.request is request


@pytest.mark.asyncio
async def test_what_the_client_has_to_do_still_goes_through_httpx() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/here":
            return httpx.Response(302, headers={"Location": "/there"})
        return OK

    requests: list[httpx.Request] = []
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async with NoCookiesClient(base_url="http://b.test", transport=httpx.MockTransport(handler)) as http:
        redirected = await http.get("/here")
        assert redirected.status_code == 302  # not followed
        http.event_hooks = {"request": [hook]}
        http.follow_redirects = True
        http.auth = ("anna", "secret")
        followed = await http.get("/here")
        assert followed.json() == {"ok": True} and seen == ["/here", "/there"]
        assert requests[-1].headers["Authorization"].startswith("Basic ")
    async with NoCookiesClient(base_url="http://b.test", transport=httpx.MockTransport(handler)) as http:
        await http.send(httpx.Request("GET", "http://jan:pw@b.test/named"))
        assert requests[-1].headers["Authorization"].startswith("Basic ")
        await http.send(httpx.Request("GET", "http://b.test/plain"))
        assert "Authorization" not in requests[-1].headers and seen == ["/here", "/there"]


@pytest.mark.parametrize(
    "setting", [{"mounts": {"http://": None}}, {"proxy": "http://p.test"}, {"trust_env": True}]
)
def test_the_client_takes_no_other_transport(setting: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="NoCookiesClient takes no"):
        NoCookiesClient(base_url="http://b.test", transport=httpx.MockTransport(Counter(OK)), **setting)


@pytest.mark.asyncio
async def test_ping() -> None:
    async with make_client(Counter(httpx.Response(200, json={"status": "ok"}))) as client:
        await client.ping()
    for response in (httpx.Response(404), httpx.Response(200, json={"status": "degraded"})):
        async with make_client(Counter(response)) as client:
            with pytest.raises(UpstreamUnavailable):
                await client.ping()


def test_unique_and_chunked() -> None:
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    keys = [str(n) for n in range(1001)]
    assert [len(chunk) for chunk in chunked(keys)] == [500, 500, 1]
    assert chunked([]) == []


@pytest.mark.asyncio
async def test_deadline_holds_for_asgi_transport() -> None:
    async def slow_app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        await asyncio.sleep(5)

    client = UpstreamClient(
        "permits",
        "http://permits.test",
        transport=httpx.ASGITransport(app=slow_app),
        timeouts=Timeouts(total=0.05),
        retry=RetryPolicy(attempts=1),
    )
    started = time.monotonic()
    async with client:
        with pytest.raises(UpstreamUnavailable, match="timed out"):
            await client.get_json("/permits", {"ids": "P1"})
    assert time.monotonic() - started < 1.0
