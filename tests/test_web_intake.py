"""报送: a unit member's lead becomes an item of 单位报送 with the unit recorded, waits for the next analyze run,
and shows in the office's queue (newest first, with its event once analysed); links are http(s) only, files are
checked like case attachments; leaders and units have no access to the office's queue or to other units' files."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webdesk import csrf_of, desk_with
from yuqing_core.analysis.match import items_to_analyze
from yuqing_core.collect.leads import LEAD_SOURCE, lead_file_path
from yuqing_core.db.models import Event, EventItem, Item, Source, UnitLead
from yuqing_core.timeutil import utcnow

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)


@pytest.fixture
def people(desk):
    desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    desk.account("lw", unit="柳湾镇", display_name="王五")
    desk.account("analyst", role="analyst", display_name="李四")
    desk.account("leader", role="leader", display_name="县长")
    return desk


def report(browser, *, files=None, **fields):
    token = csrf_of(browser.get("/intake").text)
    return browser.post("/intake", data={"csrf_token": token, **fields}, files=files)


def leads(desk) -> list[UnitLead]:
    with desk.db.reader() as session:
        return list(session.scalars(select(UnitLead).order_by(UnitLead.id)))


def test_a_lead_becomes_an_item_of_the_unit_reports_source_and_reaches_the_office_queue(people) -> None:
    desk = people
    member = desk.login("zhangsan")
    done = report(member, url="https://tieba.example/p/77", text="化工园区附近有刺鼻气味\n群众在贴吧反映多日",
                  files={"file": ("截图.png", PNG, "image/png")})  # fmt: skip
    assert done.status_code == 303
    assert "已报送" in member.get(done.headers["location"]).text

    [lead] = leads(desk)
    assert (lead.unit, lead.url, lead.filename) == ("县应急管理局", "https://tieba.example/p/77", "截图.png")
    assert lead.size_bytes == len(PNG)
    with desk.db.reader() as session:
        item = session.get(Item, lead.item_id)
        source = session.get(Source, item.source_id)
    assert source.name == LEAD_SOURCE and source.url is None
    assert (item.title, item.url, item.author) == ("化工园区附近有刺鼻气味", "https://tieba.example/p/77", "县应急管理局")
    assert "群众在贴吧反映多日" in item.text
    assert item.id in items_to_analyze(desk.db)  # the next analyze run takes it like any collected item
    path = lead_file_path(desk.settings, lead)
    assert path is not None and path.read_bytes() == PNG
    assert not path.is_relative_to(desk.settings.home / "static")
    audit = [e for e in desk.audit() if e.action == "lead.report"]
    assert [(e.account_name, e.target) for e in audit] == [("zhangsan", f"lead:{lead.id}")]

    report(desk.login("lw"), text="柳湾镇东坪村道路破损")
    office = desk.login("analyst")
    queue = office.get("/intake").text
    assert queue.index("柳湾镇东坪村道路破损") < queue.index("化工园区附近有刺鼻气味")  # newest first
    assert "县应急管理局 · 张三" in queue and "https://tieba.example/p/77" in queue and "待分析" in queue
    assert f'href="/intake/{lead.id}/file"' in queue
    downloaded = office.get(f"/intake/{lead.id}/file")
    assert downloaded.status_code == 200 and downloaded.content == PNG
    assert downloaded.headers["content-disposition"].startswith("attachment")

    with desk.db.writer() as session:  # the analyze run grouped it
        now = utcnow()
        event = Event(seed_item_id=item.id, title="化工园区异味", first_seen_at=now, last_seen_at=now, updated_at=now)
        session.add(event)
        session.flush()
        session.add(EventItem(item_id=item.id, event_id=event.id, joined_by="seed", published_at=now, joined_at=now))
    assert f"已归入事件 #{event.id}：化工园区异味" in office.get("/intake").text


def test_a_second_report_of_the_same_link_points_at_the_same_item(people) -> None:
    desk = people
    report(desk.login("zhangsan"), url="https://tieba.example/p/77", text="")
    report(desk.login("lw"), url="https://tieba.example/p/77", text="")
    first, second = leads(desk)
    assert first.item_id == second.item_id and (first.unit, second.unit) == ("县应急管理局", "柳湾镇")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/a", "http://", "//example.com/a", "data:,x"]
)
def test_a_link_must_be_http_or_https(people, url) -> None:
    desk = people
    refused = report(desk.login("zhangsan"), url=url, text="说明")
    assert refused.status_code == 400 and ("http://" in refused.text or "链接格式不对" in refused.text)
    assert leads(desk) == []


def test_empty_leads_and_unacceptable_files_are_refused_and_leave_nothing(people) -> None:
    desk = people
    member = desk.login("zhangsan")
    empty = report(member, url="", text="  ")
    assert empty.status_code == 400 and "至少一项" in empty.text
    renamed = report(member, text="说明", files={"file": ("截图.png", PROGRAM, "image/png")})
    assert renamed.status_code == 400 and "内容不是PNG 图片" in renamed.text and "说明" in renamed.text
    program = report(member, text="说明", files={"file": ("setup.exe", PROGRAM, "application/octet-stream")})
    assert program.status_code == 400 and "不接受" in program.text
    small = desk_with(desk, web_max_upload_bytes=32)
    too_big = report(small.login("zhangsan"), text="说明", files={"file": ("截图.png", PNG, "image/png")})
    assert too_big.status_code == 400 and "超过大小上限" in too_big.text
    assert leads(desk) == []
    with desk.db.reader() as session:
        assert session.scalar(select(Item)) is None
    folder = desk.settings.effective_attachments_dir / "leads"
    assert not folder.exists() or not any(folder.iterdir())


def test_the_token_is_required(people) -> None:
    desk = people
    member = desk.login("zhangsan")
    assert member.post("/intake", data={"csrf_token": "forged", "text": "说明"}).status_code == 403
    assert member.post("/intake", data={"text": "说明"}).status_code == 403
    assert leads(desk) == []


def test_the_queue_and_files_are_the_office_s_and_the_reporting_unit_s_only(people) -> None:
    desk = people
    report(desk.login("zhangsan"), text="化工园区异味", files={"file": ("截图.png", PNG, "image/png")})
    [lead] = leads(desk)

    leader = desk.login("leader")
    assert leader.get("/intake").status_code == 404
    assert leader.get(f"/intake/{lead.id}/file").status_code == 404
    token = csrf_of(leader.get("/leader").text)
    assert leader.post("/intake", data={"csrf_token": token, "text": "x"}).status_code == 404

    other = desk.login("lw")
    page = other.get("/intake").text
    assert "化工园区异味" not in page and "报送" in page  # their own form, not 县应急管理局's leads
    assert other.get(f"/intake/{lead.id}/file").status_code == 404
    assert desk.login("zhangsan").get(f"/intake/{lead.id}/file").status_code == 200

    office = desk.login("analyst")
    assert 'name="text"' not in office.get("/intake").text  # the office has the queue, not the form
    token = csrf_of(office.get("/intake").text)
    assert office.post("/intake", data={"csrf_token": token, "text": "x"}).status_code == 404
    assert len(leads(desk)) == 1


def test_every_page_asks_for_a_sign_in_first(people) -> None:
    desk = people
    anonymous = desk.client()
    for method, path in (("GET", "/intake"), ("POST", "/intake"), ("GET", "/intake/1/file"), ("GET", "/notices"),
                         ("GET", "/notices/supervision/1"), ("POST", "/notices/supervision/1/ack")):  # fmt: skip
        response = anonymous.request(method, path, data={"text": "x"} if method == "POST" else None)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert leads(desk) == []
