"""Which addresses the collector may talk to.

Feeds are public documents on the public internet: a sources file or a
redirect must not turn the collector into a probe of the office network.
A destination is an (address, port) pair; it is allowed when the address is
public, or when it matches an entry of ``YUQING_FETCH_ALLOWED_NETWORKS``
(``yuqing_core.allowlist``: an address or CIDR network, with or without a
port; the tests and the demo list their local servers there). Host names are
never entries: a name can resolve anywhere.

Public means global (``ipaddress``'s ``is_global``), not multicast and not
IPv6 site-local (fec0::/10). An IPv6 address that stands for an IPv4 one is
judged as that IPv4 address by the same rules: IPv4-mapped ``::ffff:0:0/96``,
IPv4-compatible ``::/96`` (but ``::`` and ``::1``), NAT64 ``64:ff9b::/96``
and ``64:ff9b:1::/48`` (the last 32 bits) and 6to4 ``2002::/16`` (bits
16-48). So ``[64:ff9b::a9fe:a9fe]`` is as refused as ``169.254.169.254``,
and ``[64:ff9b::808:808]`` as public as ``8.8.8.8``. Teredo (2001::/32) is
not global and is refused outright, whatever it carries.

Matching an allow-list entry: an IPv4-mapped address is the IPv4 host
itself, so ``127.0.0.1:8080`` also lets ``[::ffff:127.0.0.1]:8080`` through
(and not port 8081). NAT64, 6to4 and IPv4-compatible forms reach a
translator or relay rather than the listed host: they match only an entry
written in IPv6, so ``127.0.0.1:8080`` does not let ``[64:ff9b::7f00:1]:8080``
through.

Three checks, each refusing with ``BlockedAddress``:

1. ``check_url`` before every redirect hop: the scheme, and every address
   the host resolves to (a clear message before any connection).
2. ``PolicyNetworkBackend`` at connect time: it resolves the host itself,
   refuses if any candidate address is not allowed, and connects to the
   address it checked, so a name that resolves differently the second time
   (DNS rebinding) is refused before a single byte is sent.
3. ``check_peer`` after the response: the connected peer once more, a
   second line of defence that costs nothing.

Every lookup goes through ``resolve``, so tests can substitute a resolver.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import httpcore

from yuqing_core.allowlist import SETTING, AllowedNetwork, IPAddress

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64_NETWORKS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
IPV4_COMPATIBLE_NETWORK = ipaddress.IPv6Network("::/96")
SITE_LOCAL_NETWORK = ipaddress.IPv6Network("fec0::/10")


class BlockedAddress(Exception):
    """The URL is not an http(s) URL or points at an address the policy refuses."""


class BlockedAtConnect(BlockedAddress):
    """At connect time the host resolved to an address the policy refuses; nothing was sent."""


def parse_address(address: str) -> IPAddress | None:
    """The IP address of a text (an IPv6 zone such as ``%eth0`` dropped), or None if it is not one."""
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None


def carried_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4), if it is one of those.

    >>> carried_ipv4(ipaddress.ip_address("64:ff9b::a9fe:a9fe")), carried_ipv4(ipaddress.ip_address("2002:a00:1::"))
    (IPv4Address('169.254.169.254'), IPv4Address('10.0.0.1'))
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    last_32_bits = ipaddress.IPv4Address(ip.packed[-4:])
    if any(ip in network for network in NAT64_NETWORKS):
        return last_32_bits
    if ip in IPV4_COMPATIBLE_NETWORK and int(ip) > 1:  # :: and ::1 are the unspecified and loopback addresses
        return last_32_bits
    return None


def is_public_address(address: str) -> bool:
    """Whether an address may be reached without an allow-list entry (the module docstring has the rules)."""
    ip = parse_address(address)
    return ip is not None and _is_public(ip)


def _is_public(ip: IPAddress) -> bool:
    # An address that stands for an IPv4 one is exactly as public as it: decided here rather than by
    # ``is_global``, whose answer for 2002::/16 and 64:ff9b:1::/48 changed between Python patch releases.
    carried = carried_ipv4(ip)
    if carried is not None:
        return _is_public(carried)
    if not ip.is_global or ip.is_multicast:
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip in SITE_LOCAL_NETWORK)


def is_permitted(address: str, port: int, allowed: Iterable[AllowedNetwork]) -> bool:
    """Whether the collector may connect to ``address`` on ``port``: public, or listed in ``allowed``."""
    ip = parse_address(address)
    if ip is None:
        return False
    return _is_public(ip) or any(entry.permits(ip, port) for entry in allowed)


def url_port(url: str) -> int:
    """The port a URL connects to: its explicit port, or its scheme's default.

    >>> url_port("https://example.org/feed"), url_port("http://[::1]:8080/")
    (443, 8080)
    """
    parts = urlsplit(url)
    try:
        explicit = parts.port
    except ValueError as exc:
        raise BlockedAddress(f"地址的端口无效：{url}") from exc
    return explicit or DEFAULT_PORTS.get(parts.scheme.lower(), 0)


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the order to try them; an IP literal is itself.

    A name that does not resolve raises ``socket.gaierror``: a network failure, not a policy one.
    """
    if parse_address(host) is not None:
        return [host]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # An IP family's socket address starts with the address text; anything else is refused as not public.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_scheme(url: str) -> str:
    """The URL's host, if the URL is http(s) with a host; raise ``BlockedAddress`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedAddress(f"只允许 http/https 地址：{url}")
    if not parts.hostname:
        raise BlockedAddress(f"地址缺少主机名：{url}")
    return parts.hostname


async def check_url(url: str, allowed: Sequence[AllowedNetwork]) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to any address not allowed on its port."""
    host = check_scheme(url)
    port = url_port(url)
    refuse_any(host, port, await resolve(host, port), allowed)


