"""Every deployment of yuqing, and serving them all from one machine (``yuqing serve``, ``make serve``).

=========================  ==============================================  =============================
deployment                 what                                            schedule (Asia/Shanghai)
=========================  ==============================================  =============================
monitor/every-10-min       collect, then analyze                           every 10 minutes
daily-report/morning       yesterday's 舆情日报, delivered                     08:00 daily
periodic-report/weekly     last week's 舆情周报, delivered                     Monday 08:00
periodic-report/monthly    last month's 舆情月报, delivered                    the 1st 08:00
periodic-report/quarterly  last quarter's 舆情季报, delivered                  1 Jan/Apr/Jul/Oct 08:00
track-cases/hourly         reminders, overdue notices, reprimands          hourly, at :05
risk-library/daily         validate, backtest, import; risk notices        06:30 daily (and on demand)
special-report/ad-hoc      舆情专报 for an event or a rule                     none: run with parameters
case-action/ui             record an action on a case                      none: run with parameters
collect/ad-hoc             collect only                                    none
analyze/backlog            analyze only, on Dask (backlogs, re-analysis)   none
=========================  ==============================================  =============================

One machine: ``yuqing serve`` starts a Prefect server on 127.0.0.1 (its
own database under ``$YUQING_HOME/prefect-server``, never the application's)
unless ``PREFECT_API_URL`` points at one, then serves all the deployments
from this process. Several machines: see ``deployments/prefect.yaml``.

The API is never open. The local server runs with API authentication
(``PREFECT_SERVER_API_AUTH_STRING``): unless that is set, a credential
``yuqing:<random>`` is made once and kept in
``$YUQING_HOME/prefect-server/api-auth-string`` (mode 0600, reused on every
start); the UI asks for that whole line, and this process and its flow runs
use it as ``PREFECT_API_AUTH_STRING``. Only ``/api/health`` and ``/api/ready``
answer without it (Prefect's probes). Cross-origin requests are allowed from
the UI's own origin only (``PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS``), not
from any web page. Whoever holds the credential can do everything the API
can: run any deployment, read every block, Secret blocks included.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from yuqing_core.errors import UserError

TIMEZONE = "Asia/Shanghai"
# The periodic reports: (kind = deployment name, cron in Asia/Shanghai, description).
PERIODIC_SCHEDULES = (
    ("weekly", "0 8 * * 1", "每周一 08:00 写出并送达上周的舆情周报"),
    ("monthly", "0 8 1 * *", "每月 1 日 08:00 写出并送达上月的舆情月报"),
    ("quarterly", "0 8 1 1,4,7,10 *", "每季度首日 08:00 写出并送达上季度的舆情季报"),
)


def build_deployments(risk_file: str | None = None) -> list:  # type: ignore[type-arg]
    """The RunnerDeployments, named and scheduled as the table above says."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval

    from flows.analyze_backlog import analyze_backlog
    from flows.case_action import case_action
    from flows.collect import collect
    from flows.daily_report import daily_report
    from flows.monitor import monitor
    from flows.periodic_report import periodic_report
    from flows.risk_library import risk_library
    from flows.special_report import special_report
    from flows.track_cases import track_cases

    module = EntrypointType.MODULE_PATH
    # YUQING_SCHEDULES_ACTIVE=false serves everything with its schedules switched off: for drills and tests,
    # where only runs started by hand (UI, API, `prefect deployment run`) should happen.
    active = os.environ.get("YUQING_SCHEDULES_ACTIVE", "true").lower() not in ("0", "false", "no")
    deployments = [
        monitor.to_deployment(
            "every-10-min",
            schedules=[Interval(600, timezone=TIMEZONE, active=active)],
            entrypoint_type=module,
            description="采集到期信息源，然后分析新信息、升级无人确认的预警（每 10 分钟）",
        ),
        daily_report.to_deployment(
            "morning",
            schedules=[Cron("0 8 * * *", timezone=TIMEZONE, active=active)],
            entrypoint_type=module,
            description="每天 08:00 写出并送达昨天的舆情日报",
        ),
        *(
            periodic_report.to_deployment(
                kind,
                schedules=[Cron(cron, timezone=TIMEZONE, active=active)],
                parameters={"kind": kind},
                entrypoint_type=module,
                description=description,
            )
            for kind, cron, description in PERIODIC_SCHEDULES
        ),
        track_cases.to_deployment(
            "hourly",
            schedules=[Cron("5 * * * *", timezone=TIMEZONE, active=active)],
            entrypoint_type=module,
            description="每小时：督办件催办、超期通知、列入通报",
        ),
        special_report.to_deployment("ad-hoc", entrypoint_type=module, description="按事件或规则表达式生成舆情专报"),
        case_action.to_deployment("ui", entrypoint_type=module, description="记录督办件的办理动作（签收、交单、办结……）"),
        collect.to_deployment("ad-hoc", entrypoint_type=module, description="只采集"),
        _on_dask(
            analyze_backlog.to_deployment(
                "backlog", entrypoint_type=module, description="只分析（Dask 多进程，积压时用）；给出时间范围可在改库后重新分析"
            )
        ),
    ]
    if risk_file:
        deployments.append(
            risk_library.to_deployment(
                "daily",
                schedules=[Cron("30 6 * * *", timezone=TIMEZONE, active=active)],
                parameters={"path": risk_file},
                entrypoint_type=module,
                description="每天 06:30：校验、回测、导入风险库，生成风险提示",
            )
        )
    else:
        deployments.append(
            risk_library.to_deployment("daily", entrypoint_type=module, description="校验、回测、导入风险库（需给出 path）")
        )
    return deployments


