"""Screenshot the Prefect UI showing a ``monitor`` flow run with its named tasks, for the docs.

Starts everything it needs on 127.0.0.1 and nothing else: a Prefect server
(its own database in a temporary folder), a feed server with the sample
county, and an application database (SQLite) with the sample sources and
risk library. Runs the ``monitor`` flow once against them (small batches,
so several ``match-N``/``group-N``/``warn-N`` tasks show), then opens the
flow run's page in headless Chromium and saves a PNG of the run: its task
graph and, below, the log lines of each task by name. (The graph draws its
labels with a Latin-only bitmap font, so the collect tasks, named after the
Chinese source names, are unlabelled bars there; the log names them.) Needs Debian's
chromium and a CJK font for the Chinese task names and logs
(``apt-get install chromium fonts-noto-cjk``).

Examples::

    .venv/bin/python scripts/screenshot_prefect_ui.py                    # writes docs/prefect-monitor-run.png
    .venv/bin/python scripts/screenshot_prefect_ui.py --out /tmp/run.png --keep   # leave the server up to look around
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
WINDOW = (1600, 1400)
# The UI is a single-page app that loads the run, its task runs and their states over the API after the first paint.
RENDER_BUDGET_MS = 20_000
CHROMIUM_TIMEOUT_S = 120
BATCH = 100


def run_monitor(home: Path, feeds_base_url: str) -> str:
    """One monitor flow run against the sample county; returns the flow run id."""
    from yuqing_core.collect.sources import import_sources, load_sources_file
    from yuqing_core.config import get_settings
    from yuqing_core.db import get_database, upgrade
    from yuqing_core.demo import load_county, sources_yaml
    from yuqing_core.risk.library import load_library_file
    from yuqing_core.risk.versions import import_library

    settings = get_settings()
    db = get_database()
    upgrade(db)
    path = home / "sources.yaml"
    path.write_text(sources_yaml(load_county(), feeds_base_url), encoding="utf-8")
    import_sources(db, load_sources_file(path), settings)
    import_library(db, load_library_file(ROOT / "src" / "yuqing_core" / "demo" / "risk.yaml"), author="演示")

    from flows.monitor import monitor

    state = asyncio.run(monitor(batch_size=BATCH, return_state=True))
    print(f"monitor 运行结束：{state.type.value} {state.message}", file=sys.stderr)
    return str(state.state_details.flow_run_id)


def screenshot(url: str, out: Path, profile: Path) -> None:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
        f"--virtual-time-budget={RENDER_BUDGET_MS}", f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={out}", url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    if result.returncode != 0 or not out.exists():
        sys.exit(f"chromium failed ({result.returncode}):\n{result.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "prefect-monitor-run.png")
    parser.add_argument("--keep", action="store_true", help="keep the Prefect server running until Ctrl-C")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"没有找到 {CHROMIUM}：请先安装 chromium（apt-get install chromium）")
    home = Path(tempfile.mkdtemp(prefix="yuqing-ui-"))
    os.environ.update({
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "results"),
        "YUQING_HOME": str(home),
        "YUQING_COUNTY_NAME": "青禾县",
    })  # fmt: skip
    for name in ("YUQING_DATABASE_URL", "YUQING_UNITS_FILE", "PREFECT_API_URL"):
        os.environ.pop(name, None)

    from flows.deployments import start_local_server, stop
    from yuqing_core.demo import load_county, serve_county
    from yuqing_core.demo.server import FeedServer

    server, api = start_local_server(home / "prefect-server")
    os.environ["PREFECT_API_URL"] = api
    try:
        with FeedServer() as feeds:
            serve_county(feeds, load_county())
            # The sample county's feeds are on 127.0.0.1: allow exactly that server's address and port.
            os.environ["YUQING_FETCH_ALLOWED_NETWORKS"] = feeds.base_url.removeprefix("http://")
            flow_run_id = run_monitor(home, feeds.base_url)
        page = f"{api.removesuffix('/api')}/runs/flow-run/{flow_run_id}"
        args.out.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        screenshot(page, args.out.resolve(), home / "chromium")
        print(f"{args.out}（{page}，{time.monotonic() - started:.0f} 秒）")
        if args.keep:
            print(f"Prefect 界面：{api.removesuffix('/api')}，按 Ctrl-C 结束", file=sys.stderr)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        stop(server)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