def refuse_any(host: str, port: int, addresses: Iterable[str], allowed: Sequence[AllowedNetwork]) -> None:
    """Raise ``BlockedAddress`` naming the first of ``addresses`` the policy refuses on ``port``."""
    for address in addresses:
        if not is_permitted(address, port, allowed):
            raise BlockedAddress(f"{host} 指向内网或保留地址 {_destination(address, port)}，已拒绝：{_not_listed(allowed)}")


def check_peer(address: str | None, port: int | None, allowed: Sequence[AllowedNetwork]) -> None:
    """Refuse a connection whose peer turned out not to be allowed (a second line of defence)."""
    if address is None or port is None:
        return
    if not is_permitted(address, port, allowed):
        raise BlockedAddress(f"实际连接到内网或保留地址 {_destination(address, port)}，已拒绝：{_not_listed(allowed)}")


class PolicyNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the policy applied to the address it connects to.

    ``connect_tcp`` resolves the host through ``resolve``, refuses if any candidate is not allowed,
    and connects to the checked addresses in turn (the next one if a connection fails). TLS is
    unaffected: httpcore starts it on the returned stream with the URL's host name.
    """

    def __init__(self, allowed: Sequence[AllowedNetwork], inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allowed = tuple(allowed)
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            candidates = await resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"无法解析主机名 {host}：{exc}") from exc
        for address in candidates:
            if not is_permitted(address, port, self.allowed):
                raise BlockedAtConnect(
                    f"连接前复查：{host} 此时解析到内网或保留地址 {_destination(address, port)}，已拒绝，"
                    f"未发送任何请求（可能是 DNS 重绑定）：{_not_listed(self.allowed)}"
                )
        if not candidates:
            raise httpcore.ConnectError(f"{host} 没有可连接的地址")
        connect = functools.partial(
            self.inner.connect_tcp, port=port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        for address in candidates[:-1]:
            try:
                return await connect(address)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # the next checked address
        return await connect(candidates[-1])

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAtConnect(f"不允许经 Unix 套接字连接：{path}")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _destination(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _not_listed(allowed: Sequence[AllowedNetwork]) -> str:
    listed = "、".join(str(entry) for entry in allowed) or "空"
    return f"不在 {SETTING} 允许的地址中（当前：{listed}）"