def _on_dask(deployment):  # type: ignore[no-untyped-def]
    """Point the deployment at ``flows.analyze_backlog``: ``to_deployment`` names the module of the flow's
    function (``flows.analyze``), and a run would load the flow from there, with the default task runner."""
    deployment.entrypoint = "flows.analyze_backlog.analyze_backlog"
    return deployment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrefectServerNotReady(UserError, RuntimeError):
    """The local Prefect server did not come up; the message says where its log is and what to try."""


class PrefectAccessDenied(UserError, RuntimeError):
    """The Prefect API refused this process's credential (or it has none); the message says what to set."""


CREDENTIAL_FILE = "api-auth-string"
CREDENTIAL_USER = "yuqing"


@dataclass(frozen=True)
class ServerCredential:
    """The local server's ``user:password`` and the file it is kept in (never printed)."""

    auth_string: str
    path: Path | None  # None: taken from PREFECT_SERVER_API_AUTH_STRING

    @property
    def user(self) -> str:
        return self.auth_string.partition(":")[0]


def server_credential(home: Path) -> ServerCredential:
    """The local server's credential: ``PREFECT_SERVER_API_AUTH_STRING`` if set, otherwise the one kept in
    ``home/api-auth-string`` (mode 0600), made once as ``yuqing:<random>`` and reused on every start.

    A credential file that others may read is refused rather than used: anyone who read it could drive the API.
    """
    given = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if given:
        return ServerCredential(given, None)
    home.mkdir(parents=True, exist_ok=True)
    path = home / CREDENTIAL_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return ServerCredential(read_server_credential(path), path)
    value = f"{CREDENTIAL_USER}:{secrets.token_urlsafe(32)}"
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return ServerCredential(value, path)


