"""The demo's workbench: three demo accounts and ``yuqing web`` left running in the background over the demo's data.

The server is a detached process (its own session, output to ``web.log``)
that outlives ``make demo``; its pid is kept in ``<home>/web.pid``. The next
demo stops it before deleting the home, and only if the pid is still a
``yuqing web`` process, so a stale pid file never stops anything else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from yuqing_core.cli.web import DEFAULT_PORT
from yuqing_core.db.database import Database

PID_FILE = "web.pid"
LOG_FILE = "web.log"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
DEMO_UNIT = "县应急管理局"


@dataclass(frozen=True)
class DemoAccount:
    role_label: str
    name: str
    password: str


@dataclass(frozen=True)
class DemoWeb:
    url: str
    pid: int
    pid_file: Path
    log_file: Path


def create_demo_accounts(db: Database, units_file: Path, unit: str | None = None) -> list[DemoAccount]:
    """An office analyst, a member of ``unit`` (default and fallback 县应急管理局) and a leader, with new passwords."""
    from yuqing_core.accounts import add_account
    from yuqing_core.notify import import_units, list_units, load_units_file

    import_units(db, load_units_file(units_file))  # the unit account needs its unit in the database
    if unit not in {known.name for known in list_units(db)}:
        unit = DEMO_UNIT
    made = []
    for label, name, role, account_unit, display in (
        ("舆情中心分析员", "demo-analyst", "analyst", None, "演示分析员"),
        (f"{unit}工作人员", "demo-unit", "unit", unit, "演示单位联络员"),
        ("县领导（只读）", "demo-leader", "leader", None, "演示县领导"),
    ):
        _account, password = add_account(db, name, role=role, unit=account_unit, display_name=display)
        made.append(DemoAccount(label, name, password))
    return made


def free_port(preferred: int = DEFAULT_PORT) -> int:
    """``preferred`` if nothing listens on it at 127.0.0.1, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def start_demo_web(home: Path, *, port: int | None = None, env: dict[str, str] | None = None) -> DemoWeb:
    """Start ``yuqing web`` on 127.0.0.1 over the demo home, detached, and wait until it answers."""
    port = port or free_port()
    log_file = home / LOG_FILE
    environment = {**(env if env is not None else os.environ), "YUQING_HOME": str(home)}
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "yuqing_core.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    pid_file = home / PID_FILE
    pid_file.write_text(f"{process.pid}\n", encoding="ascii")
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise RuntimeError(f"工作台未能启动（退出码 {process.returncode}），详见 {log_file}")
        try:
            if httpx.get(url + "login", timeout=1.0).status_code == 200:
                return DemoWeb(url, process.pid, pid_file, log_file)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_demo_web(home)
    raise RuntimeError(f"工作台 {START_TIMEOUT_S:.0f} 秒内未响应，已停止；详见 {log_file}")


def stop_demo_web(home: Path) -> bool:
    """Stop the workbench a previous demo left running in ``home``; True if one was running."""
    pid_file = home / PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    running = _is_demo_web(pid)
    if running:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a child of this process that ended stays a zombie until reaped
        reaped, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child
        return not _zombie(pid)
    return reaped == 0


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _is_demo_web(pid: int) -> bool:
    """The pid is a running ``yuqing web`` (where /proc tells; elsewhere: any running process)."""
    if pid <= 1 or not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not Path("/proc").is_dir():
        return True
    try:
        arguments = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"yuqing_core.cli" in arguments and b"web" in arguments
