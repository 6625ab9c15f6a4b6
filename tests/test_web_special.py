"""生成专报 from the event page: a real run of the served ``special-report/ad-hoc`` deployment on the session's Prefect
test harness, followed on the progress page to the report's files; a plain Chinese page when there is no Prefect API,
or one that refuses or does not answer; the button for analysts and the head only, 404 to units and leaders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from receivers import free_port
from test_web_office import County, county, staff  # noqa: F401 - the fixtures: two warnings, an account per role
from webdesk import Desk, csrf_of

# How many half-second looks at the server before giving up (a bound on a wait, not a speed check).
SERVE_LOOKS = 180
RUN_LOOKS = 120
START_BUTTON = "生成专报"


@pytest.fixture
def office(county: County) -> County:  # noqa: F811 - the imported fixture
    return county


def event_id_of(office: County) -> int:
    return office.chemical.event_id


def press_button(browser, event_id: int):  # type: ignore[no-untyped-def]
    page = browser.get(f"/events/{event_id}")
    assert page.status_code == 200 and START_BUTTON in page.text
    return browser.post(f"/events/{event_id}/special-report", data={"csrf_token": csrf_of(page.text)})


@pytest.fixture
def served_special_report(settings, prefect_harness, tmp_path: Path) -> Iterator[None]:
    """``special-report/ad-hoc`` served from its own process against the harness's API, over the test's database."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(tmp_path / "results"),
        "YUQING_HOME": str(settings.home),
        "YUQING_DATABASE_URL": settings.effective_database_url,
        "DO_NOT_TRACK": "1",
    }
    # The deployment exactly as `yuqing serve` builds it (entrypoint by module path), alone.
    code = (
        "from prefect import serve; from flows.deployments import build_deployments; "
        "serve(*[d for d in build_deployments() if (d.flow_name, d.name) == ('special-report', 'ad-hoc')])"
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("ab") as log:
        serving = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=tmp_path)  # fmt: skip
    try:
        with get_client(sync_client=True) as client:
            for _ in range(SERVE_LOOKS):
                try:
                    client.read_deployment_by_name("special-report/ad-hoc")
                    break
                except ObjectNotFound:
                    assert serving.poll() is None, log_path.read_text(errors="replace")[-3000:]
                    time.sleep(0.5)
            else:
                pytest.fail("the deployment was never served: " + log_path.read_text(errors="replace")[-3000:])
        yield
    finally:
        serving.terminate()
        try:
            serving.wait(timeout=20)
        except subprocess.TimeoutExpired:
            serving.kill()
            serving.wait()
        with get_client(sync_client=True) as client:  # the next test serves its own, over its own database
            client.delete_deployment(client.read_deployment_by_name("special-report/ad-hoc").id)


def follow(browser, progress: str):  # type: ignore[no-untyped-def]
    """The progress page as the browser sees it, refreshed while it asks to be, until the run has ended."""
    for _ in range(RUN_LOOKS):
        page = browser.get(progress)
        assert page.status_code == 200, page.text
        if '<meta http-equiv="refresh" content="3">' not in page.text:  # final: the page stops refreshing
            return page
        time.sleep(1)
    pytest.fail("the run never ended: " + page.text)


