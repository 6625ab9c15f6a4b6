"""Entries of ``YUQING_FETCH_ALLOWED_NETWORKS``: the non-public addresses the collector may reach.

An entry is an address or a network, with or without a port::

    127.0.0.1          10.0.0.0/8          ::1          fd00::/8          (every port)
    127.0.0.1:8080     10.1.0.0/16:443     [::1]:8080   [fd00::/8]:443    (that port only)

Host names are not entries: the policy is about the address a name resolves
to at the moment of connecting, and a name can resolve anywhere. The rules
that use these entries are in ``yuqing_core.collect.netpolicy``; this module
sits below the settings so that they can parse each entry once, when they
are loaded.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SETTING = "YUQING_FETCH_ALLOWED_NETWORKS"
MAX_PORT = 65535

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidAllowedNetwork(ValueError):
    """An entry of the allow-list that is not an address or network with an optional port."""


@dataclass(frozen=True)
class AllowedNetwork:
    """One entry: a network (a single address is a /32 or /128) and a port, or every port when ``port`` is None."""

    network: IPNetwork
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> AllowedNetwork:
        """Read one entry; raise ``InvalidAllowedNetwork`` naming the entry and the setting.

        >>> AllowedNetwork.parse("127.0.0.1:8080"), AllowedNetwork.parse("[::1]:8080").port
        (AllowedNetwork(network=IPv4Network('127.0.0.1/32'), port=8080), 8080)
        >>> str(AllowedNetwork.parse("fd00::/8"))
        'fd00::/8'
        """
        text = entry.strip()
        if text.startswith("["):
            # [IPv6 address or network] with an optional :port after the bracket.
            inside, bracket, rest = text[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise _invalid(entry, "方括号只用于带端口的 IPv6 地址，例如 [::1]:8080")
            network_text, port_text = inside, rest[1:] if rest else None
        elif text.count(":") == 1:
            network_text, port_text = text.split(":")
        else:
            # No colon (IPv4 without a port) or several (IPv6 without a port: write [::1]:8080 for one).
            network_text, port_text = text, None
        return cls(network=_network(entry, network_text), port=None if port_text is None else _port(entry, port_text))

    def permits(self, address: IPAddress, port: int) -> bool:
        """Whether a connection to ``address`` port ``port`` is within this entry.

        An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is the IPv4 host itself and matches as it;
        other forms that carry an IPv4 address (NAT64, 6to4, IPv4-compatible) reach a translator or
        relay, not the listed host, and match only an entry written in IPv6.
        """
        if self.port is not None and port != self.port:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.version == self.network.version and address in self.network

    def __str__(self) -> str:
        network = str(self.network.network_address) if self.network.num_addresses == 1 else str(self.network)
        if self.port is None:
            return network
        return f"[{network}]:{self.port}" if self.network.version == 6 else f"{network}:{self.port}"


def parse_allowed_networks(value: object) -> tuple[AllowedNetwork, ...]:
    """The entries of the setting: a comma-separated string (the environment) or a list of strings (code).

    >>> [str(n) for n in parse_allowed_networks("127.0.0.1:8080, 10.0.0.0/8")]
    ['127.0.0.1:8080', '10.0.0.0/8']
    """
    if isinstance(value, str):
        items: list[object] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise InvalidAllowedNetwork(f"{SETTING} 应为逗号分隔的地址列表，而不是 {type(value).__name__}")
    entries = []
    for item in items:
        if isinstance(item, AllowedNetwork):
            entries.append(item)
        elif isinstance(item, str):
            entries.append(AllowedNetwork.parse(item))
        else:
            raise InvalidAllowedNetwork(f"{SETTING} 的条目 {item!r} 不是字符串")
    return tuple(entries)


def _network(entry: str, text: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(text.strip())
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise _invalid(entry, "网段写法有误：掩码之外的位不应为 1（例如应写 10.1.0.0/16 而不是 10.1.2.3/16）") from exc
        raise _invalid(
            entry, "不是 IP 地址或网段（CIDR）；此名单按地址放行，不接受主机名（如 localhost 请写 127.0.0.1）"
        ) from exc


def _port(entry: str, text: str) -> int:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PORT:
        raise _invalid(entry, f"端口应为 1 到 {MAX_PORT} 之间的整数")
    return int(text)


def _invalid(entry: str, reason: str) -> InvalidAllowedNetwork:
    return InvalidAllowedNetwork(f"{SETTING} 的条目 {entry.strip()!r} 无效：{reason}")
