"""The workbench in headless Chromium: each role signs in and walks its path over the seeded county.

Run alone with ``.venv/bin/python -m pytest -m browser``. The fixtures (``browserdesk.py``) serve the real
app over a socket; every test ends with no browser console errors and a CSP header on every page it loaded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browserdesk import UNIT_A, UNIT_B, Visit
from yuqing_core.web.app import case_url

pytestmark = pytest.mark.browser

# A one-page PDF (PDF 1.4, one empty A4 page), as small as a real one gets.
ONE_PAGE_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


def test_a_unit_member_signs_for_starts_and_answers_a_case_with_a_pdf(visit: Visit, tmp_path: Path) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.unit_a)
    expect(page).to_have_url(visit.url("/cases"))
    expect(page.get_by_role("heading", name="本单位督办件")).to_be_visible()
    for number in county.cases[UNIT_A]:
        expect(page.get_by_text(number, exact=True)).to_be_visible()
    for number in county.cases[UNIT_B]:  # the other unit's cases are not listed
        expect(page.get_by_text(number, exact=True)).to_have_count(0)

    page.get_by_role("link", name=re.compile(re.escape(county.walk_case))).click()
    expect(page.get_by_role("heading", name="白沙镇东坪村夜间异味")).to_be_visible()
    expect(page.locator(".meta .state")).to_have_text("派单")

    page.get_by_role("button", name="签收").click()
    expect(page.get_by_role("status")).to_have_text("已签收。")
    expect(page.locator(".meta .state")).to_have_text("签收")

    page.get_by_role("button", name="开始办理").click()
    expect(page.get_by_role("status")).to_have_text("已开始办理。")
    expect(page.locator(".meta .state")).to_have_text("办单")

    report = tmp_path / "整改情况报告.pdf"
    report.write_bytes(ONE_PAGE_PDF)
    page.get_by_label("办理结果").fill("已会同白沙镇现场核查，异味来自园区污水站检修，已督促企业加盖收集并公开监测数据。")
    page.locator("#attachments").set_input_files(report)
    page.get_by_role("button", name="交单", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已交单，等待舆情中心审核。")
    expect(page.locator(".meta .state")).to_have_text("交单")
    expect(page.get_by_text("已督促企业加盖收集").first).to_be_visible()
    expect(page.get_by_role("link", name="整改情况报告.pdf")).to_be_visible()
    expect(page.get_by_role("button", name="签收")).to_have_count(0)  # nothing left for the unit to do
    expect(page.locator(".history")).to_contain_text("应急局经办人（县应急管理局） 交单")

    with page.expect_download() as download:
        page.get_by_role("link", name="整改情况报告.pdf").click()
    assert Path(download.value.path()).read_bytes() == ONE_PAGE_PDF


def test_another_units_member_typing_the_case_address_gets_the_not_found_page(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.unit_b)
    number = county.cases[UNIT_A][0]
    response = page.goto(visit.url(case_url(number)))
    assert response is not None and response.status == 404
    expect(page.get_by_text("没有找到您要的页面或督办件。")).to_be_visible()
    expect(page.get_by_text(number)).to_have_count(0)
    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(visit.url("/cases"))


def test_a_wrong_password_is_refused_and_repeated_failures_must_wait(visit: Visit) -> None:
    page, name = visit.page, visit.county.accounts.throttled
    max_failures = visit.county.settings.web_login_max_failures
    for _ in range(max_failures):
        visit.sign_in(name, "not the password")
        expect(page.get_by_role("alert")).to_have_text("账号或密码不正确。")
        expect(page.get_by_label("账号")).to_have_value(name)
    visit.sign_in(name)  # even the right password now waits
    expect(page.get_by_role("alert")).to_contain_text("登录失败次数过多")
    expect(page).to_have_url(visit.url("/login"))


def test_logging_out_ends_the_session_and_back_shows_the_login_page(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.unit_b)
    page.get_by_role("link", name=re.compile(re.escape(county.cases[UNIT_B][0]))).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="登录工作台")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="登录工作台")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.goto(visit.url("/cases"))
    expect(page.get_by_role("heading", name="登录工作台")).to_be_visible()


def test_the_leader_sees_the_overview_and_nothing_of_the_office(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.leader)
    expect(page).to_have_url(visit.url("/leader"))
    expect(page.get_by_role("heading", name=re.compile("^舆情总览"))).to_be_visible()
    expect(page.locator(".who")).to_have_text("分管副县长（领导）")
    expect(page.locator(".units-table")).to_contain_text(UNIT_A)
    expect(page.locator(".units-table")).to_contain_text(UNIT_B)
    for number in county.cases[UNIT_B]:
        expect(page.get_by_text(number, exact=True)).to_be_visible()
    expect(page.locator("ul.cases a")).to_have_count(0)  # no links into case pages
    expect(page.locator("header nav").get_by_role("link", name="风险库")).to_have_count(0)

    page.get_by_role("link", name="前一天").click()
    expect(page).to_have_url(re.compile(r"/leader\?day=\d{4}-\d{2}-\d{2}$"))
    expect(page.get_by_role("link", name="今日")).to_be_visible()
    page.goto(visit.url("/cases"))
    expect(page).to_have_url(visit.url("/leader"))
    response = page.goto(visit.url("/risk"))
    assert response is not None and response.status == 404
    expect(page.get_by_text("没有找到您要的页面或督办件。")).to_be_visible()


def test_the_office_analyst_sees_every_units_cases_and_can_narrow_to_one(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.analyst)
    expect(page.get_by_role("heading", name="督办件（全部单位）")).to_be_visible()
    for numbers in county.cases.values():
        for number in numbers:
            expect(page.get_by_text(number, exact=True)).to_be_visible()
    page.get_by_label("单位").select_option(UNIT_B)
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_role("heading", name=f"督办件（{UNIT_B}）")).to_be_visible()
    expect(page.get_by_text(county.cases[UNIT_B][0], exact=True)).to_be_visible()
    expect(page.get_by_text(county.walk_case, exact=True)).to_have_count(0)
    page.get_by_role("link", name=re.compile(re.escape(county.cases[UNIT_B][0]))).click()
    expect(page.get_by_role("heading", name="办理", exact=True)).to_have_count(0)  # the office reads; the unit acts


def test_the_main_pages_fit_a_phone_screen(visit: Visit) -> None:
    page, county = visit.page, visit.county
    page.goto(visit.url("/login"))
    assert visit.fits_the_screen(), "登录页"
    visit.sign_in(county.accounts.unit_a)
    assert visit.fits_the_screen(), "本单位督办件"
    page.goto(visit.url(case_url(county.cases[UNIT_A][0])))
    assert visit.fits_the_screen(), "督办件页"
    page.get_by_role("button", name="退出").click()
    visit.sign_in(county.accounts.leader)
    assert visit.fits_the_screen(), "在办督办件总览"


def test_the_analyst_edits_previews_and_imports_the_risk_library(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.analyst)
    page.locator("header nav").get_by_role("link", name="风险库").click()
    expect(page.get_by_role("heading", name="风险库", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"当前为第 1 版"))).to_be_visible()

    editor = page.get_by_label("风险库（YAML）")
    editor.fill(editor.input_value().replace("'欠薪 | 讨薪 |", "'欠薪 | 讨薪 | 讨要工资 |"))
    page.get_by_role("button", name="预览（回测与差异）").click()
    expect(page.get_by_text(re.compile("^校验通过"))).to_be_visible()
    expect(page.get_by_role("heading", name="与当前版本的差异")).to_be_visible()
    expect(page.locator("pre.diff")).to_contain_text("讨要工资")

    page.get_by_label("修改说明（必填）").fill("讨薪：加“讨要工资”")
    page.get_by_role("button", name="导入为新版本").click()
    expect(page.get_by_text("已导入为第 2 版。")).to_be_visible()
    expect(page.get_by_role("link", name="第 2 版")).to_be_visible()
    page.get_by_role("link", name="第 2 版").click()
    expect(page.get_by_text("讨要工资").first).to_be_visible()


def test_a_unit_acknowledges_its_notice_and_the_office_sees_the_receipt(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.unit_a)
    page.locator("header nav").get_by_role("link", name="通知").click()
    expect(page.get_by_role("heading", name="本单位通知")).to_be_visible()
    notice = page.get_by_role("link", name=re.compile("舆情督报"))
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("未回执")
    notice.click()
    title = page.get_by_role("heading", level=1).inner_text()
    page.get_by_label("说明（可不填）").fill("已收到，正在核查。")
    page.get_by_role("button", name="确认收到").click()
    expect(page.get_by_role("status")).to_have_text("已回执。")
    expect(page.get_by_text(re.compile("应急局经办人.*已于.*回执"))).to_be_visible()
    expect(page.get_by_role("button", name="确认收到")).to_have_count(0)
    page.get_by_role("button", name="退出").click()

    visit.sign_in(county.accounts.unit_b)  # another unit: the notice is not theirs
    page.goto(visit.url("/notices"))
    expect(page.get_by_text(title)).to_have_count(0)
    page.get_by_role("button", name="退出").click()

    visit.sign_in(county.accounts.analyst)
    page.goto(visit.url("/notices"))
    expect(page.get_by_role("heading", name="通知回执情况")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(re.escape(title)))).to_contain_text(f"已回执：{UNIT_A}")


def test_a_unit_reports_a_lead_with_a_file_and_the_office_sees_it(visit: Visit, tmp_path: Path) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.unit_b)
    page.locator("header nav").get_by_role("link", name="报送").click()
    expect(page.get_by_role("heading", name="向舆情中心报送")).to_be_visible()
    screenshot = tmp_path / "讨薪帖.pdf"
    screenshot.write_bytes(ONE_PAGE_PDF)
    page.get_by_label(re.compile("^链接")).fill("https://bbs.example/t/8812")
    page.get_by_label(re.compile("^情况说明")).fill("青禾论坛有帖子称瑞岭建设工地拖欠农民工工资，已有人转发。")
    page.get_by_label(re.compile("^截图或文件")).set_input_files(screenshot)
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已报送，舆情中心将在下一轮分析中研判。")
    lead = page.locator("ul.leads li").filter(has_text="瑞岭建设工地拖欠农民工工资")
    expect(lead).to_contain_text("待分析")
    expect(lead.get_by_role("link", name="讨薪帖.pdf")).to_be_visible()
    page.get_by_role("button", name="退出").click()

    visit.sign_in(county.accounts.analyst)
    page.locator("header nav").get_by_role("link", name="报送").click()
    expect(page.get_by_role("heading", name="单位报送")).to_be_visible()
    expect(page.locator("ul.leads li").filter(has_text="瑞岭建设工地拖欠农民工工资")).to_contain_text(UNIT_B)


# --- the office desk ------------------------------------------------------------------------------


def test_the_analyst_works_the_queue_opens_a_case_reads_an_event_and_searches(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.analyst)
    page.locator("header nav").get_by_role("link", name="预警").click()
    expect(page.get_by_role("heading", name="预警（待处理）")).to_be_visible()
    rows = page.locator("li.warning")
    assert rows.count() >= 2, "the seeded county raises several warnings"

    first = rows.first
    acknowledged = first.locator(".number").inner_text().split(" · ")[0]  # 预警 #3
    event_path = first.get_by_role("link").first.get_attribute("href")
    first.locator("summary").click()
    first.get_by_label("操作").select_option(label="确认")
    first.get_by_label("理由").fill("已电话核实：白沙镇已到场处置，持续关注。")
    first.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text("预警已确认。")
    expect(page.get_by_text(f"{acknowledged} ·")).to_have_count(0)  # left the open queue
    page.get_by_label("状态").select_option(label="已确认")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("li.warning").filter(has_text=f"{acknowledged} ·")).to_contain_text("已确认")

    page.goto(visit.url("/warnings"))
    other = page.locator("li.warning").first
    other.locator("summary").click()
    other.get_by_role("link", name="据此立督办件").click()
    expect(page.get_by_role("heading", name=re.compile(r"^据预警 #\d+ 立督办件$"))).to_be_visible()
    page.get_by_label("牵头单位").select_option(UNIT_B)
    for box in page.locator("fieldset.choices input[type=checkbox]").all():  # the one co-unit we choose, no other
        box.set_checked(box.get_attribute("value") == UNIT_A)
    page.get_by_label("督办事项").fill("网传水库溃坝谣言的核实与辟谣")
    page.get_by_role("button", name="立案并派单").click()
    expect(page.get_by_role("heading", name="网传水库溃坝谣言的核实与辟谣")).to_be_visible()
    expect(page.locator("dl")).to_contain_text(f"牵头单位{UNIT_B}")
    expect(page.locator("dl")).to_contain_text(f"配合单位{UNIT_A}")
    number = page.locator(".meta .number").inner_text()
    page.locator("header nav").get_by_role("link", name="督办看板").click()
    expect(page.get_by_role("heading", name="督办看板（全部状态）")).to_be_visible()
    expect(page.get_by_text(number, exact=True)).to_be_visible()

    assert event_path is not None
    page.goto(visit.url(event_path))
    expect(page.get_by_role("heading", name="风险分构成")).to_be_visible()
    expect(page.locator("table.parts tbody tr").first).to_be_visible()
    expect(page.get_by_role("heading", name="信息时间线")).to_be_visible()
    expect(page.locator("ol.timeline li").first).to_be_visible()
    expect(page.locator("ol.timeline mark").first).to_be_visible()  # the matched terms, marked
    expect(page.locator("figure.chart svg").first).to_be_visible()

    page.locator("header nav").get_by_role("link", name="信息检索").click()
    page.get_by_label("关键词（标题或正文中出现）").fill("异味")
    page.get_by_role("button", name="检索").click()
    expect(page).to_have_url(re.compile(r"/items\?q=%E5%BC%82%E5%91%B3"))
    expect(page.locator("ol.timeline li").first).to_be_visible()
    marks = page.locator("ol.timeline mark")
    expect(marks.first).to_have_text("异味")
    assert set(marks.all_inner_texts()) == {"异味"}


def test_the_duty_officer_sees_the_queue(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.duty)
    page.goto(visit.url("/warnings?status=all"))
    expect(page.get_by_role("heading", name="预警（全部）")).to_be_visible()
    expect(page.locator("li.warning").first).to_be_visible()
    expect(page.locator("header nav").get_by_role("link", name="督办看板")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("吴值班")


def test_the_head_of_the_office_reads_the_overview_the_queue_and_may_edit_the_risk_library(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.head)
    expect(page.locator(".who")).to_contain_text("郑主任")
    nav = page.locator("header nav")
    for link in ("总览", "预警", "督办看板", "风险库"):
        expect(nav.get_by_role("link", name=link)).to_be_visible()
    page.goto(visit.url("/leader"))
    expect(page.locator("svg").first).to_be_visible()  # the trend chart of the daily report
    page.goto(visit.url("/warnings?status=all"))
    expect(page.locator("li.warning").first).to_be_visible()
    page.goto(visit.url("/risk"))
    expect(page.locator("textarea").first).to_be_editable()  # the head edits the library, as analysts do


def test_a_unit_member_asking_for_the_warnings_gets_the_not_found_page(visit: Visit) -> None:
    page, county = visit.page, visit.county
    visit.sign_in(county.accounts.unit_a)
    expect(page.locator("header nav").get_by_role("link", name="预警")).to_have_count(0)
    response = page.goto(visit.url("/warnings"))
    assert response is not None and response.status == 404
    expect(page.get_by_text("没有找到您要的页面或督办件。")).to_be_visible()
    expect(page.locator("li.warning")).to_have_count(0)


def test_the_main_pages_at_desktop_width(desktop_visit: Visit) -> None:
    visit = desktop_visit
    page, county = visit.page, visit.county
    page.goto(visit.url("/login"))
    assert visit.fits_the_screen(), "登录页"
    visit.sign_in(county.accounts.analyst)
    for path, heading in (("/warnings", "预警（待处理）"), ("/events?day=", None), ("/office/cases", "督办看板（全部状态）"),
                          ("/items?q=%E5%BC%82%E5%91%B3", "信息检索"), ("/sources", None), ("/reports", "报告存档"),
                          ("/cases", "督办件（全部单位）")):  # fmt: skip
        page.goto(visit.url(path))
        if heading:
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert visit.fits_the_screen(), path
    page.goto(visit.url("/warnings?status=all"))
    href = page.locator("a[href^='/events/']").first.get_attribute("href")
    assert href
    page.goto(visit.url(href))
    expect(page.get_by_role("heading", name="信息时间线")).to_be_visible()
    assert visit.fits_the_screen(), "事件页"
    page.get_by_role("button", name="退出").click()
    visit.sign_in(county.accounts.unit_a)
    expect(page.get_by_role("heading", name="本单位督办件")).to_be_visible()
    assert visit.fits_the_screen(), "本单位督办件"
    page.goto(visit.url(case_url(county.cases[UNIT_A][0])))
    assert visit.fits_the_screen(), "督办件页"
    page.get_by_role("button", name="退出").click()
    visit.sign_in(county.accounts.leader)
    expect(page.get_by_role("heading", name=re.compile("^舆情总览"))).to_be_visible()
    assert visit.fits_the_screen(), "在办督办件总览"
