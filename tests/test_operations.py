"""Running it as operators do, against a real ``prefect server start`` process on 127.0.0.1 and a real
``yuqing serve`` process serving every deployment.

- A ``monitor`` run in which one source's collect task and the analyze stage
  fail (faults injected by a setting) is retried the way the UI's Retry button
  does it (the flow run set to Scheduled named AwaitingRetry, without force):
  only what failed runs again -- the failed source is fetched once, no other
  feed a second time -- and, once the next run has analysed what the late
  source brought, the database has the same rows as a run that never failed.
- A ``daily-report`` run whose delivery fails is retried the same way: the
  report is not built again, and each recipient receives it exactly once.
- ``prefect deployment run 'special-report/ad-hoc' --param ...`` against the
  served deployment produces the report files.
- ``prefect deployment run 'analyze/backlog' --param since=... --param until=...``
  re-analyses a window on the Dask task runner (a LocalCluster started in the
  flow run's process).

One slow test module: starting the server and the serving process takes a
while, so both are shared by its tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from helpers import collect, item_rows
from yuqing_core.analysis import analyze
from yuqing_core.analysis.snapshot import analysis_snapshot
from yuqing_core.collect.sources import import_sources, load_sources_file
from yuqing_core.config import Settings
from yuqing_core.db import Database, Source, upgrade
from yuqing_core.db.models import EarlyWarning, Item, ItemAnalysis
from yuqing_core.demo import county_feeds, load_county, sources_yaml
from yuqing_core.demo.server import FeedServer
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.versions import import_library
from yuqing_core.timeutil import utcnow

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
RISK = ROOT / "src" / "yuqing_core" / "demo" / "risk.yaml"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def prepare_database(url: str, feeds: FeedServer, home: Path) -> Database:
    """An application database with the sample county's sources and risk library."""
    db = Database(url)
    upgrade(db)
    settings = Settings(home=home, database_url=url, fetch_allowed_networks=["127.0.0.1"])
    path = home / "sources.yaml"
    path.write_text(sources_yaml(load_county(), feeds.base_url), encoding="utf-8")
    import_sources(db, load_sources_file(path), settings)
    import_library(db, load_library_file(RISK), author="测试")
    return db


