"""The demo's workbench: three accounts with fresh passwords, and ``yuqing web`` started detached and stopped by its
pid file -- only ever a ``yuqing web`` process, never whatever a stale pid now names."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from importlib import resources

import httpx

from yuqing_core.accounts import authenticate
from yuqing_core.cli.demo_web import PID_FILE, create_demo_accounts, free_port, start_demo_web, stop_demo_web


def demo_units_file(tmp_path):
    text = resources.files("yuqing_core.demo").joinpath("units.yaml").read_text(encoding="utf-8")
    path = tmp_path / "units.yaml"
    path.write_text(text.replace("{inbox}", "127.0.0.1:9/inbox"), encoding="utf-8")
    return path


def test_three_demo_accounts_with_generated_passwords(settings, db, quick_hashes, tmp_path) -> None:
    made = create_demo_accounts(db, demo_units_file(tmp_path), "没有这个单位")
    assert [a.name for a in made] == ["demo-analyst", "demo-unit", "demo-leader"]
    assert made[1].role_label == "县应急管理局工作人员"  # an unknown unit falls back to the demo's case unit
    assert len({a.password for a in made}) == 3
    for account in made:
        signed = authenticate(db, settings, account.name, account.password, client="test")
        assert signed.name == account.name
    assert authenticate(db, settings, "demo-unit", made[1].password, client="test").unit == "县应急管理局"


def test_free_port_prefers_the_default_and_steps_aside_when_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert free_port(busy) != busy
    assert free_port(busy) == busy


def test_the_workbench_starts_detached_and_the_next_demo_stops_it(sqlite_settings) -> None:
    home = sqlite_settings.home
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "PREFECT_"))}
    env["YUQING_DATABASE_URL"] = sqlite_settings.effective_database_url
    web = start_demo_web(home, env=env)
    try:
        assert (home / PID_FILE).read_text().strip() == str(web.pid)
        assert os.getsid(web.pid) == web.pid  # its own session: it outlives the demo's terminal and make
        page = httpx.get(web.url + "login")
        assert page.status_code == 200 and "登录" in page.text
    finally:
        stopped = stop_demo_web(home)
    assert stopped and not (home / PID_FILE).exists()
    try:
        httpx.get(web.url + "login", timeout=2)
        raise AssertionError("the workbench still answers")
    except httpx.HTTPError:
        pass
    assert stop_demo_web(home) is False  # nothing left to stop


def test_a_stale_pid_file_stops_nothing_else(tmp_path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / PID_FILE).write_text(f"{other.pid}\n")
        assert stop_demo_web(tmp_path) is False
        assert other.poll() is None and not (tmp_path / PID_FILE).exists()
        (tmp_path / PID_FILE).write_text("not a pid")
        assert stop_demo_web(tmp_path) is False
    finally:
        other.kill()
        other.wait()
