"""The fetcher against a real HTTP server on 127.0.0.1: every rule about the outside world."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from email.utils import formatdate

import brotli
import pytest

from yuqing_core.collect import fetch as fetch_module
from yuqing_core.collect import netpolicy
from yuqing_core.collect.decode import BoundedDecoder
from yuqing_core.collect.fetch import (
    ContentFailure,
    Fetcher,
    FetchTimeout,
    Gone,
    HTTPStatusFailure,
    NetworkFailure,
    PolicyRefused,
    RateLimited,
    RedirectFailure,
)
from yuqing_core.config import Settings

FEED = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>青禾</title></channel></rss>'.encode()


def make_settings(**overrides) -> Settings:
    values = {"fetch_allow_private_networks": True, "fetch_total_timeout_s": 5, "fetch_connect_timeout_s": 2}
    values.update(overrides)
    return Settings(**values)


def fetch(url: str, settings: Settings | None = None, **kwargs):
    async def go():
        async with Fetcher(settings or make_settings()) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def respond(status: int, body: bytes = b"", headers: dict[str, str] | None = None):
    def handler(request) -> None:
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def redirect(status: int, location: str):
    return respond(status, headers={"Location": location})


# --- conditional GET --------------------------------------------------------------


def test_etag_round_trip(feed_server) -> None:
    route = feed_server.add("/feed.xml", FEED)
    first = fetch(feed_server.url("/feed.xml"))
    assert (first.http_status, first.not_modified, first.body, first.etag) == (200, False, FEED, route.etag)
    second = fetch(feed_server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified)
    assert (second.http_status, second.not_modified, second.body) == (304, True, b"")
    assert feed_server.request_headers["/feed.xml"][1]["If-None-Match"] == route.etag


def test_last_modified_round_trip(feed_server) -> None:
    feed_server.add("/lm.xml", FEED, etag="", last_modified=formatdate(time.time() - 3600, usegmt=True))
    first = fetch(feed_server.url("/lm.xml"))
    assert first.last_modified and not first.etag
    second = fetch(feed_server.url("/lm.xml"), last_modified=first.last_modified)
    assert second.not_modified and second.http_status == 304


def test_a_200_with_the_etag_we_sent_counts_as_unchanged(feed_server) -> None:
    feed_server.add_handler("/stubborn.xml", respond(200, FEED, {"ETag": '"same"'}))
    result = fetch(feed_server.url("/stubborn.xml"), etag='"same"')
    assert result.not_modified and result.http_status == 200


def test_identifies_itself_and_accepts_compression(feed_server) -> None:
    feed_server.add("/feed.xml", FEED)
    fetch(feed_server.url("/feed.xml"), make_settings(contact="mailto:office@qinghe.example"))
    headers = feed_server.request_headers["/feed.xml"][0]
    assert "yuqing/" in headers["User-Agent"] and "mailto:office@qinghe.example" in headers["User-Agent"]
    assert {"gzip", "br"} <= {e.strip() for e in headers["Accept-Encoding"].split(",")}


# --- compression and caps ---------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, encode",
    [("gzip", gzip.compress), ("br", brotli.compress), ("deflate", zlib.compress)],
)
def test_compressed_bodies_are_decoded(feed_server, encoding, encode) -> None:
    feed_server.add_handler("/c.xml", respond(200, encode(FEED), {"Content-Encoding": encoding}))
    assert fetch(feed_server.url("/c.xml")).body == FEED


def test_body_over_the_cap_is_refused_by_content_length(feed_server) -> None:
    feed_server.add_handler("/big.xml", respond(200, b"x" * 5000))
    with pytest.raises(ContentFailure, match="超过上限"):
        fetch(feed_server.url("/big.xml"), make_settings(fetch_max_body_bytes=4096))


def test_body_over_the_cap_without_length_stops_while_reading(feed_server) -> None:
    sent = {"bytes": 0}

    def endless(request) -> None:
        request.send_response(200)
        request.send_header("Connection", "close")
        request.end_headers()
        try:
            for _ in range(10_000):
                request.wfile.write(b"y" * 65536)
                sent["bytes"] += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass

    feed_server.add_handler("/endless.xml", endless)
    with pytest.raises(ContentFailure):
        fetch(feed_server.url("/endless.xml"), make_settings(fetch_max_body_bytes=1024 * 1024))
    assert sent["bytes"] < 100 * 1024 * 1024


def test_gzip_bomb_stops_early(feed_server, monkeypatch: pytest.MonkeyPatch) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(b"\0" * (8 << 20)) for _ in range(16)) + compressor.flush()  # 128 MiB
    feed_server.add_handler("/bomb.xml", respond(200, bomb, {"Content-Encoding": "gzip"}))
    decoders: list[BoundedDecoder] = []

    class RecordedDecoder(BoundedDecoder):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            decoders.append(self)

    monkeypatch.setattr(fetch_module, "BoundedDecoder", RecordedDecoder)
    with pytest.raises(ContentFailure, match="超过上限"):
        fetch(feed_server.url("/bomb.xml"))  # default cap: 15 MiB decoded
    # Decompression stopped one byte past the cap, not after the 128 MiB the bomb holds.
    (decoder,) = decoders
    assert decoder.size == make_settings().fetch_max_body_bytes + 1


def test_truncated_body_is_a_network_failure(feed_server) -> None:
    def truncated(request) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "10000")
        request.end_headers()
        request.wfile.write(FEED)
        request.wfile.flush()
        request.close_connection = True

    feed_server.add_handler("/cut.xml", truncated)
    with pytest.raises(NetworkFailure):
        fetch(feed_server.url("/cut.xml"))


# --- timeouts -----------------------------------------------------------------------


# What is asserted is which deadline ended the fetch (its message names the configured 1 s) while the
# server still held the answer, never how long that took: wall-clock bounds fail on a busy machine.
# httpx's own read timeout is also 1 s but starts later, once the request is sent, so ours fires first.


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so a handler holding its answer lets the server thread go."""
    event = threading.Event()
    yield event
    event.set()