@pytest.fixture(scope="module")
def operations(tmp_path_factory, secured_prefect_server):
    """The session's Prefect server (authentication on), a FeedServer with the sample county (a week that
    ended ten days ago), and `yuqing serve` with the server's credential, as a machine that serves it would."""
    from flows.deployments import stop

    home = tmp_path_factory.mktemp("ops")
    county = load_county()
    with FeedServer() as feeds:
        # Dated well in the past, so the analysis does not depend on the minute it runs (no velocity, no spike).
        for path, (body, content_type) in county_feeds(county, feeds.base_url, now=utcnow() - timedelta(days=10)).items():
            feeds.add(path, body, content_type=content_type)
        # The helpers below talk to the API with httpx: through the URL that carries the credential.
        api = secured_prefect_server.authed_api
        url = f"sqlite:///{home / 'app.db'}"
        db = prepare_database(url, feeds, home)
        fault = home / "fault"
        env = {
            **os.environ,
            "PREFECT_API_URL": secured_prefect_server.api,
            "PREFECT_API_AUTH_STRING": secured_prefect_server.auth_string,
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "results"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "YUQING_HOME": str(home),
            "YUQING_DATABASE_URL": url,
            "YUQING_FETCH_ALLOWED_NETWORKS": "127.0.0.1",
            "YUQING_FAULT_INJECTION_FILE": str(fault),
            "YUQING_SCHEDULES_ACTIVE": "false",
            "YUQING_DASK_WORKERS": "1",
            # Full text is fetched from the same loopback server: no politeness delay between its pages.
            "YUQING_FULLTEXT_HOST_DELAY_S": "0",
            "YUQING_COUNTY_NAME": "青禾县",
            "DO_NOT_TRACK": "1",
        }
        # One office unit that every warning and report reaches, through a webhook inbox on the feed server.
        inbox = feeds.add_inbox("/inbox/office")
        units = home / "units.yaml"
        target = "json://" + feeds.base_url.split("//", 1)[1] + "/inbox/office"
        routes = "\n".join(
            f"  {key}: [县网络舆情应急监控中心]" for key in ("IV", "III", "II", "I", "daily_report", "special_report")
        )
        units.write_text(
            f'units:\n  - name: 县网络舆情应急监控中心\n    kind: office\n    targets: ["{target}"]\nrouting:\n{routes}\n',
            encoding="utf-8",
        )
        env["YUQING_UNITS_FILE"] = str(units)
        log = (home / "serve.log").open("ab")
        serving = subprocess.Popen([sys.executable, "-m", "yuqing_core.cli", "serve"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True, cwd=home)  # fmt: skip
        try:
            wait_for_deployments(api, 8, home)
            yield {"api": api, "db": db, "fault": fault, "feeds": feeds, "home": home, "env": env, "url": url, "inbox": inbox}
        finally:
            stop(serving)
            db.dispose()


def wait_for_deployments(api: str, count: int, home: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
        if len(found) >= count:
            return
        time.sleep(1)
    raise AssertionError(f"deployments not served in time; see {home / 'serve.log'}")


def deployment_id(api: str, flow: str, name: str) -> str:
    return httpx.get(f"{api}/deployments/name/{flow}/{name}", timeout=10).json()["id"]


def wait_terminal(api: str, flow_run_id: str, home: Path, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=10).json()
        if run["state"]["type"] in TERMINAL:
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} did not finish; see {home / 'serve.log'}")


def press_retry(api: str, flow_run_id: str) -> None:
    """What the UI's Retry button does: the flow run set to Scheduled, named AwaitingRetry, without force."""
    answer = httpx.post(
        f"{api}/flow_runs/{flow_run_id}/set_state",
        json={"state": {"type": "SCHEDULED", "name": "AwaitingRetry", "message": "Retry from the UI"}, "force": False},
        timeout=10,
    ).json()
    assert answer["status"] == "ACCEPT", answer


def start_run(api: str, flow: str, deployment: str, parameters: dict[str, object]) -> dict:
    """A flow run of a served deployment, as the UI's Run button makes it."""
    # A busy machine can make the server's own SQLite answer 500 once; the idempotency key makes a retry safe.
    body = {"parameters": parameters, "idempotency_key": uuid.uuid4().hex}
    url = f"{api}/deployments/{deployment_id(api, flow, deployment)}/create_flow_run"
    for attempt in range(3):
        response = httpx.post(url, json=body, timeout=30)
        if response.status_code < 500:
            break
        time.sleep(1 + attempt)
    assert response.is_success, (response.status_code, response.text)
    return response.json()


def task_run_name(run: dict) -> str:
    """A task run's name without the provisional "-<3 hex>" suffix it may show just after it is recorded."""
    return re.sub(r"-[0-9a-f]{3}$", "", run["name"])


def task_runs(api: str, flow_run_id: str) -> list[dict]:
    return httpx.post(f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}}, timeout=10).json()


FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def settled_task_runs(api: str, flow_run_id: str) -> list[dict]:
    """The task runs of a flow run that has ended, once each has its final state recorded.

    Prefect records task-run states from events, a moment after the flow run's own state: on a busy
    machine a task run can still read as having no state when the flow run is already FAILED. The
    wait is a hang guard only; whatever is recorded then is returned for the assertions to judge.
    """
    deadline = time.monotonic() + 60
    while True:
        runs = task_runs(api, flow_run_id)
        if all((run.get("state") or {}).get("type") in FINAL_STATES for run in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)


def content(db: Database) -> dict:
    """What a run leaves, by natural keys (no surrogate ids, no times): items and everything the analysis wrote.

    Of each event membership, the item and the rule that joined it, but not
    which earlier item it was joined through: the two databases stored their
    items in different orders (feeds are fetched concurrently), and items
    published in the same minute -- the sample county's times are to the
    minute -- are taken in storage order, so a tie can go through the other
    item of the same event. The event partition, figures and warnings must
    still be equal.
    """
    snapshot = analysis_snapshot(db)
    snapshot["memberships"] = sorted((item, joined_by) for item, joined_by, _through, _similarity in snapshot["memberships"])
    # A hot list's entries carry no date: each is dated when first fetched, which differs from one database to the other.
    dateless = {source["name"] for source in load_county().sources if source["format"] == "hot-page"}
    items = [(*row[:6], None, *row[7:]) if row[0] in dateless else row for row in item_rows(db)]
    return {"items": items, **snapshot}


