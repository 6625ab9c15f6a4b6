"""Fetching feeds over HTTP the way careful feed readers do.

- Conditional GET with the stored ETag and Last-Modified; a 304, or a 200
  carrying the ETag we sent, means "unchanged".
- gzip, deflate and brotli, decoded here with a cap on the decoded size.
- Our own connect timeout and a total deadline over every hop and the body.
- A limit on polls in flight (``slot``) and on requests in flight per host.
- Redirects followed by us, a few hops at most, every hop checked against
  the address policy (``netpolicy``), and the address connected to checked
  again before anything is sent; the result says whether every hop was
  permanent, so the caller can move a source's URL after repeated 301/308s.
- 410, 429/503 (with Retry-After) and other failures raised as distinct
  exceptions, so the health policy can treat them differently.
"""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from yuqing_core.allowlist import AllowedNetwork
from yuqing_core.collect.decode import BodyTooLarge, BoundedDecoder, DecodingFailed, UnsupportedEncoding
from yuqing_core.collect.netpolicy import BlockedAddress, PolicyNetworkBackend, check_peer, check_url
from yuqing_core.config import Settings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})
RATE_LIMIT_STATUSES = frozenset({429, 503})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
ACCEPT_ENCODING = "gzip, deflate, br"


@dataclass(frozen=True)
class FetchResult:
    """What a successful poll brought back."""

    url: str
    final_url: str
    http_status: int
    not_modified: bool
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # The final URL when every redirect hop was permanent (301/308), else None.
    permanent_redirect: str | None = None
    bytes_read: int = 0


class FetchError(Exception):
    """A poll that did not bring a feed back. ``kind`` says what went wrong."""

    kind = "error"

    def __init__(self, message: str, *, http_status: int | None = None, final_url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.final_url = final_url


class HTTPStatusFailure(FetchError):
    kind = "http"


class Gone(FetchError):
    """410: the publisher says the feed is gone for good."""

    kind = "gone"


class RateLimited(FetchError):
    """429 or 503 with a Retry-After: come back no sooner than ``retry_after_s``."""

    kind = "rate_limited"

    def __init__(
        self, message: str, *, retry_after_s: float, http_status: int | None = None, final_url: str | None = None
    ) -> None:
        super().__init__(message, http_status=http_status, final_url=final_url)
        self.retry_after_s = retry_after_s


class FetchTimeout(FetchError):
    kind = "timeout"


class NetworkFailure(FetchError):
    kind = "network"


class RedirectFailure(FetchError):
    kind = "redirect"


class PolicyRefused(FetchError):
    kind = "blocked"


class ContentFailure(FetchError):
    """Too large, or an encoding we cannot or could not decode."""

    kind = "content"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date).

    >>> parse_retry_after("120")
    120.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", datetime(2015, 10, 21, 7, 27, tzinfo=UTC))
    60.0
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class PolicyTransport(httpx.AsyncHTTPTransport):
    """httpx's default transport, connecting through ``PolicyNetworkBackend``.

    ``httpx.AsyncHTTPTransport`` takes no network backend (encode/httpx#3749 proposes one), so
    this builds the same ``httpcore.AsyncConnectionPool`` it would, with the backend added. The
    options are those the client's default transport gets here: certificate checks on, no
    proxy and no environment (``trust_env=False``), HTTP/1.1 only, the client's limits.
    """

    def __init__(self, allowed: tuple[AllowedNetwork, ...], limits: httpx.Limits) -> None:
        # Not calling super().__init__: it would build a pool (and an SSL context) only to drop it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=PolicyNetworkBackend(allowed),
        )