def read_server_credential(path: Path) -> str:
    """The ``user:password`` kept in ``path``; refused if others may read the file or it is not one such line."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PrefectAccessDenied(
            f"Prefect 服务器凭据文件 {path} 的权限为 {mode:04o}，其他用户也能读取；"
            f"请执行 chmod 600 {path}（若已泄露，删除此文件后重启会生成新的凭据）"
        )
    value = path.read_text(encoding="utf-8").strip()
    if ":" not in value:
        raise PrefectAccessDenied(f"Prefect 服务器凭据文件 {path} 的内容应为一行「用户名:密码」；删除此文件后重启会生成新的凭据")
    return value


def start_local_server(
    home: Path, port: int | None = None, timeout_s: float = 300, *, auth_string: str | None = None
) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    """``prefect server start`` on 127.0.0.1 with its own home (its own SQLite database); returns it and its API URL.

    With ``auth_string`` (``user:password``) every API route but the health probes asks for it; cross-origin
    requests are allowed from the UI's own origin only, whatever the environment says.
    """
    port = port or _free_port()
    home.mkdir(parents=True, exist_ok=True)
    origin = f"http://127.0.0.1:{port}"
    api = f"{origin}/api"
    # The UI asks the API at the address it is told; without this it tries port 4200 whatever the server's port.
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_API_URL": api,
        # The UI's own origin, by either loopback name it may be opened as: its pages call the API at 127.0.0.1.
        "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": f"{origin},http://localhost:{port}",
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_SERVER_CORS_ALLOWED_ORIGINS", None)  # the older name of the same setting would compete
    if auth_string:
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth_string
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PrefectServerNotReady(f"Prefect 服务器启动失败（端口 {port} 是否已被占用？），详情见 {home / 'server.log'}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:  # the probe answers without credentials
                return process, api
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(process)
    raise PrefectServerNotReady(f"Prefect 服务器 {timeout_s:.0f} 秒内未就绪：机器繁忙时稍后重试，详情见 {home / 'server.log'}")


def check_api_access(api: str, auth_string: str | None) -> None:
    """Fail with a message that says what to set if the Prefect API at ``api`` refuses ``auth_string``."""
    # As Prefect's client sends it: the whole string base64-encoded, whatever its colons.
    headers = {"Authorization": "Basic " + base64.b64encode(auth_string.encode()).decode()} if auth_string else {}
    try:
        answer = httpx.get(f"{api}/admin/version", headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise PrefectAccessDenied(f"连不上 Prefect 服务器 {api}（{type(exc).__name__}）：请检查 PREFECT_API_URL 和网络") from None
    if answer.status_code == 401:
        if auth_string:
            raise PrefectAccessDenied(
                f"Prefect 服务器 {api} 拒绝了 PREFECT_API_AUTH_STRING 中的凭据（401）："
                "请改为与服务器的 PREFECT_SERVER_API_AUTH_STRING 相同的「用户名:密码」"
            )
        raise PrefectAccessDenied(
            f"Prefect 服务器 {api} 要求认证（401）：请设置 PREFECT_API_AUTH_STRING=用户名:密码"
            "（与服务器的 PREFECT_SERVER_API_AUTH_STRING 相同）后重试"
        )


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def serve_all(home: Path, risk_file: str | None = None) -> None:
    """Serve every deployment from this process, starting a local server first if none is configured.

    The local server is started with API authentication and the UI's origin as the only CORS origin; with
    ``PREFECT_API_URL`` given, the credential is ``PREFECT_API_AUTH_STRING`` and a refusal stops here, with
    a message, before anything is served.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server_home = home / "prefect-server"
        credential = server_credential(server_home)
        print("正在启动本地 Prefect 服务器…（首次启动要建立它的数据库，可能需要一两分钟）", flush=True)
        port = int(os.environ.get("YUQING_PREFECT_PORT", "4200"))
        server, api = start_local_server(server_home, port=port, auth_string=credential.auth_string)
        # Read by Prefect when it is imported below, and inherited by every flow run this process starts.
        os.environ["PREFECT_API_URL"] = api
        os.environ["PREFECT_API_AUTH_STRING"] = credential.auth_string
        where = f"凭据文件 {credential.path}" if credential.path else "环境变量 PREFECT_SERVER_API_AUTH_STRING"
        print(f"Prefect 服务器：{api.removesuffix('/api')}（界面在浏览器中打开此地址）", flush=True)
        print(f"API 已开启认证：界面会要求输入密码，填入{where}中的整行「{credential.user}:…」", flush=True)
    else:
        check_api_access(os.environ["PREFECT_API_URL"], os.environ.get("PREFECT_API_AUTH_STRING"))
    try:
        from prefect import serve

        serve(*build_deployments(risk_file), print_starting_message=True)
    finally:
        if server is not None:
            stop(server)


if __name__ == "__main__":  # pragma: no cover
    from yuqing_core.config import get_settings

    settings = get_settings()
    serve_all(settings.home.resolve(), os.environ.get("YUQING_RISK_FILE"))
