"""``yuqing web`` serves the workbench with uvicorn: the command's wiring, and the app over a real socket."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from click.testing import CliRunner

from yuqing_core.cli import main
from yuqing_core.web import create_app


def test_the_command_runs_the_workbench_on_the_given_address(env_settings, monkeypatch) -> None:
    served = {}

    def run(app, **options) -> None:
        served.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    result = CliRunner().invoke(main, ["web", "--port", "8811"])
    assert result.exit_code == 0, result.output
    assert "工作台：http://127.0.0.1:8811/" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 8811 and served["forwarded_allow_ips"] == "127.0.0.1"
    assert served["app"].state.workbench.settings.home == env_settings.home


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_workbench_over_a_real_socket(settings, db) -> None:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db=db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/cases", follow_redirects=True)
        assert response.status_code == 200 and "登录工作台" in response.text
        assert response.headers["x-frame-options"] == "DENY"
        assert httpx.get(f"http://127.0.0.1:{port}/static/style.css").status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)