def test_retrying_a_failed_monitor_run_re_runs_only_the_failed_source_and_stage(operations, tmp_path) -> None:
    api, db, fault, feeds, home = (operations[k] for k in ("api", "db", "fault", "feeds", "home"))
    failing = load_county().sources[0]
    fault.write_text(f"collect:{failing['name']}\nanalyze\n", encoding="utf-8")
    run = start_run(api, "monitor", "every-10-min", {"all_sources": True})
    failed = wait_terminal(api, run["id"], home)
    assert failed["state"]["type"] == "FAILED", failed["state"]
    failed_tasks = {task_run_name(t) for t in settled_task_runs(api, run["id"]) if t["state"]["type"] == "FAILED"}
    assert failing["name"] in failed_tasks, failed_tasks  # the red task is named after the source
    assert any(name.startswith("match-") for name in failed_tasks), failed_tasks
    feed_paths = {source["path"] for source in load_county().sources}

    def feed_hits() -> dict[str, int]:  # the feeds polled (the analyze stage also fetches article pages)
        return {path: count for path, count in feeds.hits.items() if path in feed_paths}

    fetched_once = feed_hits()
    assert failing["path"] not in fetched_once  # the fault struck before polling
    assert len(fetched_once) == len(load_county().sources) - 1 and all(count == 1 for count in fetched_once.values())
    with db.reader() as session:
        assert session.scalar(select(ItemAnalysis.item_id).limit(1)) is None  # nothing analysed yet

    # The operator fixes the cause and presses Retry: Scheduled, named AwaitingRetry, without force.
    fault.unlink()
    press_retry(api, run["id"])
    done = wait_terminal(api, run["id"], home)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert done["run_count"] >= 2
    # Only the source that failed was polled now; the others came back from their results.
    assert feed_hits() == {**fetched_once, failing["path"]: 1}
    # The retried run analysed what its plan (made on the first attempt) held; the items the late source
    # brought wait for the next run, as any item collected after a plan does. That next run, here:
    analyze(db)

    # The same sources and library, in a database that never saw a failure: the other sources polled and
    # analysed, then the late source polled and analysed (events grow in the order items arrive).
    clean = prepare_database(f"sqlite:///{tmp_path / 'clean.db'}", feeds, tmp_path)
    settings = Settings(home=tmp_path, database_url=clean.url, fetch_allowed_networks=["127.0.0.1"])
    with clean.reader() as session:
        ids = dict(session.execute(select(Source.name, Source.id)).all())
    late = ids.pop(failing["name"])
    collect(clean, settings, *ids.values())
    analyze(clean)
    collect(clean, settings, late)
    analyze(clean)
    retried, never_failed = content(db), content(clean)
    assert [key for key in retried if retried[key] != never_failed[key]] == []


def test_retrying_a_failed_report_delivery_sends_it_once_without_building_it_again(operations) -> None:
    api, fault, home, inbox = (operations[k] for k in ("api", "fault", "home", "inbox"))
    fault.write_text("report:daily_report\n", encoding="utf-8")
    received_before = len(inbox)
    run = start_run(api, "daily-report", "morning", {"day": "2026-11-20"})
    failed = wait_terminal(api, run["id"], home)
    assert failed["state"]["type"] == "FAILED", failed["state"]
    states = {task_run_name(t): t["state"]["type"] for t in settled_task_runs(api, run["id"])}
    assert states.get("deliver-daily_report") == "FAILED" and states.get("build-daily-report-2026-11-20") == "COMPLETED", states
    assert len(inbox) == received_before  # nothing went out

    fault.unlink()
    press_retry(api, run["id"])
    done = wait_terminal(api, run["id"], home)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    builds = [t for t in task_runs(api, run["id"]) if task_run_name(t) == "build-daily-report-2026-11-20"]
    # Each attempt records a task run; the retry's came back from the first one's result, not built again.
    assert sorted(t["state"]["name"] for t in builds) == ["Cached", "Completed"], [t["state"] for t in builds]
    daily = [body for _headers, body in inbox[received_before:] if "舆情日报" in json.loads(body).get("title", "")]
    assert len(daily) == 1, inbox[received_before:]


