"""Which addresses the collector may talk to.

Feeds are public documents on the public internet. Loopback, private,
link-local, multicast and reserved addresses are refused unless
``YUQING_FETCH_ALLOW_PRIVATE_NETWORKS=true`` (the tests and the demo set it):
a sources file or a redirect must not turn the collector into a probe of
the office network. Every redirect hop is checked before it is requested,
and the address actually connected to is checked again after connecting,
so a name that resolves differently the second time gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")


class BlockedAddress(Exception):
    """The URL is not an http(s) URL or points at an address the policy refuses."""


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_scheme(url: str) -> str:
    """The URL's host, if the URL is http(s) with a host; raise ``BlockedAddress`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedAddress(f"只允许 http/https 地址：{url}")
    if not parts.hostname:
        raise BlockedAddress(f"地址缺少主机名：{url}")
    return parts.hostname


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to any non-public address (unless allowed)."""
    host = check_scheme(url)
    if allow_private:
        return
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        loop = asyncio.get_running_loop()
        # A name that does not resolve raises socket.gaierror: a network failure, not a policy one.
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        # An IP family's socket address starts with the address text; anything else is refused as not public.
        addresses = [str(info[4][0]) for info in infos]
    refused = [a for a in addresses if not is_public_address(a)]
    if refused:
        raise BlockedAddress(f"{host} 指向内网或保留地址 {refused[0]}，已拒绝（YUQING_FETCH_ALLOW_PRIVATE_NETWORKS 未开启）")


def check_peer(address: str | None, *, allow_private: bool) -> None:
    """Refuse a connection whose peer turned out not to be public."""
    if allow_private or address is None:
        return
    if not is_public_address(address):
        raise BlockedAddress(f"实际连接到内网或保留地址 {address}，已拒绝")
