"""The httpx machinery shared by the three adapters: timeouts, retries, a circuit breaker, error mapping.

``UpstreamClient`` is the only thing here that talks HTTP. Every call goes through the same path:

1. the system's ``CircuitBreaker`` is asked first; an open breaker fails at once with no request sent;
2. each attempt runs under its own deadline (``Timeouts.total``, enforced with ``asyncio.timeout`` so it holds
   for ``httpx.ASGITransport`` too, which ignores httpx's timeouts). The deadline is per attempt on purpose:
   the backoff waits between attempts are not counted, so a call may take up to
   ``attempts * total + waits`` in the worst case;
3. idempotent requests (GET/HEAD) are retried per ``RetryPolicy`` on transport errors, timeouts,
   502/503/504;
4. the answer is mapped onto ``adapters.errors``; no httpx exception leaves this module.

``HttpAdapter`` is the base of the three system adapters and holds the batch/group helpers they share.
The policies live in ``adapters.resilience`` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.cookiejar import Cookie, CookieJar
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlencode

import httpx
import orjson

from adapters.documents.records import ContentStream
from adapters.errors import (
    UpstreamConflict,
    UpstreamError,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from adapters.paging import Page
from adapters.parse import (
    MalformedAnswer,
    R,
    Refused,
    decode,
    group_items_of,
    groups_of,
    items_of,
    owner_of,
    page_of,
    typed_groups,
    typed_items,
    typed_pages,
)
from adapters.resilience import CircuitBreaker, RetryPolicy, Timeouts, retry_after_seconds
from adapters.streaming import ResponseChunks
from adapters.transport import Http11Transport

__all__ = [
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
    "MAX_BATCH",
    "USER_AGENT",
    "CircuitBreaker",
    "HttpAdapter",
    "NoCookiesClient",
    "ResponseChunks",
    "RetryPolicy",
    "Timeouts",
    "UpstreamClient",
    "chunked",
    "path_of",
    "unique",
]

USER_AGENT = "esakari-gateway/0.1"
MAX_BATCH = 500  # the systems refuse more ids or owners than this in one request
_DETAIL_LIMIT = 200
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryPolicy()

X = TypeVar("X")
Y = TypeVar("Y")
Params = Mapping[str, str | int | None]


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    """An answer the typed reading refused, as JSON, for the generic decoding (see ``get_typed``)."""

    value: Any


class _KeepNothing(CookieJar):
    """A cookie jar that keeps nothing (whatever sets a cookie, sets it here)."""

    def set_cookie(self, cookie: Cookie) -> None:
        pass


class _NoCookies(httpx.Cookies):
    """Cookies over a jar that keeps nothing, which skip even httpx's wrapping of each answer."""

    def __init__(self) -> None:
        super().__init__(_KeepNothing())

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


_NO_COOKIES = _NoCookies()
# What NoCookiesClient refuses: any transport but the one it is given.
_REFUSED_SETTINGS = ("mounts", "proxy", "trust_env")
# A URL path needing no quoting (RFC 3986 pchar and "/"), which httpx leaves as it is.
_PLAIN_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


class NoCookiesClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` over one transport that keeps no cookies and sends each request straight to
    its transport (``send``); ``url_for`` builds a request's URL without parsing it again.

    The company systems are called for many users, so nothing one answer sets may follow another user's
    call. An empty cookie jar is not enough to save the work: httpx still wraps every answer and its request
    in urllib's cookie objects (parsing the URL once more) before the jar ignores them, about 40 µs of the
    CPU of a call (``bench/README.md``, session 5). Here the client's cookies are one set that stays empty
    and takes nothing from an answer.

    The transport must be given, and proxies (``mounts``, ``proxy``, the environment's) are refused
    (``TypeError``): every request goes to that one transport.
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        refused = sorted(name for name in _REFUSED_SETTINGS if kwargs.get(name))
        if refused:
            raise TypeError(f"NoCookiesClient takes no {', '.join(refused)}")
        kwargs["trust_env"] = False
        super().__init__(transport=transport, **kwargs)
        self._only_transport = transport
        self._parsed_base: tuple[httpx.URL, Any] | None = None

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        pass  # httpx's constructor sets the cookies it is given; there are none to keep

    def url_for(self, path: str, params: Mapping[str, str | int] | None = None) -> httpx.URL:
        """``base_url`` + ``path`` (its leading "/" optional) + ``params`` as a query, commas unescaped.

        ``httpx.URL(string)`` checks and quotes every character of the string again: 17 µs for a short URL,
        about half of building a request. A path of characters that need no quoting is set here beside the
        base URL's parsed parts instead (``_url_parts``); anything else is parsed by httpx, as before.
        ``tests/unit/test_adapters_client.py`` checks that the two give the same URL.
        """
        base = self.base_url
        if self._parsed_base is None or self._parsed_base[0] is not base:
            self._parsed_base = (base, _url_parts(base))
        parts = self._parsed_base[1]
        query = urlencode(params, safe=",") if params else None
        if parts is not None:
            joined = parts.path.rstrip("/") + (path if path.startswith("/") else "/" + path)
            if _PLAIN_PATH.fullmatch(joined) and "/." not in joined:
                url = httpx.URL.__new__(httpx.URL)
                url._uri_reference = parts._replace(path=joined, query=query, fragment=None)
                return url
        text = str(base).rstrip("/") + (path if path.startswith("/") else "/" + path)
        return httpx.URL(text + "?" + query if query else text)

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """httpx's ``send`` without the layers this client has none of; an answer read whole holds no cycle.

        ``AsyncClient.send`` runs every request through authentication, redirect and event-hook steps (an
        async generator and three coroutines deep) before its transport, about 20 µs of a call's 165
        (``python -m bench.http_client``). When none of them has anything to do (no authentication, no user
        name in the URL, no event hooks, redirects not followed, no per-call setting but the defaults), the
        request goes to the transport at once, with the client's timeouts unless it has its own; otherwise
        through httpx.

        httpx also binds a read answer's stream to the answer and the answer to the stream: a cycle that kept
        each answer (body, request, headers) for the garbage collector to find (bench/README.md, session
        12); an answer read whole gets a plain stream instead.
        """
        hooks = self.event_hooks
        if (
            any(value is not httpx.USE_CLIENT_DEFAULT for value in kwargs.values())
            or self.auth is not None
            or self.follow_redirects
            or hooks["request"]
            or hooks["response"]
            or request.url.userinfo
        ):
            response = await super().send(request, stream=stream, **kwargs)
        else:
            response = await self._send_to_transport(request, stream)
        if not stream:
            response.stream = httpx.ByteStream(response.content)
        return response

    async def _send_to_transport(self, request: httpx.Request, stream: bool) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if "timeout" not in request.extensions:
            request.extensions = {**request.extensions, "timeout": self.timeout.as_dict()}
        try:
            response = await self._only_transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx's client does for a transport that did not say
            raise
        response.request = request
        if not stream:
            await _read_whole(response)
        return response


async def _read_whole(response: httpx.Response) -> None:
    """Read an answer's body; when that fails, close the answer (its connection is not reused) and raise."""
    try:
        await response.aread()
    except BaseException:
        await response.aclose()
        raise


def _url_parts(url: httpx.URL) -> Any:
    """``url``'s parsed parts (``httpx.URL._uri_reference``, a named tuple), if this httpx keeps them where
    ``url_for`` expects them (checked on one URL); else None."""
    parts: Any = getattr(url, "_uri_reference", None)
    if not callable(getattr(parts, "_replace", None)) or not isinstance(getattr(parts, "path", None), str):
        return None
    probe = httpx.URL.__new__(httpx.URL)
    probe._uri_reference = parts._replace(path="/a,b/%C4%81", query="x=1%2C2&y=%C5%AB", fragment=None)
    expected = url.copy_with(raw_path=b"/a,b/%C4%81?x=1%2C2&y=%C5%AB", fragment=None)
    return (
        parts
        if (probe.raw_path, probe.host, probe.port) == (expected.raw_path, expected.host, expected.port)
        else None
    )


class _BreakerGuard:
    """``with client._guard:`` around each call: the client's circuit breaker is asked first (an open one
    fails the call at once) and told how the call ended. One per client, holding nothing of a call: as a
    generator-based context manager it cost a generator and a wrapper per call, 1% of a dashboard's CPU."""

    __slots__ = ("_client",)

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    def __enter__(self) -> None:
        if not self._client.breaker.allow():
            raise UpstreamUnavailable(self._client.system, "circuit open")

    def __exit__(self, kind: type[BaseException] | None, error: object, traceback: object) -> None:
        breaker = self._client.breaker
        if kind is None:
            breaker.record_success()
        elif issubclass(kind, UpstreamUnavailable):
            breaker.record_failure()
        elif issubclass(kind, UpstreamError):
            breaker.record_success()  # a 404 or 422: the system is alive
        else:
            breaker.release()  # no verdict (cancelled, a bug): the trial slot is free again


class _AttemptFailed(Exception):
    """One attempt got no HTTP answer (transport error or timeout)."""


class UpstreamClient:
    """One company system over HTTP: owns one ``httpx.AsyncClient`` (pool, timeouts, User-Agent), without
    cookies (``NoCookiesClient``).

    Without a ``transport`` it goes over ``Http11Transport`` (``adapters.transport``) with
    ``max_connections``: httpx's API and error handling over a lean pool of HTTP/1.1 connections. The
    in-process sandbox passes an ``httpx.ASGITransport`` instead, and tests an ``httpx.MockTransport``.

    ``calls`` counts the HTTP requests sent (every attempt) and ``on_request(system, method, path)`` is called
    before each, so benchmarks and tests can count upstream traffic; ``observe(outcome, seconds)`` after each
    ("ok", "4xx", "5xx", "timeout" or "failed"; the seconds to the answer's head), for the metrics.
    ``breaker=None`` gives the client a breaker of its own with default settings.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        breaker: CircuitBreaker | None = None,
        max_connections: int = 100,
        on_request: Callable[[str, str, str], None] | None = None,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self.system = system
        self.timeouts = timeouts
        self.retry = retry
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.calls = 0
        self.on_request = on_request
        self.observe = observe
        self.max_connections = max_connections
        if transport is None:
            transport = Http11Transport(max_connections=max_connections)
        self._http = NoCookiesClient(
            base_url=base_url,
            transport=transport,
            timeout=timeouts.for_httpx(),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        self._timeout = self._http.timeout.as_dict()
        self._guard = _BreakerGuard(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get_json(self, path: str, params: Params | None = None) -> Any:
        """GET ``path`` and return the decoded JSON (``None`` for an empty body); retried when it fails."""
        with self._guard:
            response = await self._exchange("GET", path, params=_clean(params))
            return self._json(response, "GET", path)

    async def get_typed(
        self, path: str, params: Params | None, typed: Callable[[bytes], X]
    ) -> X | JsonAnswer:
        """``get_json``, but the body is first read by ``typed`` (``adapters.parse.typed_*``); when that
        refuses it, the answer comes back as JSON in a ``JsonAnswer``, for the caller's generic decoding."""
        with self._guard:
            response = await self._exchange("GET", path, params=_clean(params))
            try:
                return typed(response.content)
            except Refused:
                return JsonAnswer(self._json(response, "GET", path))

    async def post_json(self, path: str, json: Any, *, idempotency_key: str | None = None) -> Any:
        """POST a JSON body (Decimal and dates as strings) and return the JSON answer; never retried."""
        return await self._send_json("POST", path, json, idempotency_key)

    async def patch_json(self, path: str, json: Any, *, idempotency_key: str | None = None) -> Any:
        """PATCH a JSON body and return the JSON answer; never retried (like ``post_json``)."""
        return await self._send_json("PATCH", path, json, idempotency_key)

    async def _send_json(self, method: str, path: str, json: Any, idempotency_key: str | None) -> Any:
        # Writes are sent once: the caller retries, with the same Idempotency-Key, if it wants to.
        headers = {"Content-Type": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        body = jsonlib.dumps(json, default=_json_default, separators=(",", ":")).encode()
        with self._guard:
            response = await self._exchange(method, path, content=body, headers=headers)
            return self._json(response, method, path)

    async def stream(self, path: str) -> ContentStream:
        """GET ``path`` as a download: returns once the headers are in; the caller must ``aclose()`` it.

        Errors (404 included) are raised before returning. The per-attempt deadline covers only the wait for
        the headers; the body is bounded by the httpx read timeout per chunk.
        """
        # identity encoding keeps Content-Length equal to the size of the bytes handed on.
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        with self._guard:
            response = await self._exchange("GET", path, headers=headers, stream=True)
        length = response.headers.get("Content-Length", "")
        return ContentStream(
            media_type=response.headers.get("Content-Type", "application/octet-stream"),
            size_bytes=int(length) if length.isdigit() else None,
            chunks=ResponseChunks(self.system, response),
        )

    async def ping(self) -> None:
        """GET /health; ``UpstreamUnavailable`` unless it answers ``{"status": "ok"}``."""
        try:
            answer = await self.get_json("/health")
        except UpstreamUnavailable:
            raise
        except UpstreamError as exc:
            raise UpstreamUnavailable(self.system, f"health check: {exc.detail}") from None
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise UpstreamUnavailable(self.system, "health check: not ok")

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        attempts = max(1, self.retry.attempts) if method in self.retry.methods else 1
        for attempt in range(attempts):
            final = attempt + 1 == attempts
            request = self._request(method, path, params, content, headers)
            try:
                response = await self._attempt(request, method, path, stream)
            except _AttemptFailed as exc:
                if final:
                    raise UpstreamUnavailable(self.system, f"{method} {path}: {exc}") from None
                await self.retry.sleep(self.retry.delay(attempt))
                continue
            if response.is_success:
                return response
            if not final and response.status_code in self.retry.statuses:
                await self.retry.sleep(
                    self.retry.delay(attempt, retry_after_seconds(response.headers.get("Retry-After")))
                )
                continue
            raise self._error(response, method, path)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        """What ``AsyncClient.build_request`` makes of these, less the cookies, with the URL from ``url_for``.

        ``build_request`` parses the URL again at each step (base URL, path, parameters), checking every
        character each time: 216 µs for a batch call with 20 ids, against 82 µs from one URL string and less
        since ``url_for``. Commas stay as they are in the query (``ids=K1,K2``), which allows them; whatever
        httpx escapes is escaped here too (``tests/unit/test_adapters_client.py`` compares the two).
        """
        url = self._http.url_for(path, params)
        merged = self._http.headers
        if headers:
            merged = httpx.Headers(merged)
            merged.update(headers)
        return httpx.Request(
            method, url, headers=merged, content=content, extensions={"timeout": self._timeout}
        )

    async def _attempt(self, request: httpx.Request, method: str, path: str, stream: bool) -> httpx.Response:
        self.calls += 1
        if self.on_request is not None:
            self.on_request(self.system, method, path)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeouts.total):
                response = await self._http.send(request, stream=stream)
                if stream and not response.is_success:
                    # An error body is small and needed for the detail; reading it also frees the connection.
                    await _read_whole(response)
        except (httpx.TimeoutException, TimeoutError):
            self._observed("timeout", started)
            raise _AttemptFailed("timed out") from None
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            self._observed("failed", started)
            raise _AttemptFailed(type(exc).__name__) from None
        status = response.status_code
        self._observed("ok" if status < 400 else f"{status // 100}xx", started)
        return response

    def _observed(self, outcome: str, started: float) -> None:
        if self.observe is not None:
            self.observe(outcome, time.perf_counter() - started)

    def _error(self, response: httpx.Response, method: str, path: str) -> UpstreamError:
        status = response.status_code
        detail = _detail_of(response) or f"HTTP {status}"
        if status == 404:
            return UpstreamNotFound(self.system, detail)
        if status == 409:
            return UpstreamConflict(self.system, detail)
        if 400 <= status < 500 and status not in (401, 403, 407, 429):
            return UpstreamRejected(self.system, detail)
        # 5xx, redirects, auth and throttling: nothing the caller's input can fix.
        return UpstreamUnavailable(self.system, f"{method} {path}: HTTP {status}")

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(self.system, f"{method} {path}: invalid JSON") from None


class HttpAdapter:
    """Base of the system adapters: holds the ``UpstreamClient`` and the batch, group and list fetches."""

    def __init__(self, client: UpstreamClient) -> None:
        self.client = client

    async def ping(self) -> None:
        """Raise ``UpstreamUnavailable`` unless the system answers GET /health."""
        await self.client.ping()

    async def _by_ids(
        self, path: str, ids: Iterable[str], record: type[R], *, param: str = "ids", key: str = "id"
    ) -> dict[str, R]:
        """Records by id in the order asked, unknown ids absent; >500 ids go out as concurrent requests."""
        wanted = unique(ids)
        answers = await self._fetch_chunks(path, param, wanted, {}, lambda body: typed_items(body, record))
        found: dict[str, R] = {}
        for answer in answers:
            items = self._decoded(answer, lambda json: tuple(items_of(json, record)))
            found.update((str(getattr(item, key)), item) for item in items)
        return {id_: found[id_] for id_ in wanted if id_ in found}

    async def _pages(
        self, path: str, param: str, owners: Iterable[str], record: type[R], filters: Params
    ) -> dict[str, Page[R]]:
        """One ``Page`` per owner asked for, in order; an owner the answer leaves out gets an empty page."""
        empty: Page[R] = Page.empty()
        return await self._groups_by_owner(
            path,
            param,
            owners,
            filters,
            lambda b: typed_pages(b, record),
            lambda g: page_of(g, record),
            empty,
        )

    async def _groups(
        self, path: str, param: str, owners: Iterable[str], record: type[R]
    ) -> dict[str, tuple[R, ...]]:
        """The unpaged records of every owner asked for, in order (an empty tuple for none)."""
        return await self._groups_by_owner(
            path,
            param,
            owners,
            {},
            lambda b: typed_groups(b, record),
            lambda g: group_items_of(g, record),
            (),
        )

    async def _one(self, path: str, record: type[R]) -> R:
        """The record a single read answers (``UpstreamNotFound`` on 404)."""
        answer = await self.client.get_json(path)
        with self._decoding():
            return decode(record, answer)

    async def _lookup(self, path: str, record: type[R], params: Params) -> R | None:
        """The record of a lookup by a unique key answering ``{"items": [0 or 1 record]}``."""
        found = await self._list(path, record, params)
        return found[0] if found else None

    async def _write(
        self, method: str, path: str, body: Mapping[str, Any], record: type[R], *, idempotency_key: str
    ) -> R:
        """Send a write (POST or PATCH, once, under ``idempotency_key``) and decode the record it answers."""
        if method == "PATCH":
            answer = await self.client.patch_json(path, body, idempotency_key=idempotency_key)
        else:
            answer = await self.client.post_json(path, body, idempotency_key=idempotency_key)
        with self._decoding():
            return decode(record, answer)

    async def _list(self, path: str, record: type[R], params: Params | None = None) -> tuple[R, ...]:
        """The records of a plain ``{"items": [...]}`` answer."""
        answer = await self.client.get_typed(path, params, lambda body: typed_items(body, record))
        return self._decoded(answer, lambda json: tuple(items_of(json, record)))

    async def _groups_by_owner(
        self,
        path: str,
        param: str,
        owners: Iterable[str],
        filters: Params,
        typed: Callable[[bytes], list[tuple[str, X]]],
        read: Callable[[Mapping[str, Any]], X],
        default: X,
    ) -> dict[str, X]:
        wanted = unique(owners)
        answers = await self._fetch_chunks(path, param, wanted, filters, typed)
        found: dict[str, X] = {}
        for answer in answers:
            found.update(
                self._decoded(answer, lambda json: [(owner_of(g), read(g)) for g in groups_of(json)])
            )
        return {owner: found.get(owner, default) for owner in wanted}

    def _decoded(self, answer: Y | JsonAnswer, generic: Callable[[Any], Y]) -> Y:
        """A typed answer as it is; a ``JsonAnswer`` decoded by ``generic`` (``adapters.parse``)."""
        if not isinstance(answer, JsonAnswer):
            return answer
        with self._decoding():
            return generic(answer.value)

    async def _fetch_chunks(
        self, path: str, param: str, keys: Sequence[str], params: Params, typed: Callable[[bytes], Y]
    ) -> list[Y | JsonAnswer]:
        requests = [
            self.client.get_typed(path, {**params, param: ",".join(chunk)}, typed) for chunk in chunked(keys)
        ]
        if len(requests) == 1:  # the usual case: no task to schedule
            return [await requests[0]]
        return list(await asyncio.gather(*requests))

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except MalformedAnswer as exc:
            raise UpstreamUnavailable(
                self.client.system, f"malformed answer: {exc}"[:_DETAIL_LIMIT]
            ) from None


def path_of(template: str, *ids: str) -> str:
    """``template`` with each ``{}`` filled by an id, quoted whole so an id can never reach another path."""
    return template.format(*(quote(id_, safe="") for id_ in ids))


def unique(ids: Iterable[str]) -> list[str]:
    """The ids without repeats, first occurrence kept, order kept."""
    return list(dict.fromkeys(ids))


def chunked(keys: Sequence[str], size: int = MAX_BATCH) -> list[Sequence[str]]:
    """``keys`` cut into runs of at most ``size``."""
    return [keys[start : start + size] for start in range(0, len(keys), size)]


def _clean(params: Params | None) -> dict[str, str | int] | None:
    # httpx would send None as an empty value, which the systems read as a filter.
    if params is None:
        return None
    return {name: value for name, value in params.items() if value is not None}


def _detail_of(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    detail = body.get("detail") or body.get("error") or ""
    return str(detail)[:_DETAIL_LIMIT]


def _json_default(value: object) -> str:
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")