class Fetcher:
    """An HTTP client for feeds, shared by the fetches of one collect run.

    Example::

        async with Fetcher(settings) as fetcher:
            result = await fetcher.fetch(url, etag=source.etag, last_modified=source.last_modified)
    """

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        total = settings.fetch_total_timeout_s
        limits = httpx.Limits(
            max_connections=settings.fetch_concurrency * 2, max_keepalive_connections=settings.fetch_concurrency
        )
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=settings.fetch_connect_timeout_s, read=total, write=total, pool=total),
            follow_redirects=False,
            trust_env=False,
            transport=transport or PolicyTransport(settings.fetch_allowed_networks, limits),
            headers={"User-Agent": settings.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        )
        self._in_flight = asyncio.Semaphore(settings.fetch_concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.fetch_per_host_concurrency)
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One of the ``fetch_concurrency`` places for a whole poll (fetch, parse, store).

        Holding it around the whole poll, not just the HTTP exchange, also
        bounds how many fetched bodies sit in memory waiting to be parsed.
        """
        async with self._in_flight:
            yield

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """Poll ``url`` once; raise a ``FetchError`` subclass if no feed came back."""
        total = self.settings.fetch_total_timeout_s
        try:
            async with asyncio.timeout(total):
                return await self._follow(url, etag=etag, last_modified=last_modified)
        except TimeoutError as exc:
            raise FetchTimeout(f"超过总时限 {total:g} 秒") from exc

    async def _follow(self, url: str, *, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        visited = {url}
        all_permanent = True
        for _hop in range(self.settings.fetch_max_redirects + 1):
            try:
                await check_url(current, self.settings.fetch_allowed_networks)
            except BlockedAddress as exc:
                raise PolicyRefused(str(exc), final_url=current) from exc
            except socket.gaierror as exc:
                raise NetworkFailure(f"无法解析主机名：{exc.strerror}", final_url=current) from exc
            host = urlsplit(current).hostname or ""
            async with self._per_host[host]:
                outcome = await self._request(current, headers, etag=etag)
            if isinstance(outcome, FetchResult):
                if current == url:
                    return outcome
                permanent = outcome.final_url if all_permanent else None
                return replace(outcome, url=url, permanent_redirect=permanent)
            status, location = outcome
            all_permanent = all_permanent and status in PERMANENT_REDIRECT_STATUSES
            next_url = urljoin(current, location)
            if next_url in visited:
                raise RedirectFailure(f"重定向循环：{next_url}", http_status=status, final_url=current)
            visited.add(next_url)
            current = next_url
        raise RedirectFailure(f"重定向超过 {self.settings.fetch_max_redirects} 次", http_status=status, final_url=current)

    async def _request(self, url: str, headers: dict[str, str], *, etag: str | None) -> FetchResult | tuple[int, str]:
        """One HTTP exchange: a result, or ``(status, location)`` for a redirect."""
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
        except BlockedAddress as exc:  # refused by the network backend, before the request was sent
            raise PolicyRefused(str(exc), final_url=url) from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"连接或读取超时（{type(exc).__name__}）", final_url=url) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise NetworkFailure(f"地址无效：{exc}", final_url=url) from exc
        except httpx.HTTPError as exc:
            raise NetworkFailure(f"网络错误：{type(exc).__name__} {exc}".strip(), final_url=url) from exc
        try:
            try:
                check_peer(*_peer(response), self.settings.fetch_allowed_networks)
            except BlockedAddress as exc:
                raise PolicyRefused(str(exc), final_url=url) from exc
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise RedirectFailure(f"HTTP {status} 重定向缺少 Location", http_status=status, final_url=url)
                return status, location
            if status == 304:
                # A 304 has no body, but httpcore hands the connection back to the pool only once
                # the response has been read to its end; closed unread, it is closed for good, and
                # re-polling unchanged feeds paid a new connection each (1,000 connects for 1,000
                # feeds on 8 hosts, against 16 for a client that reads).
                await response.aread()
                return FetchResult(url=url, final_url=url, http_status=304, not_modified=True)
            if 200 <= status < 300 and status != 204:
                return await self._read(response, url, sent_etag=etag)
            raise _status_failure(response, url)
        finally:
            await response.aclose()

    async def _read(self, response: httpx.Response, url: str, *, sent_etag: str | None) -> FetchResult:
        etag = response.headers.get("etag")
        common = {
            "url": url,
            "final_url": url,
            "http_status": response.status_code,
            "etag": etag,
            "last_modified": response.headers.get("last-modified"),
        }
        if sent_etag and etag and etag == sent_etag:
            return FetchResult(not_modified=True, **common)
        limit = self.settings.fetch_max_body_bytes
        try:
            decoder = BoundedDecoder(response.headers.get("content-encoding"), limit)
            declared = response.headers.get("content-length", "")
            if decoder.encoding == "identity" and declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(limit)
            raw_bytes = 0
            async for chunk in response.aiter_raw():
                raw_bytes += len(chunk)
                decoder.feed(chunk)
            body = decoder.finish()
        except (BodyTooLarge, UnsupportedEncoding, DecodingFailed) as exc:
            raise ContentFailure(str(exc), http_status=response.status_code, final_url=url) from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"读取内容超时（{type(exc).__name__}）", final_url=url) from exc
        except httpx.HTTPError as exc:
            raise NetworkFailure(f"读取内容失败：{type(exc).__name__} {exc}".strip(), final_url=url) from exc
        return FetchResult(
            not_modified=False,
            body=body,
            content_type=response.headers.get("content-type"),
            bytes_read=raw_bytes,
            **common,
        )


def _status_failure(response: httpx.Response, url: str) -> FetchError:
    status = response.status_code
    if status == 410:
        return Gone("HTTP 410：订阅源已被发布方永久删除", http_status=status, final_url=url)
    if status in RATE_LIMIT_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            return RateLimited(
                f"HTTP {status}：服务器要求 {retry_after:.0f} 秒后再试",
                retry_after_s=retry_after,
                http_status=status,
                final_url=url,
            )
    reason = response.reason_phrase or ""
    return HTTPStatusFailure(f"HTTP {status} {reason}".strip(), http_status=status, final_url=url)


def _peer(response: httpx.Response) -> tuple[str | None, int | None]:
    """The address and port the response came from, when the transport tells."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None, None
    server_addr = stream.get_extra_info("server_addr")
    if isinstance(server_addr, tuple) and len(server_addr) >= 2:
        return str(server_addr[0]), int(server_addr[1])
    return None, None
