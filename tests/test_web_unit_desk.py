"""The unit desk: a unit sees and answers only its own cases (another unit's is 404 on every route, and nothing
changes), through the core's act with the account as the actor; attachments checked by content and size."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import select

from webdesk import csrf_of, days_ago, desk_with
from yuqing_core.cases import history
from yuqing_core.db.models import CaseAttachment

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)


def office_file(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


def url(case) -> str:
    return "/cases/" + quote(case.number, safe="")


def form(browser, case, **fields) -> dict[str, str]:
    """The hidden fields of the case page as the browser has it, plus ``fields``."""
    page = browser.get(url(case))
    return {"csrf_token": csrf_of(page.text), "expected_version": str(case.version), **fields}


def attachment_rows(desk) -> list[CaseAttachment]:
    with desk.db.reader() as session:
        return list(session.scalars(select(CaseAttachment)))


@pytest.fixture
def people(desk):
    desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    desk.account("lw", unit="柳湾镇", display_name="王五")
    desk.account("bs", unit="白沙镇", display_name="赵六")
    desk.account("analyst", role="analyst", display_name="李四")
    desk.account("leader", role="leader", display_name="县长")
    return desk


def test_the_unit_list_has_its_cases_overdue_first_and_no_others(people) -> None:
    desk = people
    later = desk.case("县应急管理局", title="东坪村道路破损")
    overdue = desk.case("县应急管理局", title="化工园区异味", now=days_ago(30))
    co = desk.case("柳湾镇", co_units=("县应急管理局",), title="柳湾镇垃圾站")
    desk.case("白沙镇", title="白沙镇积水")
    desk.case("县应急管理局", dispatch=False, title="尚未派单的事项")
    page = desk.login("zhangsan").get("/cases").text
    assert page.index(overdue.title) < page.index(later.title) and co.title in page
    assert "白沙镇积水" not in page and "尚未派单的事项" not in page
    assert "已超期" in page and "（周" in page and "个工作日" in page
    assert "白沙镇积水" not in desk.login("zhangsan").get("/cases?unit=白沙镇").text  # units cannot widen their list


def test_sign_start_answer_with_attachments_and_ask_for_an_extension(people) -> None:
    desk = people
    case = desk.case("县应急管理局", co_units=("柳湾镇",))
    browser = desk.login("zhangsan")
    page = browser.get(url(case))
    assert page.status_code == 200 and "签收" in page.text and "请核实有关情况" in page.text
    signed = browser.post(url(case) + "/ack", data=form(browser, case))
    assert signed.status_code == 303 and "已签收" in browser.get(signed.headers["location"]).text
    case = desk.reload(case)
    extended = browser.post(url(case) + "/extend", data=form(browser, case, until="2099-01-05", reason="需现场复核"))
    assert extended.status_code == 303
    assert "申请延至 2099-01-05 18:00（需现场复核），待批准" in browser.get(url(case)).text
    case = desk.reload(case)
    assert (
        case.extension_request["until"].startswith("2099-01-05T18:00:00+08:00")
        and case.extension_request["by"] == "张三（县应急管理局）"
    )
    assert browser.post(url(case) + "/start", data=form(browser, case)).status_code == 303
    case = desk.reload(case)
    files = [("attachments", ("核查报告.pdf", PDF, "application/pdf")),
             ("attachments", ("现场.docx", office_file("word/document.xml"), "application/octet-stream")),
             ("attachments", ("说明.txt", "已整改完毕。".encode(), "text/plain"))]  # fmt: skip
    returned = browser.post(url(case) + "/return", data=form(browser, case, answer="经核查已整改"), files=files)
    assert returned.status_code == 303, returned.text
    case = desk.reload(case)
    assert case.state == "returned" and case.answer == "经核查已整改" and len(case.attachments) == 3

    trail = [(e.action, e.actor) for e in history(desk.db, case.number)][2:]
    assert trail == [("ack", "张三（县应急管理局）"), ("extend", "张三（县应急管理局）"), ("start", "张三（县应急管理局）"),
                     ("return", "张三（县应急管理局）")]  # fmt: skip
    zhangsan = [e for e in desk.audit() if e.action.startswith("case.")]
    assert [(e.action, e.account_name, e.target) for e in zhangsan] == [
        (f"case.{a}", "zhangsan", case.number) for a in ("ack", "extend", "start", "return")
    ]
    assert len({e.account_id for e in zhangsan}) == 1 and zhangsan[0].account_id is not None

    rows = attachment_rows(desk)
    assert [r.content_type.split(";")[0] for r in rows] == [
        "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "text/plain"]  # fmt: skip
    stored = desk.settings.effective_attachments_dir / str(case.id) / rows[0].stored_name
    assert stored.read_bytes() == PDF
    for viewer in ("zhangsan", "lw", "analyst"):  # the lead unit, a co-unit, the office
        download = desk.login(viewer).get(f"{url(case)}/attachments/{rows[0].id}")
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
    assert desk.login("leader").get(f"{url(case)}/attachments/{rows[0].id}").status_code == 404


def test_a_stale_page_cannot_overwrite_a_newer_change(people) -> None:
    desk = people
    case = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    stale = form(browser, case)
    assert browser.post(url(case) + "/ack", data=stale).status_code == 303
    again = browser.post(url(case) + "/start", data=stale)
    assert again.status_code == 409 and "已被修改" in again.text and "请刷新后重试" in again.text
    assert desk.reload(case).state == "acknowledged"
    refused = browser.post(url(case) + "/return", data=form(browser, desk.reload(case), answer="x"))
    assert refused.status_code == 400 and "不能「交单」" in refused.text  # the core names what the state allows
    assert desk.reload(case).state == "acknowledged"


UNIT_ROUTES = ("page", "ack", "start", "return", "extend", "attachment")


@pytest.mark.parametrize("route", UNIT_ROUTES)
def test_another_units_case_is_not_found_on_every_route_and_nothing_changes(people, route) -> None:
    desk = people
    theirs = desk.case("白沙镇")
    # Give their case an attachment to try to download.
    owner = desk.login("bs")
    for step in ("ack", "start"):
        owner.post(url(theirs) + f"/{step}", data=form(owner, theirs))
        theirs = desk.reload(theirs)
    owner.post(url(theirs) + "/return", data=form(owner, theirs, answer="已处理"), files=[("attachments", ("a.pdf", PDF))])
    theirs = desk.reload(theirs)
    attachment = attachment_rows(desk)[0]
    audit_before = len(desk.audit())

    mine = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    token = csrf_of(browser.get(url(mine)).text)
    data = {"csrf_token": token, "expected_version": str(theirs.version), "answer": "冒充", "until": "2099-01-05", "reason": "x"}
    missing_url = "/cases/" + quote("督〔2026〕999号", safe="")
    if route == "page":
        responses = [browser.get(url(theirs)), browser.get(missing_url)]
    elif route == "attachment":
        responses = [
            browser.get(f"{url(theirs)}/attachments/{attachment.id}"),
            browser.get(f"{url(mine)}/attachments/{attachment.id}"),
        ]
    else:
        responses = [browser.post(f"{url(theirs)}/{route}", data=data), browser.post(f"{missing_url}/{route}", data=data)]
    assert [r.status_code for r in responses] == [404, 404]
    assert responses[0].text == responses[1].text  # indistinguishable from a case that does not exist
    assert "已处理" not in responses[0].text and theirs.title not in responses[0].text
    after = desk.reload(theirs)
    assert (after.state, after.version, after.answer, after.extension_request) == (theirs.state, theirs.version, "已处理", None)
    assert len(attachment_rows(desk)) == 1
    assert len(desk.audit()) == audit_before + 1  # only zhangsan's sign-in


def test_a_co_unit_reads_the_case_but_only_the_lead_unit_acts(people) -> None:
    desk = people
    case = desk.case("县应急管理局", co_units=("柳湾镇",))
    browser = desk.login("lw")
    page = browser.get(url(case))
    assert page.status_code == 200 and 'action="' + url(case) + '/ack"' not in page.text
    refused = browser.post(url(case) + "/ack", data=form(browser, case))
    assert refused.status_code == 403 and "只有牵头单位可以办理" in refused.text
    assert desk.reload(case).version == case.version


def test_uploads_are_checked_by_content_and_size(people) -> None:
    desk = desk_with(people, web_max_upload_bytes=1000)
    case = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    for step in ("ack", "start"):
        browser.post(url(case) + f"/{step}", data=form(browser, case))
        case = desk.reload(case)
    refusals = {
        ("报告.pdf", PROGRAM): "「报告.pdf」的内容不是PDF（文件内容与扩展名不符），未上传",
        ("照片.png", PDF): "「照片.png」的内容不是PNG 图片",
        ("表格.xlsx", office_file("word/document.xml")): "「表格.xlsx」的内容不是Excel 表格",
        ("大文件.pdf", PDF + b"0" * 1000): "「大文件.pdf」超过大小上限 1000 字节",
        ("脚本.exe", PROGRAM): "不接受「脚本.exe」这类文件",
        ("空.txt", b""): "「空.txt」是空文件",
    }
    for (name, content), message in refusals.items():
        files = [("attachments", ("ok.pdf", PDF)), ("attachments", (name, content))]
        refused = browser.post(url(case) + "/return", data=form(browser, case, answer="经核查已整改"), files=files)
        assert refused.status_code == 400 and message in refused.text, (name, refused.text[-800:])
        assert "经核查已整改" in refused.text  # the answer typed is kept
    assert attachment_rows(desk) == [] and not desk.settings.effective_attachments_dir.exists()
    assert desk.reload(case).state == "handling" and desk.reload(case).version == case.version

    body_too_big = browser.post(url(case) + "/return", data=form(browser, case, answer="x"),
                                files=[("attachments", ("a.pdf", PDF + b"0" * 12 * 1024 * 1024))])  # fmt: skip
    assert body_too_big.status_code == 413 and "上传的内容过大" in body_too_big.text
    no_answer = browser.post(url(case) + "/return", data=form(browser, case, answer="  "))
    assert no_answer.status_code == 400 and "请填写办理结果" in no_answer.text
    assert desk.reload(case).state == "handling"


def test_an_answer_refused_by_the_core_keeps_no_files(people) -> None:
    desk = people
    case = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    browser.post(url(case) + "/ack", data=form(browser, case))
    case = desk.reload(case)
    browser.post(url(case) + "/start", data=form(browser, case))
    stale = form(browser, case)  # the version before start
    refused = browser.post(url(case) + "/return", data={**stale, "answer": "已整改"}, files=[("attachments", ("a.pdf", PDF))])
    assert refused.status_code == 409 and "已被修改" in refused.text
    assert attachment_rows(desk) == [] and list(desk.settings.effective_attachments_dir.rglob("*.*")) == []


def test_an_answer_from_a_browser_form_with_no_file_chosen(people) -> None:
    desk = people
    case = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    for step in ("ack", "start"):
        browser.post(url(case) + f"/{step}", data=form(browser, case))
        case = desk.reload(case)
    fields = form(browser, case, answer="已整改")
    # What a browser sends for a file input left empty: a part with an empty filename.
    parts = [f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    parts.append('--B\r\nContent-Disposition: form-data; name="attachments"; filename=""\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n\r\n--B--\r\n")  # fmt: skip
    returned = browser.post(url(case) + "/return", content="".join(parts).encode(),
                            headers={"content-type": "multipart/form-data; boundary=B"})  # fmt: skip
    assert returned.status_code == 303
    assert desk.reload(case).state == "returned" and desk.reload(case).attachments == [] and attachment_rows(desk) == []


def test_extension_needs_a_date_and_a_reason(people) -> None:
    desk = people
    case = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    no_date = browser.post(url(case) + "/extend", data=form(browser, case, until="", reason="x"))
    assert no_date.status_code == 400 and "请选择新的期限日期" in no_date.text
    no_reason = browser.post(url(case) + "/extend", data=form(browser, case, until="2099-01-05", reason=""))
    assert no_reason.status_code == 400 and "须写明理由" in no_reason.text
    earlier = browser.post(url(case) + "/extend", data=form(browser, case, until="2020-01-06", reason="x"))
    assert earlier.status_code == 400 and "新的期限须晚于当前期限（" in earlier.text
    assert desk.reload(case).extension_request is None


def test_the_office_reads_every_case_and_leaders_the_open_ones(people) -> None:
    desk = people
    ours = desk.case("县应急管理局", title="化工园区异味")
    theirs = desk.case("白沙镇", title="白沙镇积水")
    desk.case("白沙镇", title="<script>alert(1)</script>")
    office = desk.login("analyst")
    listed = office.get("/cases").text
    assert "化工园区异味" in listed and "白沙镇积水" in listed and "全部单位" in listed
    assert "<script>" not in listed and "&lt;script&gt;alert(1)&lt;/script&gt;" in listed  # escaped, never markup
    narrowed = office.get("/cases", params={"unit": "白沙镇"}).text
    assert "白沙镇积水" in narrowed and "化工园区异味" not in narrowed
    page = office.get(url(theirs))
    assert page.status_code == 200 and "/ack" not in page.text  # read-only in this part
    refused = office.post(url(theirs) + "/ack", data=form(office, theirs))
    assert refused.status_code == 403 and "此页面只读" in refused.text
    assert office.get("/leader").status_code == 200

    leader = desk.login("leader")
    assert leader.get("/").headers["location"] == "/leader" and leader.get("/cases").headers["location"] == "/leader"
    overview = leader.get("/leader")
    assert "化工园区异味" in overview.text and "白沙镇积水" in overview.text and 'href="/cases/' not in overview.text
    assert leader.get(url(ours)).status_code == 404
    assert desk.login("zhangsan").get("/leader").status_code == 404
