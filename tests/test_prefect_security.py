"""The Prefect API is not an open door: a server started as ``yuqing serve`` starts it asks every caller
for its credential, answers cross-origin requests from its own UI only, and keeps the credential in a
file only its owner can read.

One real server for the whole session (``secured_prefect_server`` in conftest.py, shared with
test_operations.py): starting one costs 20-60 s.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from flows.deployments import CREDENTIAL_FILE, PrefectAccessDenied, check_api_access, server_credential
from yuqing_core.cli import main

pytestmark = [pytest.mark.slow]
EVIL = "http://evil.example"


def test_without_the_credential_nothing_but_the_health_probe_answers(secured_prefect_server) -> None:
    api, authed = secured_prefect_server.api, secured_prefect_server.authed_api
    wrong = api.replace("http://", "http://yuqing:guessed@", 1)
    for base, expected in ((api, 401), (wrong, 401), (authed, 200)):
        assert httpx.post(f"{base}/deployments/filter", json={}, timeout=30).status_code == expected, base
        secrets = httpx.post(f"{base}/block_documents/filter", json={"include_secrets": True}, timeout=30)
        assert secrets.status_code == expected, base
    # Prefect leaves its liveness probe open (it says only "true"); yuqing serve waits on it.
    assert httpx.get(f"{api}/health", timeout=30).status_code == 200


def test_cross_origin_requests_are_answered_for_the_ui_only(secured_prefect_server) -> None:
    api = secured_prefect_server.authed_api
    ui_origin = secured_prefect_server.api.removesuffix("/api")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    evil = httpx.options(f"{api}/deployments/filter", headers={"Origin": EVIL, **preflight}, timeout=30)
    assert "access-control-allow-origin" not in evil.headers, evil.headers
    evil_get = httpx.get(f"{api}/admin/version", headers={"Origin": EVIL}, timeout=30)
    assert evil_get.headers.get("access-control-allow-origin") in (None, ui_origin), evil_get.headers
    for own_origin in (ui_origin, ui_origin.replace("127.0.0.1", "localhost")):
        own = httpx.options(f"{api}/deployments/filter", headers={"Origin": own_origin, **preflight}, timeout=30)
        assert own.headers.get("access-control-allow-origin") == own_origin, own.headers


def test_the_credential_is_made_once_kept_0600_and_reused(tmp_path, monkeypatch, secured_prefect_server) -> None:
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    first = server_credential(tmp_path)
    assert first.path == tmp_path / CREDENTIAL_FILE and first.user == "yuqing" and len(first.auth_string) > 40
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert server_credential(tmp_path) == first  # the next start uses the same one
    served = Path(secured_prefect_server.home) / CREDENTIAL_FILE
    assert stat.S_IMODE(served.stat().st_mode) == 0o600
    assert served.read_text(encoding="utf-8").strip() == secured_prefect_server.auth_string

    os.chmod(first.path, 0o644)
    with pytest.raises(PrefectAccessDenied, match="其他用户也能读取；请执行 chmod 600"):
        server_credential(tmp_path)
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "office:from-the-environment")
    assert server_credential(tmp_path).auth_string == "office:from-the-environment"


def test_serving_against_a_server_that_refuses_stops_with_a_message(secured_prefect_server, env_settings, monkeypatch) -> None:
    api = secured_prefect_server.api
    check_api_access(api, secured_prefect_server.auth_string)
    with pytest.raises(PrefectAccessDenied, match="拒绝了 PREFECT_API_AUTH_STRING 中的凭据"):
        check_api_access(api, "yuqing:wrong")

    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1, result.output
    assert "要求认证（401）：请设置 PREFECT_API_AUTH_STRING=用户名:密码" in result.output


def test_the_workbench_uses_the_local_servers_credential_when_no_api_is_configured(tmp_path: Path, monkeypatch) -> None:
    from yuqing_core.cli.web import use_local_prefect_server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    monkeypatch.setenv("YUQING_PREFECT_PORT", "4321")
    assert use_local_prefect_server(tmp_path) is False  # no `yuqing serve` has run here: nothing to use
    made = server_credential(tmp_path / "prefect-server")  # as `yuqing serve` makes it
    assert use_local_prefect_server(tmp_path) is True
    assert os.environ["PREFECT_API_AUTH_STRING"] == made.auth_string
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example/api")  # a configured API wins
    assert use_local_prefect_server(tmp_path) is False
