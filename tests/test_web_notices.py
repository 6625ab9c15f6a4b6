"""Notices for units: each unit sees the 督报 and 提示函 addressed to it (another unit's is 404) and acknowledges
each once (回执) with an optional note; the office sees who has acknowledged which notice and who has not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webdesk import csrf_of
from yuqing_core.db.models import Item, NoticeReceipt, RiskLibraryVersion, RiskNotice, Source
from yuqing_core.numbers import allocate_number
from yuqing_core.timeutil import utcnow


def add_item(db, title: str) -> int:
    now = utcnow()
    with db.writer() as session:
        source = session.scalar(select(Source).where(Source.name == "县论坛"))
        if source is None:
            source = Source(name="县论坛", url="http://bbs.example/feed", created_at=now, updated_at=now)
            session.add(source)
            session.flush()
        item = Item(source_id=source.id, entry_key=f"url:{title}", title=title, text=title, excerpt=title, published_at=now,
                    fetched_at=now, fingerprint="0" * 40)  # fmt: skip
        session.add(item)
        session.flush()
        return item.id


def supervision_notice(db, unit: str, title: str) -> int:
    """A 督报 as ``report supervision`` numbers it; returns its document number row's id."""
    from yuqing_core.db.models import DocumentNumber

    subject = f"item:{add_item(db, title)}|{unit}"
    allocate_number(db, "supervision", 2026, subject)
    with db.reader() as session:
        return session.scalar(select(DocumentNumber.id).where(DocumentNumber.subject == subject))


def risk_notice(db, point: str, units: list[str]) -> int:
    now = utcnow()
    with db.writer() as session:
        version = session.scalar(select(RiskLibraryVersion))
        if version is None:
            version = RiskLibraryVersion(version=1, created_at=now, author="t", content="", content_sha1="0" * 40, changes={})
            session.add(version)
            session.flush()
        notice = RiskNotice(risk_point_name=point, day="2026-12-01", version_id=version.id, units=units, current_count=9,
                            expected=1.5, p_value=0.001, baseline=[1, 2], example_item_ids=[], created_at=now)  # fmt: skip
        session.add(notice)
        session.flush()
        return notice.id


@pytest.fixture
def people(desk):
    desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    desk.account("lw", unit="柳湾镇", display_name="王五")
    desk.account("analyst", role="analyst", display_name="李四")
    desk.account("leader", role="leader", display_name="县长")
    return desk


def test_each_unit_sees_and_acknowledges_its_own_notices_only(people) -> None:
    desk = people
    mine = supervision_notice(desk.db, "县应急管理局", "化工园区异味")
    theirs = supervision_notice(desk.db, "柳湾镇", "柳湾镇垃圾站")
    shared = risk_notice(desk.db, "危化品安全", ["县应急管理局", "柳湾镇"])
    browser = desk.login("zhangsan")
    listing = browser.get("/notices").text
    assert "化工园区异味" in listing and "危化品安全" in listing and "柳湾镇垃圾站" not in listing
    assert "舆情督〔2026〕1号" in listing and "未回执" in listing

    assert browser.get(f"/notices/supervision/{theirs}").status_code == 404
    assert browser.get("/notices/supervision/9999").status_code == 404
    page = browser.get(f"/notices/supervision/{mine}")
    assert page.status_code == 200 and "确认收到" in page.text
    token = csrf_of(page.text)
    refused = browser.post(f"/notices/supervision/{theirs}/ack", data={"csrf_token": token})
    assert refused.status_code == 404

    done = browser.post(f"/notices/supervision/{mine}/ack", data={"csrf_token": token, "note": "已安排核查"})
    assert done.status_code == 303
    shown = browser.get(done.headers["location"]).text
    assert "已回执" in shown and "张三" in shown and "已安排核查" in shown and "确认收到" not in shown
    again = browser.post(f"/notices/supervision/{mine}/ack", data={"csrf_token": token, "note": "第二次"})
    assert again.status_code == 303
    browser.post(f"/notices/risk_notice/{shared}/ack", data={"csrf_token": token})

    with desk.db.reader() as session:
        receipts = list(session.scalars(select(NoticeReceipt).order_by(NoticeReceipt.id)))
    assert [(r.notice_kind, r.notice_id, r.unit, r.note) for r in receipts] == [
        ("supervision", mine, "县应急管理局", "已安排核查"),
        ("risk_notice", shared, "县应急管理局", None),
    ]
    assert [e.action for e in desk.audit() if e.action.startswith("notice")] == ["notice.ack", "notice.ack"]
    assert all(e.account_name == "zhangsan" for e in desk.audit() if e.action == "notice.ack")

    other = desk.login("lw")
    assert other.get(f"/notices/supervision/{mine}").status_code == 404
    assert "确认收到" in other.get(f"/notices/risk_notice/{shared}").text  # the shared notice: still open for 柳湾镇


def test_the_office_sees_which_units_acknowledged_and_which_not(people) -> None:
    desk = people
    shared = risk_notice(desk.db, "危化品安全", ["县应急管理局", "柳湾镇"])
    member = desk.login("zhangsan")
    page = member.get(f"/notices/risk_notice/{shared}")
    member.post(f"/notices/risk_notice/{shared}/ack", data={"csrf_token": csrf_of(page.text), "note": "收到"})

    office = desk.login("analyst")
    overview = office.get("/notices").text
    assert "已回执：县应急管理局" in overview and "未回执：柳湾镇" in overview
    detail = office.get(f"/notices/risk_notice/{shared}").text
    assert "县应急管理局：已回执（张三" in detail and "柳湾镇：未回执" in detail and "收到" in detail
    assert "确认收到" not in detail  # the office does not sign for units
    token = csrf_of(detail)
    assert office.post(f"/notices/risk_notice/{shared}/ack", data={"csrf_token": token}).status_code == 404


def test_leaders_have_no_notice_pages_and_a_post_without_the_token_is_refused(people) -> None:
    desk = people
    notice = supervision_notice(desk.db, "县应急管理局", "化工园区异味")
    leader = desk.login("leader")
    assert leader.get("/notices").status_code == 404
    assert leader.get(f"/notices/supervision/{notice}").status_code == 404
    member = desk.login("zhangsan")
    assert member.post(f"/notices/supervision/{notice}/ack", data={"csrf_token": "forged"}).status_code == 403
    assert member.post(f"/notices/supervision/{notice}/ack", data={}).status_code == 403
    with desk.db.reader() as session:
        assert session.scalar(select(NoticeReceipt)) is None