class TestServedDeployment:
    """One database is enough here: the report itself is tested on both (test_report_flows); this is the round trip."""

    @pytest.fixture
    def db_url(self, sqlite_template: Path, tmp_path: Path) -> str:
        path = tmp_path / "app.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"

    @pytest.mark.prefect
    def test_the_button_runs_the_deployment_and_the_progress_page_links_the_files(
        self, office: County, served_special_report: None
    ) -> None:
        from prefect.client.orchestration import get_client

        desk, event_id = office.desk, event_id_of(office)
        browser = desk.login("analyst")
        started = press_button(browser, event_id)
        assert started.status_code == 303, started.text
        progress = started.headers["location"]
        assert progress.startswith("/special-reports/")
        flow_run_id = UUID(progress.rsplit("/", 1)[1])
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
            deployment = client.read_deployment_by_name("special-report/ad-hoc")
        assert run.deployment_id == deployment.id and run.parameters == {"event_id": event_id}
        audit = [entry for entry in desk.audit() if entry.action == "report.special"]
        assert [(e.account_name, e.target, e.details) for e in audit] == [
            ("analyst", f"event:{event_id}", {"flow_run_id": str(flow_run_id), "deployment": "special-report/ad-hoc"})
        ]

        waiting = browser.get(progress)  # the run's process takes seconds to start: not final yet
        assert '<meta http-equiv="refresh" content="3">' in waiting.text and "自动刷新" in waiting.text, waiting.text
        page = follow(browser, progress)
        assert "已完成" in page.text, page.text
        assert 'http-equiv="refresh"' not in page.text
        assert "<script" not in page.text and "Traceback" not in page.text
        assert f"舆情专报-event-{event_id}" in page.text
        downloads = [part.split('"', 1)[0] for part in page.text.split('href="/reports/download?file=')[1:]]
        assert {name.rsplit(".", 1)[1] for name in downloads} == {"html", "docx"}
        html = browser.get(f"/reports/download?file={next(n for n in downloads if n.endswith('html'))}")
        assert html.status_code == 200 and "舆情专报" in html.text

        with get_client(sync_client=True) as client:  # a run that fails: an event that does not exist
            failing = client.create_flow_run_from_deployment(deployment.id, parameters={"event_id": 999999}).id
        page = follow(browser, f"/special-reports/{failing}")
        assert "生成失败" in page.text and "999999" in page.text, page.text
        assert "/reports/download" not in page.text and 'http-equiv="refresh"' not in page.text


def test_without_a_prefect_api_the_page_says_how_to_start_one(office: County) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    browser = office.desk.login("head")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        answer = press_button(browser, event_id_of(office))
        progress = browser.get(f"/special-reports/{uuid4()}")
    for page in (answer, progress):
        assert page.status_code == 503
        assert "没有配置 Prefect 服务器" in page.text and "yuqing serve" in page.text and "Traceback" not in page.text
    assert not [entry for entry in office.desk.audit() if entry.action == "report.special"]


class _Refusing(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"detail": "Unauthorized"}')

    def log_message(self, *_args: object) -> None:
        pass


def test_a_server_that_refuses_or_does_not_answer_is_said_plainly(office: County) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    browser = office.desk.login("analyst")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{server.server_port}/api"}):
            refused = press_button(browser, event_id_of(office))
    finally:
        server.shutdown()
        server.server_close()
    assert refused.status_code == 503 and "拒绝了工作台的请求（401" in refused.text and "yuqing serve" in refused.text
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        silent = press_button(browser, event_id_of(office))
    assert silent.status_code == 503 and "连不上 Prefect 服务器" in silent.text and "Traceback" not in silent.text


def test_a_form_without_the_session_token_is_refused(office: County) -> None:
    browser = office.desk.login("analyst")
    refused = browser.post(f"/events/{event_id_of(office)}/special-report", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and "表单已失效" in refused.text
    missing = browser.post(f"/events/{event_id_of(office)}/special-report")
    assert missing.status_code == 403


@pytest.mark.parametrize("name", ["zhangsan", "leader"])
def test_units_and_leaders_get_404(office: County, name: str) -> None:
    browser = office.desk.login(name)
    page = browser.get(f"/events/{event_id_of(office)}")
    assert page.status_code == 404
    forged = browser.post(f"/events/{event_id_of(office)}/special-report", data={"csrf_token": csrf_of(page.text)})
    assert forged.status_code == 404
    assert browser.get(f"/special-reports/{uuid4()}").status_code == 404


def test_duty_officers_follow_runs_but_have_no_button(office: County) -> None:
    desk: Desk = office.desk
    browser = desk.login("duty")
    page = browser.get(f"/events/{event_id_of(office)}")
    assert page.status_code == 200 and START_BUTTON not in page.text
    refused = browser.post(f"/events/{event_id_of(office)}/special-report", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 404


def test_an_unknown_event_or_run_is_404(office: County) -> None:
    browser = office.desk.login("analyst")
    token = csrf_of(browser.get(f"/events/{event_id_of(office)}").text)
    assert browser.post("/events/999999/special-report", data={"csrf_token": token}).status_code == 404
    assert browser.get("/special-reports/not-a-run").status_code == 404