def test_slow_response_hits_the_total_deadline(feed_server, release: threading.Event) -> None:
    answered = threading.Event()

    def slow(request) -> None:
        release.wait(timeout=60)
        answered.set()
        respond(200, FEED)(request)

    feed_server.add_handler("/slow.xml", slow)
    with pytest.raises(FetchTimeout, match="超过总时限 1 秒"):
        fetch(feed_server.url("/slow.xml"), make_settings(fetch_total_timeout_s=1))
    assert not answered.is_set()


def test_trickling_body_hits_the_total_deadline(feed_server, release: threading.Event) -> None:
    # A byte every 0.2 s: no single read waits long enough for a read timeout; only the total deadline ends it.
    def trickle(request) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        try:
            while not release.wait(timeout=0.2):
                request.wfile.write(b"<")
                request.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    feed_server.add_handler("/trickle.xml", trickle)
    with pytest.raises(FetchTimeout, match="超过总时限 1 秒"):
        fetch(feed_server.url("/trickle.xml"), make_settings(fetch_total_timeout_s=1))


def test_connection_refused_is_a_network_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkFailure):
        fetch(f"http://127.0.0.1:{port}/feed.xml")


# --- statuses -------------------------------------------------------------------------


def test_404_and_500_are_status_failures(feed_server) -> None:
    feed_server.add_handler("/err.xml", respond(500, b"oops"))
    with pytest.raises(HTTPStatusFailure) as caught:
        fetch(feed_server.url("/nothing.xml"))
    assert caught.value.http_status == 404
    with pytest.raises(HTTPStatusFailure) as caught:
        fetch(feed_server.url("/err.xml"))
    assert caught.value.http_status == 500 and "500" in caught.value.message


def test_410_is_gone(feed_server) -> None:
    feed_server.add_handler("/gone.xml", respond(410))
    with pytest.raises(Gone):
        fetch(feed_server.url("/gone.xml"))


