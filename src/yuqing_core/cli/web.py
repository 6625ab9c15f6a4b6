"""``yuqing web``: the workbench for the office, the units and the leaders, served by uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import click

from yuqing_core.cli.app import database, main, settings, user_errors

DEFAULT_PORT = 8800


@main.command("web")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (behind a reverse proxy: keep loopback)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True, help="Port to listen on.")
@user_errors
def web_command(host: str, port: int) -> None:
    """Serve the web workbench. Accounts come from `yuqing users`; stop with Ctrl-C.

    Behind an https reverse proxy on this machine, the proxy's X-Forwarded-For and X-Forwarded-Proto
    are trusted (client addresses for login limits; Secure cookies); or set YUQING_WEB_COOKIE_SECURE=true.

    Example:

        yuqing web --host 127.0.0.1 --port 8800
    """
    import uvicorn

    use_local_prefect_server(settings().home.resolve())  # before anything imports Prefect, which reads it once
    from yuqing_core.web import create_app

    app = create_app(settings(), db=database())
    click.echo(f"工作台：http://{host}:{port}/（按 Ctrl-C 停止）", err=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1", log_level="warning")


def use_local_prefect_server(home: Path) -> bool:
    """Point 生成专报 at the Prefect server ``yuqing serve`` runs on this machine, when no API is configured.

    ``yuqing serve`` keeps the server's credential in ``home/prefect-server/api-auth-string`` and listens on
    ``YUQING_PREFECT_PORT`` (4200); with that file present and ``PREFECT_API_URL`` unset, the workbench uses
    both, so an operator need not copy the password into the environment. Returns whether it did.
    """
    if os.environ.get("PREFECT_API_URL"):
        return False
    import importlib

    # By name, as `yuqing serve` loads it: flows/ is the orchestration layer, outside the core's type checking.
    deployments = importlib.import_module("flows.deployments")
    path = home / "prefect-server" / deployments.CREDENTIAL_FILE
    if not path.is_file():
        return False
    os.environ["PREFECT_API_AUTH_STRING"] = str(deployments.read_server_credential(path))
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{os.environ.get('YUQING_PREFECT_PORT', '4200')}/api"
    return True
