"""A streamed httpx response body handed on as an async iterator of bytes (``UpstreamClient.stream``)."""

from __future__ import annotations

import httpx

from adapters.errors import UpstreamUnavailable


class ResponseChunks:
    """A streamed response body as an async iterator; closes the response when done or on ``aclose``."""

    def __init__(self, system: str, response: httpx.Response) -> None:
        self._system = system
        self._response = response
        self._bytes = response.aiter_bytes()
        self._closed = False

    def __aiter__(self) -> ResponseChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await self._bytes.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except (httpx.HTTPError, httpx.StreamError) as exc:
            await self.aclose()
            raise UpstreamUnavailable(self._system, f"download broke off: {type(exc).__name__}") from None
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Release the connection; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._bytes, "aclose", None)
            if close is not None:
                await close()
        finally:
            await self._response.aclose()
