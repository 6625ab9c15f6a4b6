"""Which Dask scheduler addresses the analyze/backlog deployment may use, and with what security.

A Dask scheduler runs the code its clients send: ``tcp://`` (plain, no
authentication) only on loopback or private addresses, anything further
only over ``tls://`` with this client's certificate. Decided without a
remote cluster: the checks and the runner they configure.
"""

from __future__ import annotations

import pytest

from flows.analyze_backlog import DaskAddressRefused, check_dask_address, dask_security, dask_task_runner
from yuqing_core.config import Settings, get_settings


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:8786",
        "tcp://10.20.0.5:8786",
        "tcp://192.168.1.9:8786",
        "tcp://[::1]:8786",
        "tcp://localhost:8786",
        "172.16.3.4:8786",
    ],
)
def test_plain_tcp_is_allowed_on_loopback_and_private_addresses(address: str) -> None:
    assert check_dask_address(address) == "tcp"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("tcp://8.8.8.8:8786", "不是本机或内网地址（8.8.8.8）"),
        ("tcp://[2001:4860::8888]:8786", "不是本机或内网地址"),
        ("tcp://dask.invalid:8786", "解析不到地址"),
        ("114.114.114.114:8786", "不是本机或内网地址"),
    ],
)
def test_plain_tcp_elsewhere_is_refused_with_what_to_do(address: str, reason: str) -> None:
    with pytest.raises(DaskAddressRefused) as refused:
        check_dask_address(address)
    message = str(refused.value)
    assert reason in message and "请改用 tls://" in message and "dask scheduler --host" in message


def test_other_schemes_are_refused() -> None:
    with pytest.raises(DaskAddressRefused, match="只支持 tls://"):
        check_dask_address("ws://10.0.0.1:8786")


def test_tls_needs_the_client_certificate_and_gives_the_runner_a_security(tmp_path, monkeypatch) -> None:
    address = "tls://dask.example.gov.cn:8786"
    with pytest.raises(DaskAddressRefused, match="YUQING_DASK_TLS_CA_FILE、YUQING_DASK_TLS_CERT_FILE、YUQING_DASK_TLS_KEY_FILE"):
        dask_security(Settings(home=tmp_path), address)
    files = {}
    for name in ("ca", "cert", "key"):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text("-----BEGIN-----\n", encoding="utf-8")
        monkeypatch.setenv(f"YUQING_DASK_TLS_{name.upper()}_FILE", str(files[name]))
    monkeypatch.setenv("YUQING_DASK_ADDRESS", address)
    get_settings.cache_clear()
    try:
        runner = dask_task_runner()
    finally:
        get_settings.cache_clear()
    security = runner.client_kwargs["security"]
    assert runner.address == address and security.require_encryption
    assert (security.tls_ca_file, security.tls_client_cert, security.tls_client_key) == tuple(
        str(files[n]) for n in ("ca", "cert", "key")
    )


def test_the_runner_refuses_an_open_address_and_keeps_its_local_cluster_on_loopback() -> None:
    with pytest.raises(DaskAddressRefused):
        dask_task_runner(address="tcp://8.8.8.8:8786")
    assert dask_task_runner(address="tcp://10.0.0.5:8786").client_kwargs.get("security") is None
    local = dask_task_runner(workers=1)
    assert local.cluster_kwargs["host"] == "127.0.0.1"