def run_deployment(operations: dict, name: str, **parameters: object) -> dict:
    """``prefect deployment run NAME --param k=v ...`` as an operator types it; the flow run once it has ended."""
    params = [option for key, value in parameters.items() for option in ("--param", f"{key}={value}")]
    started = subprocess.run([sys.executable, "-m", "prefect", "deployment", "run", name, *params],
                             env=operations["env"], capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert started.returncode == 0, started.stdout + started.stderr
    flow_run_id = next(line.split()[-1] for line in started.stdout.splitlines() if "UUID" in line)
    return wait_terminal(operations["api"], flow_run_id, operations["home"])


def test_special_report_through_the_served_deployment(operations) -> None:
    db, home = operations["db"], operations["home"]
    with db.reader() as session:
        event_id = session.scalar(select(EarlyWarning.event_id).order_by(EarlyWarning.level, EarlyWarning.id).limit(1))
    if event_id is None:  # the module's first test analysed; run alone (or on another worker), collect and analyse here
        with db.reader() as session:
            sources = list(session.scalars(select(Source.id)))
        collect(db, Settings(home=home, database_url=db.url, fetch_allowed_networks=["127.0.0.1"]), *sources)
        analyze(db)
        with db.reader() as session:
            event_id = session.scalar(select(EarlyWarning.event_id).order_by(EarlyWarning.level).limit(1))
    done = run_deployment(operations, "special-report/ad-hoc", event_id=event_id)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    folder = home / "reports" / "special" / f"event-{event_id}"
    written = sorted(p.suffix for p in folder.iterdir())
    assert written == [".docx", ".html", ".md", ".txt"]
    assert "舆情专报" in (folder / f"舆情专报-event-{event_id}.md").read_text(encoding="utf-8")


def test_backlog_analysis_through_the_served_dask_deployment(operations) -> None:
    from sqlalchemy import func

    api, db = operations["api"], operations["db"]
    with db.reader() as session:
        analysed = session.scalar(select(func.count()).select_from(ItemAnalysis))
        sources = list(session.scalars(select(Source.id)))
    if not analysed:  # run alone: collect and analyse first, as the module's first test did
        collect(db, Settings(home=operations["home"], database_url=db.url, fetch_allowed_networks=["127.0.0.1"]), *sources)
        analyze(db)
    with db.reader() as session:
        first, last, count = session.execute(
            select(func.min(Item.published_at), func.max(Item.published_at), func.count(Item.id))
        ).one()
    since, until = first.isoformat(), (last + timedelta(seconds=1)).isoformat()
    log_start = (operations["home"] / "serve.log").stat().st_size
    done = run_deployment(operations, "analyze/backlog", since=since, until=until)
    flow_run_id = done["id"]
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert f"分析 {count} 条" in done["state"]["message"]
    # Task runs in Dask workers are reported a moment after the flow run ends; the wait is a hang guard only.
    deadline = time.monotonic() + 180
    while not any(t["name"].startswith("match-") and t["state"]["type"] == "COMPLETED" for t in task_runs(api, flow_run_id)):
        if time.monotonic() > deadline:
            pytest.fail(
                f"no completed match task reported: {[(t['name'], t['state']['type']) for t in task_runs(api, flow_run_id)]}"
            )
        time.sleep(0.5)
    # The flow run's process started a Dask cluster (its scheduler logs to the serving process's output).
    served = (operations["home"] / "serve.log").read_bytes()[log_start:].decode("utf-8", "replace")
    assert "Creating a new Dask cluster" in served and "Register worker" in served, served[-3000:]


def test_case_action_through_the_served_deployment_records_the_authenticated_account(operations) -> None:
    """The UI's Run button on case-action/ui: nobody types who acted; the row names the Prefect account the
    serving process authenticates with, the unit it acted for, and the flow run."""
    from yuqing_core.cases import CasePolicy, history, open_case

    api, db, home = operations["api"], operations["db"], operations["home"]
    case = open_case(db, CasePolicy(), actor="县网络舆情应急监控中心", title="东坪村异味", lead_unit="县应急管理局",
                     co_units=["白沙镇人民政府"], dispatch=True)  # fmt: skip
    typed = start_run(
        api, "case-action", "ui", {"case_number": case.number, "action": "ack", "unit": "县应急管理局", "actor": "县长"}
    )
    typed_end = wait_terminal(api, typed["id"], home)  # there is no actor to type: the flow does not bind it
    assert typed_end["state"]["type"] in ("FAILED", "CRASHED"), typed_end["state"]
    assert len(history(db, case.number)) == 2  # open, dispatch

    other = start_run(api, "case-action", "ui", {"case_number": case.number, "action": "ack", "unit": "县水利局"})
    refused = wait_terminal(api, other["id"], home)
    assert refused["state"]["type"] == "FAILED", refused["state"]
    assert "县水利局 不是督办件" in refused["state"]["message"], refused["state"]
    assert len(history(db, case.number)) == 2  # open, dispatch

    run = start_run(api, "case-action", "ui", {"case_number": case.number, "action": "ack", "unit": "县应急管理局"})
    done = wait_terminal(api, run["id"], home)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    row = history(db, case.number)[-1]
    assert (row.action, row.actor) == ("ack", "Prefect 账号 yuqing（代 县应急管理局）")
    assert row.details == {"flow_run_id": run["id"], "on_behalf_of": "县应急管理局"}