def test_429_with_retry_after_seconds(feed_server) -> None:
    feed_server.add_handler("/limited.xml", respond(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as caught:
        fetch(feed_server.url("/limited.xml"))
    assert caught.value.retry_after_s == 120


def test_503_with_retry_after_date(feed_server) -> None:
    written = time.time()
    feed_server.add_handler("/busy.xml", respond(503, headers={"Retry-After": formatdate(written + 600, usegmt=True)}))
    with pytest.raises(RateLimited) as caught:
        fetch(feed_server.url("/busy.xml"))
    # The wait is the date less the time already gone by since it was written (the header has whole seconds).
    gone_by = time.time() - written
    wait = caught.value.retry_after_s
    assert 600 - gone_by - 1 <= wait <= 600


def test_503_without_retry_after_is_an_ordinary_failure(feed_server) -> None:
    feed_server.add_handler("/down.xml", respond(503))
    with pytest.raises(HTTPStatusFailure):
        fetch(feed_server.url("/down.xml"))


# --- redirects --------------------------------------------------------------------------


def test_permanent_chain_reports_the_final_url(feed_server) -> None:
    feed_server.add("/feed.xml", FEED)
    feed_server.add_handler("/old.xml", redirect(301, "/older.xml"))
    feed_server.add_handler("/older.xml", redirect(308, feed_server.url("/feed.xml")))
    result = fetch(feed_server.url("/old.xml"))
    assert result.body == FEED
    assert result.url == feed_server.url("/old.xml")
    assert result.final_url == result.permanent_redirect == feed_server.url("/feed.xml")


def test_temporary_hop_means_no_permanent_move(feed_server) -> None:
    feed_server.add("/feed.xml", FEED)
    feed_server.add_handler("/a.xml", redirect(301, "/b.xml"))
    feed_server.add_handler("/b.xml", redirect(302, "/feed.xml"))
    result = fetch(feed_server.url("/a.xml"))
    assert result.body == FEED and result.permanent_redirect is None


def test_redirect_loop_is_detected(feed_server) -> None:
    feed_server.add_handler("/loop1", redirect(302, "/loop2"))
    feed_server.add_handler("/loop2", redirect(302, "/loop1"))
    with pytest.raises(RedirectFailure, match="循环"):
        fetch(feed_server.url("/loop1"))


def test_too_many_hops(feed_server) -> None:
    for i in range(10):
        feed_server.add_handler(f"/hop{i}", redirect(301, f"/hop{i + 1}"))
    with pytest.raises(RedirectFailure, match="超过 3 次"):
        fetch(feed_server.url("/hop0"), make_settings(fetch_max_redirects=3))
    assert feed_server.hits["/hop4"] == 0


def test_redirect_to_another_scheme_is_refused(feed_server) -> None:
    feed_server.add_handler("/evil", redirect(302, "file:///etc/passwd"))
    with pytest.raises(PolicyRefused, match="http/https"):
        fetch(feed_server.url("/evil"))


# --- address policy -------------------------------------------------------------------------


def test_loopback_refused_unless_allowed(feed_server) -> None:
    feed_server.add("/feed.xml", FEED)
    with pytest.raises(PolicyRefused, match="内网或保留地址"):
        fetch(feed_server.url("/feed.xml"), make_settings(fetch_allow_private_networks=False))
    assert feed_server.hits["/feed.xml"] == 0
    assert fetch(feed_server.url("/feed.xml")).body == FEED


def test_every_redirect_hop_is_checked(feed_server, monkeypatch) -> None:
    # Pretend 127.0.0.1 is a public host; a redirect to 10.0.0.1 or 169.254.169.254 must still be refused.
    monkeypatch.setattr(netpolicy, "is_public_address", lambda address: address == "127.0.0.1")
    for target in ("http://10.0.0.1/feed.xml", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x"):
        feed_server.add_handler("/bounce", redirect(302, target))
        with pytest.raises(PolicyRefused):
            fetch(feed_server.url("/bounce"), make_settings(fetch_allow_private_networks=False))


def test_connected_peer_is_checked_against_dns_rebinding(feed_server, monkeypatch) -> None:
    # The name "resolved" to a public address, but the connection landed on loopback.
    async def resolved_public(url: str, *, allow_private: bool) -> None:
        return None

    monkeypatch.setattr("yuqing_core.collect.fetch.check_url", resolved_public)
    feed_server.add("/feed.xml", FEED)
    with pytest.raises(PolicyRefused, match="实际连接"):
        fetch(feed_server.url("/feed.xml"), make_settings(fetch_allow_private_networks=False))


@pytest.mark.parametrize(
    "address, public",
    [("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.1", False), ("172.16.0.1", False),
     ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False),
     ("224.0.0.1", False), ("0.0.0.0", False), ("100.64.0.1", False), ("2001:4860:4860::8888", True)],
)  # fmt: skip
def test_public_address_classification(address: str, public: bool) -> None:
    assert netpolicy.is_public_address(address) is public


# --- limits -------------------------------------------------------------------------------------


def test_per_host_concurrency_limit(feed_server) -> None:
    changed = threading.Condition()
    state = {"now": 0, "max": 0, "arrived": 0}

    def counted(request) -> None:
        with changed:
            state["now"] += 1
            state["arrived"] += 1
            state["max"] = max(state["max"], state["now"])
            changed.notify_all()
            # Hold each answer until a second request is in flight (or none is left to come), however slowly
            # the client sends it: a limit of one would end this wait only at its timeout. Then a moment for
            # a third request to show up, which a limit of two must not let through.
            changed.wait_for(lambda: state["now"] >= 2 or state["arrived"] == 6, timeout=20)
        time.sleep(0.2)
        with changed:
            state["now"] -= 1
        respond(200, FEED)(request)

    for i in range(6):
        feed_server.add_handler(f"/c{i}.xml", counted)

    async def go():
        async with Fetcher(make_settings(fetch_per_host_concurrency=2, fetch_total_timeout_s=60)) as fetcher:
            await asyncio.gather(*(fetcher.fetch(feed_server.url(f"/c{i}.xml")) for i in range(6)))

    asyncio.run(go())
    assert state["max"] == 2
