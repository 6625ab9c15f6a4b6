"""The analyze flow on a Dask task runner: the ``analyze/backlog`` deployment, for large backlogs.

Same flow, same tasks, same database afterwards as ``flows.analyze``; only
the ``match-N`` tasks of a run are spread over Dask worker processes
instead of this process's threads (grouping and warning stay in order in
the flow's process, as they must). Matching is CPU-bound Python, so
processes are what scale it.

Where the workers come from (settings, read when this module is loaded):

- ``YUQING_DASK_ADDRESS=tls://host:8786``: a running cluster that speaks
  TLS, with this client's certificate (``YUQING_DASK_TLS_CA_FILE``,
  ``YUQING_DASK_TLS_CERT_FILE``, ``YUQING_DASK_TLS_KEY_FILE``). A Dask
  scheduler runs whatever code its clients send, so one reachable without a
  certificate is a remote shell for anyone who can reach it.
- ``YUQING_DASK_ADDRESS=tcp://10.0.0.5:8786``: a cluster without TLS, allowed
  only on a loopback or private address (the host name must resolve to one),
  e.g. ``dask scheduler --host 10.0.0.5`` on one machine and
  ``dask worker tcp://10.0.0.5:8786`` on others of the same private network;
  anything else is refused with a message, before a run starts. Each worker
  machine needs yuqing installed and the same ``YUQING_DATABASE_URL``
  (PostgreSQL), ``PREFECT_API_URL`` and ``PREFECT_API_AUTH_STRING``.
- otherwise a ``distributed.LocalCluster`` of ``YUQING_DASK_WORKERS``
  (default 2) single-threaded worker processes on 127.0.0.1, started for the
  run and stopped after it; they inherit this process's environment.

Example::

    prefect deployment run 'analyze/backlog' --param since=2026-11-01T00:00:00+08:00
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flows.analyze import analyze
from yuqing_core.config import Settings, get_settings
from yuqing_core.errors import InvalidInput


class DaskAddressRefused(InvalidInput):
    """The Dask scheduler address would send work (and code) over an open network; the message says what to use."""


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def check_dask_address(address: str) -> str:
    """The scheme of ``address`` (``tls`` or ``tcp``) if it may be used; ``DaskAddressRefused`` otherwise.

    ``tcp://`` is plain text without authentication: allowed only when every address the host resolves to
    is loopback or private.

    >>> check_dask_address("tcp://127.0.0.1:8786"), check_dask_address("tls://dask.example.gov.cn:8786")
    ('tcp', 'tls')
    """
    scheme, separator, rest = address.partition("://")
    if not separator:
        scheme, rest = "tcp", address  # Dask's default
    scheme = scheme.lower()
    if scheme == "tls":
        return scheme
    if scheme != "tcp":
        raise DaskAddressRefused(f"YUQING_DASK_ADDRESS={address}：只支持 tls://（推荐）或内网的 tcp:// 地址")
    host = urlsplit(f"tcp://{rest}").hostname or ""
    addresses = _addresses(host) if host else []
    if not addresses or not all(ip.is_loopback or ip.is_private for ip in addresses):
        where = (
            "解析不到地址" if not addresses else "不是本机或内网地址（" + "、".join(sorted({str(ip) for ip in addresses})) + "）"
        )
        raise DaskAddressRefused(
            f"YUQING_DASK_ADDRESS={address}：{host} {where}。tcp:// 不加密、不认证，谁连得上调度器就能在工作机上运行任意代码；"
            "请改用 tls:// 并设置 YUQING_DASK_TLS_CA_FILE、YUQING_DASK_TLS_CERT_FILE、YUQING_DASK_TLS_KEY_FILE，"
            "或让调度器只监听内网地址（dask scheduler --host 10.x.x.x）"
        )
    return scheme


def dask_security(settings: Settings, address: str) -> Any:
    """The ``distributed.Security`` for ``address``: TLS with this client's certificate for ``tls://``, None for
    a ``tcp://`` address that ``check_dask_address`` allows."""
    if check_dask_address(address) != "tls":
        return None
    files = {
        "YUQING_DASK_TLS_CA_FILE": settings.dask_tls_ca_file,
        "YUQING_DASK_TLS_CERT_FILE": settings.dask_tls_cert_file,
        "YUQING_DASK_TLS_KEY_FILE": settings.dask_tls_key_file,
    }
    missing = [name for name, path in files.items() if path is None or not Path(path).is_file()]
    if missing:
        raise DaskAddressRefused(f"YUQING_DASK_ADDRESS={address} 使用 TLS，但 {'、'.join(missing)} 未设置或文件不存在")
    from distributed import Security

    return Security(
        tls_ca_file=str(settings.dask_tls_ca_file),
        tls_client_cert=str(settings.dask_tls_cert_file),
        tls_client_key=str(settings.dask_tls_key_file),
        require_encryption=True,
    )


def dask_task_runner(workers: int | None = None, address: str | None = None) -> Any:
    """A ``DaskTaskRunner`` on the cluster at ``address`` (checked, with TLS if ``tls://``), or on a new
    LocalCluster of ``workers`` processes on 127.0.0.1."""
    from prefect_dask import DaskTaskRunner

    settings = get_settings()
    address = address or settings.dask_address
    if address:
        security = dask_security(settings, address)
        return DaskTaskRunner(address=address, client_kwargs={"security": security} if security is not None else None)
    cluster = {
        "n_workers": workers or settings.dask_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
        "host": "127.0.0.1",
    }
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster)


analyze_backlog = analyze.with_options(task_runner=dask_task_runner())
