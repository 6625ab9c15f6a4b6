"""The fetcher against a real HTTP server on 127.0.0.1: every rule about the outside world."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from email.utils import formatdate

import brotli
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from helpers import RebindingResolver, listener
from yuqing_core.allowlist import AllowedNetwork, parse_allowed_networks
from yuqing_core.cli import main
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
from yuqing_core.config import Settings, get_settings
from yuqing_core.demo.server import FeedServer

FEED = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>青禾</title></channel></rss>'.encode()


def make_settings(**overrides) -> Settings:
    values = {"fetch_allowed_networks": ["127.0.0.1"], "fetch_total_timeout_s": 5, "fetch_connect_timeout_s": 2}
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


def test_unchanged_feeds_are_re_polled_over_one_kept_connection(feed_server, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 304 read to its (empty) end hands the connection back to the pool; closed unread, each
    # re-poll of an unchanged feed paid a new connection.
    connects: list[str] = []
    connect_tcp = netpolicy.PolicyNetworkBackend.connect_tcp

    async def counted(self, host: str, port: int, *args, **kwargs):
        connects.append(host)
        return await connect_tcp(self, host, port, *args, **kwargs)

    monkeypatch.setattr(netpolicy.PolicyNetworkBackend, "connect_tcp", counted)
    route = feed_server.add("/kept.xml", FEED)

    async def poll_five_times() -> list[int]:
        async with Fetcher(make_settings()) as fetcher:
            return [(await fetcher.fetch(feed_server.url("/kept.xml"), etag=route.etag)).http_status for _ in range(5)]

    assert asyncio.run(poll_five_times()) == [304] * 5
    assert connects == ["127.0.0.1"]


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
# Each test allows exactly what it names (the feed server's address and port, as the demo does) and
# checks that anything else is refused with a message naming the address and the setting.

METADATA = "169.254.169.254"


def allowing(*entries: str) -> Settings:
    return make_settings(fetch_allowed_networks=list(entries))


def address_of(server: FeedServer) -> str:
    return server.base_url.removeprefix("http://")


def test_loopback_refused_unless_listed(feed_server) -> None:
    feed_server.add("/feed.xml", FEED)
    port = feed_server.base_url.rsplit(":", 1)[1]
    refused = rf"127\.0\.0\.1 指向内网或保留地址 127\.0\.0\.1:{port}，已拒绝：不在 YUQING_FETCH_ALLOWED_NETWORKS 允许的地址中（当前：空）"
    with pytest.raises(PolicyRefused, match=refused):
        fetch(feed_server.url("/feed.xml"), allowing())
    assert feed_server.hits["/feed.xml"] == 0
    assert fetch(feed_server.url("/feed.xml"), allowing(address_of(feed_server))).body == FEED


def test_a_listed_address_and_port_allows_that_port_only(feed_server) -> None:
    with FeedServer() as other:
        other.add("/feed.xml", FEED)
        with pytest.raises(PolicyRefused, match=f"当前：{address_of(feed_server)}"):
            fetch(other.url("/feed.xml"), allowing(address_of(feed_server)))
        assert other.hits["/feed.xml"] == 0


def test_a_listed_network_without_a_port_allows_every_port(feed_server) -> None:
    with FeedServer() as other:
        for server in (feed_server, other):
            server.add("/feed.xml", FEED)
            for entry in ("127.0.0.0/8", "127.0.0.1"):
                assert fetch(server.url("/feed.xml"), allowing(entry)).body == FEED
            assert fetch(server.url("/feed.xml"), allowing(f"127.0.0.0/8:{server.base_url.rsplit(':', 1)[1]}")).body == FEED


@pytest.mark.parametrize(
    "target",
    [f"http://{METADATA}/latest/meta-data/", "http://10.0.0.1/feed.xml", "http://[::1]/x", "http://0.0.0.0/",
     "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/",
     "http://[::a9fe:a9fe]/", "http://[fec0::1]/", "http://[64:ff9b::7f00:1]/"],
)  # fmt: skip
def test_a_redirect_to_a_non_public_address_is_refused_before_connecting(feed_server, target: str) -> None:
    # 10.0.0.1 and 169.254.169.254 do not answer here: a connection attempt would end in a timeout, not a refusal.
    feed_server.add_handler("/bounce", redirect(302, target))
    with pytest.raises(PolicyRefused, match=r"指向内网或保留地址.*YUQING_FETCH_ALLOWED_NETWORKS") as excinfo:
        fetch(feed_server.url("/bounce"), allowing(address_of(feed_server)))
    assert excinfo.value.final_url == target
    assert feed_server.hits["/bounce"] == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "localhost", "127.1"])
def test_a_redirect_to_another_loopback_port_never_reaches_it(feed_server, host: str) -> None:
    with listener() as internal:
        feed_server.add_handler("/bounce", redirect(302, f"http://{host}:{internal.port}/admin"))
        with pytest.raises(PolicyRefused, match=f"内网或保留地址 .*:{internal.port}，已拒绝"):
            fetch(feed_server.url("/bounce"), allowing(address_of(feed_server)))
    assert internal.connections == 0


def test_dns_rebinding_is_refused_before_anything_is_sent(feed_server, monkeypatch) -> None:
    # The name is public when the hop is checked and loopback when the connection is made.
    rebinding = RebindingResolver("feeds.rebind.test", first=["93.184.216.34"], then=["127.0.0.1"])
    monkeypatch.setattr(netpolicy, "resolve", rebinding)
    with listener() as internal:
        with pytest.raises(PolicyRefused, match=rf"连接前复查.*127\.0\.0\.1:{internal.port}，已拒绝，未发送任何请求"):
            fetch(f"http://feeds.rebind.test:{internal.port}/feed.xml", allowing(address_of(feed_server)))
        assert rebinding.lookups == 2  # at the hop check, and again at connect time
    assert internal.connections == 0


def test_dns_rebinding_behind_a_redirect_is_refused(feed_server, monkeypatch) -> None:
    monkeypatch.setattr(netpolicy, "resolve", RebindingResolver("cdn.rebind.test", first=["93.184.216.34"], then=[METADATA]))
    feed_server.add_handler("/bounce", redirect(302, "http://cdn.rebind.test/feed.xml"))
    with pytest.raises(PolicyRefused, match=f"连接前复查.*{METADATA}:80"):
        fetch(feed_server.url("/bounce"), allowing(address_of(feed_server)))


def test_a_name_with_any_non_public_address_is_refused(feed_server, monkeypatch) -> None:
    mixed = RebindingResolver("mixed.test", first=["93.184.216.34", "10.0.0.1"], then=["93.184.216.34", "10.0.0.1"])
    monkeypatch.setattr(netpolicy, "resolve", mixed)
    with pytest.raises(PolicyRefused, match=r"mixed\.test 指向内网或保留地址 10\.0\.0\.1:80"):
        fetch("http://mixed.test/feed.xml", allowing(address_of(feed_server)))
    assert mixed.lookups == 1


def test_a_name_is_connected_at_the_address_that_was_checked(feed_server, monkeypatch) -> None:
    # 127.0.0.2 refuses the connection (nothing listens there); the next checked address is tried.
    feed_server.add("/feed.xml", FEED)
    port = feed_server.base_url.rsplit(":", 1)[1]
    names = RebindingResolver("feeds.example.test", first=["127.0.0.2", "127.0.0.1"], then=["127.0.0.2", "127.0.0.1"])
    monkeypatch.setattr(netpolicy, "resolve", names)
    result = fetch(f"http://feeds.example.test:{port}/feed.xml", allowing(f"127.0.0.0/8:{port}"))
    assert result.body == FEED
    assert feed_server.request_headers["/feed.xml"][0]["Host"] == f"feeds.example.test:{port}"


def test_tls_is_verified_against_the_name_not_the_checked_address(feed_server, monkeypatch, tmp_path) -> None:
    # A certificate for the name only: were TLS started with the connected address, verification would fail.
    name = "feeds.example.test"
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("没有 openssl 命令，无法生成测试证书")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    feed_server._server.socket = server_side.wrap_socket(feed_server._server.socket, server_side=True)
    trusting = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    monkeypatch.setattr(fetch_module.httpx, "create_ssl_context", lambda **options: trusting)
    names = RebindingResolver(name, first=["127.0.0.1"], then=["127.0.0.1"])
    monkeypatch.setattr(netpolicy, "resolve", names)
    feed_server.add("/feed.xml", FEED)
    port = feed_server.base_url.rsplit(":", 1)[1]
    assert fetch(f"https://{name}:{port}/feed.xml", allowing(f"127.0.0.1:{port}")).body == FEED
    assert names.lookups == 2
    with pytest.raises(NetworkFailure, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"https://127.0.0.1:{port}/feed.xml", allowing(f"127.0.0.1:{port}"))


def test_an_ipv6_entry_with_a_port(tmp_path) -> None:
    try:
        server = FeedServer("::1").start()
    except OSError as exc:
        pytest.skip(f"这台机器没有 IPv6 回环地址 ::1：{exc}")
    with server:
        server.add("/feed.xml", FEED)
        port = int(server.base_url.rsplit(":", 1)[1])
        assert fetch(server.url("/feed.xml"), allowing(f"[::1]:{port}")).body == FEED
        assert fetch(server.url("/feed.xml"), allowing("::1")).body == FEED
        for entries in ([f"[::1]:{port + 1}"], [f"127.0.0.1:{port}"], ["127.0.0.0/8"], []):
            with pytest.raises(PolicyRefused, match=rf"\[::1\]:{port}"):
                fetch(server.url("/feed.xml"), allowing(*entries))
        assert server.hits["/feed.xml"] == 2


def test_the_connected_peer_is_checked_again() -> None:
    allowed = parse_allowed_networks("127.0.0.1:8080")
    netpolicy.check_peer("127.0.0.1", 8080, allowed)
    netpolicy.check_peer("93.184.216.34", 443, allowed)
    netpolicy.check_peer(None, None, allowed)  # a transport that does not say (httpx.MockTransport)
    for address, port in [("127.0.0.1", 8081), ("10.0.0.1", 8080), ("64:ff9b::7f00:1", 8080)]:
        with pytest.raises(netpolicy.BlockedAddress, match="实际连接到内网或保留地址"):
            netpolicy.check_peer(address, port, allowed)


# What 127.0.0.1, 10.0.0.1 and 169.254.169.254 look like inside IPv6 addresses; none of them is public.
EMBEDDINGS = {
    "IPv4-mapped": lambda v4: f"::ffff:{v4}",
    "IPv4-compatible": lambda v4: f"::{v4}",
    "NAT64": lambda v4: f"64:ff9b::{v4}",
    "NAT64 local-use": lambda v4: f"64:ff9b:1::{v4}",
    "6to4": lambda v4: str(ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(v4)) << 80) | 1)),
    "site-local": lambda v4: f"fec0::{v4}",
}


@pytest.mark.parametrize("form", sorted(EMBEDDINGS))
@pytest.mark.parametrize("ipv4", ["127.0.0.1", "10.0.0.1", METADATA])
def test_an_ipv4_address_inside_ipv6_is_judged_as_itself(form: str, ipv4: str) -> None:
    address = EMBEDDINGS[form](ipv4)
    assert not netpolicy.is_public_address(address), address
    assert not netpolicy.is_permitted(address, 80, ())


@pytest.mark.parametrize("form", sorted(set(EMBEDDINGS) - {"site-local"}))
def test_a_public_ipv4_address_inside_ipv6_stays_public(form: str) -> None:
    assert netpolicy.is_public_address(EMBEDDINGS[form]("8.8.8.8"))


@pytest.mark.parametrize(
    "address, public",
    [("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.1", False), ("172.16.0.1", False),
     ("169.254.169.254", False), ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False),
     ("fec0::1", False), ("::ffff:127.0.0.1", False), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
     ("224.0.0.1", False), ("ff02::1", False), ("0.0.0.0", False), ("100.64.0.1", False), ("2001:4860:4860::8888", True),
     ("not an address", False)],
)  # fmt: skip
def test_public_address_classification(address: str, public: bool) -> None:
    assert netpolicy.is_public_address(address) is public


@pytest.mark.parametrize(
    "entry, address, port, permitted",
    [("127.0.0.1:8080", "127.0.0.1", 8080, True), ("127.0.0.1:8080", "127.0.0.1", 8081, False),
     # The IPv4-mapped form is the same host; NAT64, 6to4 and IPv4-compatible forms reach a translator or relay.
     ("127.0.0.1:8080", "::ffff:127.0.0.1", 8080, True), ("127.0.0.1:8080", "::ffff:127.0.0.1", 8081, False),
     ("127.0.0.1:8080", "64:ff9b::7f00:1", 8080, False), ("127.0.0.1:8080", "2002:7f00:1::1", 8080, False),
     ("127.0.0.1:8080", "::7f00:1", 8080, False), ("64:ff9b::/96", "64:ff9b::7f00:1", 8080, True),
     ("10.0.0.0/8", "10.9.8.7", 1, True), ("10.0.0.0/8", "192.168.0.1", 1, False), ("10.1.0.0/16:443", "10.1.2.3", 443, True),
     ("10.1.0.0/16:443", "10.1.2.3", 80, False), ("[::1]:8080", "::1", 8080, True), ("[::1]:8080", "127.0.0.1", 8080, False),
     ("fd00::/8", "fd12::1", 5, True), ("[fd00::/8]:443", "fd12::1", 80, False), ("127.0.0.1", "8.8.8.8", 25, True)],
)  # fmt: skip
def test_allow_list_matching(entry: str, address: str, port: int, permitted: bool) -> None:
    assert netpolicy.is_permitted(address, port, parse_allowed_networks(entry)) is permitted


# --- the setting -----------------------------------------------------------------------------------


def test_allowed_networks_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("YUQING_FETCH_ALLOWED_NETWORKS", " 127.0.0.1:8080, [::1]:8080,10.0.0.0/8 ,fd00::/8,[fd00::/8]:443,")
    entries = Settings().fetch_allowed_networks
    assert [str(entry) for entry in entries] == ["127.0.0.1:8080", "[::1]:8080", "10.0.0.0/8", "fd00::/8", "[fd00::/8]:443"]
    assert entries[0] == AllowedNetwork(ipaddress.ip_network("127.0.0.1/32"), 8080)
    monkeypatch.setenv("YUQING_FETCH_ALLOWED_NETWORKS", "")
    assert Settings().fetch_allowed_networks == ()
    assert Settings(fetch_allowed_networks=["::1"]).fetch_allowed_networks == (AllowedNetwork(ipaddress.ip_network("::1/128")),)


@pytest.mark.parametrize(
    "entry, reason",
    [("localhost", "不接受主机名"), ("localhost:8080", "不接受主机名"), ("feeds.example.org:443", "不接受主机名"),
     ("http://127.0.0.1", "不接受主机名"), ("127.0.0.1:0", "端口应为 1 到 65535"), ("127.0.0.1:65536", "端口应为"),
     ("127.0.0.1:http", "端口应为"), ("10.1.2.3/16", "掩码之外的位"), ("[::1", "方括号"), ("[::1]8080", "方括号"),
     ("127.0.0.1:8080:1", "不是 IP 地址或网段"), ("10.0.0.0/33", "不是 IP 地址或网段")],
)  # fmt: skip
def test_an_invalid_entry_is_refused_naming_it_and_the_setting(monkeypatch, entry: str, reason: str) -> None:
    monkeypatch.setenv("YUQING_FETCH_ALLOWED_NETWORKS", f"127.0.0.1:8080,{entry}")
    with pytest.raises(ValidationError) as excinfo:
        Settings()
    assert f"YUQING_FETCH_ALLOWED_NETWORKS 的条目 {entry!r} 无效：" in str(excinfo.value)
    assert reason in str(excinfo.value)
    with pytest.raises(ValidationError, match=f"条目 {re.escape(repr(entry))} 无效"):
        Settings(fetch_allowed_networks=[entry])


@pytest.mark.parametrize("value", ["true", "false", ""])
def test_the_replaced_switch_is_refused_with_what_to_set_instead(monkeypatch, value: str) -> None:
    monkeypatch.setenv("YUQING_FETCH_ALLOW_PRIVATE_NETWORKS", value)
    with pytest.raises(
        ValidationError, match="YUQING_FETCH_ALLOW_PRIVATE_NETWORKS 已停用，由 YUQING_FETCH_ALLOWED_NETWORKS 取代"
    ):
        Settings()
    monkeypatch.delenv("YUQING_FETCH_ALLOW_PRIVATE_NETWORKS")
    with pytest.raises(ValidationError, match="请删除它，改为列出允许访问的内网地址及端口，例如 YUQING_FETCH_ALLOWED_NETWORKS="):
        Settings(fetch_allow_private_networks=True)


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


def test_the_command_line_shows_a_settings_mistake_without_a_traceback(monkeypatch) -> None:
    monkeypatch.setenv("YUQING_FETCH_ALLOW_PRIVATE_NETWORKS", "true")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["sources", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "环境变量设置有误：\n  YUQING_FETCH_ALLOW_PRIVATE_NETWORKS 已停用" in result.output
    assert "Traceback" not in result.output
