"""HttpDocuments: metadata, lists by owner and permit, and streaming the bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from adapters.documents.http import HttpDocuments
from adapters.documents.port import DocumentsPort
from adapters.errors import UpstreamNotFound, UpstreamUnavailable
from tests.unit.adapter_fakes import DOCUMENT, FakeUpstream, Handler, make_client, variant


def documents(handler: Handler) -> HttpDocuments:
    adapter: DocumentsPort = HttpDocuments(make_client(handler, system="documents"))
    assert isinstance(adapter, HttpDocuments)
    return adapter


@pytest.mark.asyncio
async def test_documents_by_ids_pages_and_by_permit() -> None:
    upstream = FakeUpstream({"/documents": [DOCUMENT, variant(DOCUMENT, id="D2", permit_id=None)]})
    adapter = documents(upstream)
    found = await adapter.documents_by_ids(["D1", "D3"])
    assert list(found) == ["D1"]
    assert found["D1"].size_bytes == 1234
    assert found["D1"].created_at == datetime(2026, 1, 15, 9, tzinfo=timezone(timedelta(hours=2)))
    pages = await adapter.document_pages(["K100001"], kind="INVOICE", limit=1, after=None)
    assert pages["K100001"].total == 2 and pages["K100001"].cursors == ("c:D1",)
    assert upstream.params() == {"owner_ids": "K100001", "kind": "INVOICE", "limit": "1"}
    by_permit = await adapter.documents_by_permit_ids(["P1", "P9"])
    assert [d.id for d in by_permit["P1"]] == ["D1"] and by_permit["P9"] == ()


class Body(httpx.AsyncByteStream):
    """A response body that records whether it was closed."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.asyncio
async def test_open_content_streams_and_closes_at_the_end() -> None:
    body = Body(b"%PDF-", b"1.7")
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        headers = {"Content-Type": "application/pdf", "Content-Length": "8"}
        return httpx.Response(200, headers=headers, stream=body)

    content = await documents(handler).open_content("D1/../x")
    assert content.media_type == "application/pdf" and content.size_bytes == 8
    assert [chunk async for chunk in content.chunks] == [b"%PDF-", b"1.7"]
    assert body.closed
    assert requests[0].url.raw_path == b"/sandbox/system/documents/D1%2F..%2Fx/content"
    await content.aclose()


@pytest.mark.asyncio
async def test_open_content_aclose_before_reading_releases_the_response() -> None:
    body = Body(b"a", b"b")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/plain"}, stream=body)

    content = await documents(handler).open_content("D1")
    assert content.size_bytes is None
    await content.aclose()
    assert body.closed
    assert [chunk async for chunk in content.chunks] == []


@pytest.mark.asyncio
async def test_open_content_not_found_raises_before_returning() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "not_found", "detail": "no document D9"})

    with pytest.raises(UpstreamNotFound, match="no document D9"):
        await documents(handler).open_content("D9")


@pytest.mark.asyncio
async def test_broken_download_is_unavailable() -> None:
    class Broken(Body):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"a"
            raise httpx.ReadError("connection reset")

    body = Broken()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/plain"}, stream=body)

    content = await documents(handler).open_content("D1")
    assert await content.chunks.__anext__() == b"a"
    with pytest.raises(UpstreamUnavailable, match="ReadError"):
        await content.chunks.__anext__()
    assert body.closed


@pytest.mark.asyncio
async def test_open_content_retries_503() -> None:
    answers = [
        httpx.Response(503),
        httpx.Response(200, content=b"ok", headers={"Content-Type": "text/plain"}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    content = await documents(handler).open_content("D1")
    assert [chunk async for chunk in content.chunks] == [b"ok"]
    assert content.size_bytes == 2
