"""The risk library editor: every problem with its line and column, backtest and diff for a change, import of exactly
the validated text as a new version with the account as author (audited); duty reads; leaders and units get 404."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from markupsafe import escape

from test_analysis import LEAK, LIBRARY, post
from webdesk import Desk, csrf_of
from yuqing_core.collect.archive import import_archive
from yuqing_core.risk.editing import text_digest
from yuqing_core.risk.library import LoadedLibraryFile, load_library_text
from yuqing_core.risk.versions import active_library, import_library, list_versions, version_content
from yuqing_core.timeutil import utcnow
from yuqing_core.yamlfile import ConfigFileError

VALIDATED = re.compile(r'name="validated" value="([0-9a-f]+)"')
# The change: wage arrears now also match 工资拖欠, with a comment that is not markup.
CHANGED = LIBRARY.replace("rules: [欠薪 | 讨薪]", "rules: [欠薪 | 讨薪 | 工资]  # <b>工资</b> 也算") + "\n"


@pytest.fixture
def library_desk(desk: Desk, tmp_path) -> Desk:
    import_library(desk.db, LoadedLibraryFile(load_library_text(LIBRARY), LIBRARY, "risk.yaml"), author="初始导入")
    rows = [
        post("wage", "青禾县工地拖欠工资", "白沙镇工人反映工资三个月未发", utcnow() - timedelta(days=1)),
        post("leak", "东坪村化工园区泄漏", LEAK, utcnow() - timedelta(days=2)),
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    import_archive(desk.db, desk.settings, path, "青禾论坛", now=utcnow())
    desk.account("analyst", role="analyst", display_name="李四")
    desk.account("head", role="head", display_name="主任")
    desk.account("duty", role="duty", display_name="值班员")
    desk.account("leader", role="leader", display_name="县长")
    desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    return desk


def check(browser, text: str, step: str = "validate", **fields: str):  # type: ignore[no-untyped-def]
    page = browser.get("/risk")
    data = {"csrf_token": csrf_of(page.text), "text": text, "step": step, "base_version": "1", **fields}
    return browser.post("/risk/check", data=data)


def validated_of(html: str) -> str:
    found = VALIDATED.search(html)
    assert found, "no validated digest on the page"
    return found.group(1)


def do_import(browser, text: str, validated: str, note: str = "讨薪增加工资", **fields: str):  # type: ignore[no-untyped-def]
    page = browser.get("/risk")
    data = {"csrf_token": csrf_of(page.text), "text": text, "validated": validated, "note": note, "base_version": "1"}
    return browser.post("/risk/import", data={**data, **fields})


def versions(desk: Desk) -> list[int]:
    return [v.version for v in list_versions(desk.db)]


@pytest.mark.parametrize(
    "text",
    [
        "name: 库\nrisk_points:\n  - name: [未闭合\n",  # YAML syntax
        LIBRARY.replace("severity: 3", "severity: 高"),  # the schema
        LIBRARY.replace("units: [县应急管理局]", "units: [县应急管理局, 不存在局]"),  # a unit the units table lacks
        LIBRARY.replace("rules: [丰收]", "rules: ['丰收 &']"),  # rule syntax
        LIBRARY.replace("severity: 2", "severity: 2\x07"),  # a control character pasted in
    ],
)
def test_every_problem_is_shown_with_line_and_column(library_desk: Desk, text: str) -> None:
    desk = library_desk
    with pytest.raises(ConfigFileError) as raised:
        load_library_text(text, "风险库", known_units={"县应急管理局", "柳湾镇", "白沙镇"})
    page = check(desk.login("analyst"), text)
    assert page.status_code == 400 and "校验未通过" in page.text and 'name="validated"' not in page.text
    for problem in raised.value.problems:
        assert problem.line is not None and problem.column is not None
        assert f"<td>{problem.line}</td><td>{problem.column}</td>" in page.text
        assert str(escape(problem.message)) in page.text
    assert versions(desk) == [1]


def test_preview_shows_the_backtest_and_the_diff_then_imports_with_the_account_as_author(library_desk: Desk) -> None:
    desk = library_desk
    analyst = desk.login("analyst")
    page = analyst.get("/risk")
    assert page.status_code == 200 and "当前为第 1 版（初始导入" in page.text and "讨薪" in page.text

    preview = check(analyst, CHANGED.replace("\n", "\r\n"), step="preview")  # a browser's textarea sends CRLF
    assert preview.status_code == 200 and "校验通过" in preview.text
    assert "回测 2 条信息" in preview.text and "对比当前第 1 版" in preview.text
    assert "讨薪：0 → 1" in preview.text and "+ #" in preview.text and "青禾县工地拖欠工资" in preview.text
    assert "&lt;b&gt;工资&lt;/b&gt;" in preview.text and "<b>工资</b>" not in preview.text  # the diff is text, escaped
    assert '<span class="del">-    rules: [欠薪 | 讨薪]</span>' in preview.text
    assert '<span class="add">+    rules: [欠薪 | 讨薪 | 工资]  # &lt;b&gt;工资&lt;/b&gt; 也算</span>' in preview.text

    done = do_import(analyst, CHANGED.replace("\n", "\r\n"), validated_of(preview.text))
    assert done.status_code == 303 and done.headers["location"] == "/risk?done=2"
    assert versions(desk) == [2, 1]
    info, content = version_content(desk.db)
    assert (info.author, info.note, content) == ("李四（分析员）", "讨薪增加工资", CHANGED)
    assert active_library(desk.db).spec.risk_point("讨薪") is not None
    audit = [entry for entry in desk.audit() if entry.action == "risk.import"]
    assert len(audit) == 1 and audit[0].account_name == "analyst" and audit[0].details["version"] == 2
    listed = analyst.get("/risk?done=2").text
    assert "已导入为第 2 版" in listed and "李四（分析员）" in listed and "讨薪增加工资" in listed

    first = analyst.get("/risk/versions/1")
    assert first.status_code == 200 and "初始导入" in first.text and "rules: [欠薪 | 讨薪]" in first.text
    assert "<textarea" not in first.text
    assert analyst.get("/risk/versions/9").status_code == 404


def test_import_refuses_text_other_than_what_validated(library_desk: Desk) -> None:
    desk = library_desk
    head = desk.login("head")
    digest = validated_of(check(head, CHANGED).text)
    edited = CHANGED.replace("工资", "薪水")
    refused = do_import(head, edited, digest)
    assert refused.status_code == 400 and "不一致" in refused.text
    assert do_import(head, CHANGED, "").status_code == 400  # never validated
    no_note = do_import(head, CHANGED, digest, note="  ")
    assert no_note.status_code == 400 and "请填写本次修改的说明" in no_note.text and digest in no_note.text
    assert versions(desk) == [1] and not [e for e in desk.audit() if e.action == "risk.import"]

    # Someone imported meanwhile: the editor's base is gone, nothing is overwritten.
    import_library(desk.db, LoadedLibraryFile(load_library_text(LIBRARY + "\n"), LIBRARY + "\n", "x"), author="别人")
    stale = do_import(head, CHANGED, digest)
    assert stale.status_code == 409 and "更新为第 2 版" in stale.text
    assert versions(desk) == [2, 1]
    assert do_import(head, CHANGED, digest, base_version="2").status_code == 303 and versions(desk) == [3, 2, 1]


def test_csrf_refused(library_desk: Desk) -> None:
    desk = library_desk
    analyst = desk.login("analyst")
    digest = validated_of(check(analyst, CHANGED).text)
    forged = {"csrf_token": "forged", "text": CHANGED, "validated": digest, "note": "x", "base_version": "1"}
    assert analyst.post("/risk/import", data=forged).status_code == 403
    assert analyst.post("/risk/check", data={**forged, "step": "preview"}).status_code == 403
    assert versions(desk) == [1]


def test_duty_reads_but_does_not_edit(library_desk: Desk) -> None:
    desk = library_desk
    duty = desk.login("duty")
    page = duty.get("/risk")
    assert page.status_code == 200 and "<textarea" not in page.text and "rules: [欠薪 | 讨薪]" in page.text
    assert 'href="/risk"' in page.text
    assert duty.get("/risk/versions/1").status_code == 200
    assert check(duty, CHANGED).status_code == 403
    refused = do_import(duty, CHANGED, text_digest(CHANGED))
    assert refused.status_code == 403 and "您只能查看风险库" in refused.text
    assert versions(desk) == [1]


@pytest.mark.parametrize("name", ["leader", "zhangsan"])
def test_leaders_and_units_get_404(library_desk: Desk, name: str) -> None:
    desk = library_desk
    browser = desk.login(name)
    assert browser.get("/risk").status_code == 404
    assert browser.get("/risk/versions/1").status_code == 404
    assert 'href="/risk"' not in browser.get("/").text
    session_token = _session_csrf(desk, browser)
    data = {"csrf_token": session_token, "text": CHANGED, "validated": text_digest(CHANGED), "note": "x", "base_version": "1"}
    assert browser.post("/risk/check", data=data).status_code == 404
    assert browser.post("/risk/import", data=data).status_code == 404
    assert versions(desk) == [1]


def _session_csrf(desk: Desk, browser) -> str:  # type: ignore[no-untyped-def]
    """The session's CSRF token, from the logout form every signed-in page carries."""
    home = browser.get("/leader")
    return csrf_of((home if home.status_code == 200 else browser.get("/cases")).text)


def test_importing_the_active_text_again_stores_nothing(library_desk: Desk) -> None:
    desk = library_desk
    analyst = desk.login("analyst")
    digest = validated_of(check(analyst, LIBRARY).text)
    same = do_import(analyst, LIBRARY, digest)
    assert same.status_code == 200 and "与当前第 1 版相同，未生成新版本" in same.text
    assert versions(desk) == [1] and not [e for e in desk.audit() if e.action == "risk.import"]


def test_units_are_not_checked_while_the_units_table_is_empty(db) -> None:
    from yuqing_core.risk.editing import check_library_text, known_unit_names

    assert known_unit_names(db) is None
    named = LIBRARY.replace("units: [县应急管理局]", "units: [不存在局]")
    assert check_library_text(db, named).spec.risk_point("化工异味").units == ["不存在局"]


def test_the_first_version_is_imported_into_an_empty_library(desk: Desk) -> None:
    desk.account("analyst", role="analyst", display_name="李四")
    analyst = desk.login("analyst")
    assert "还没有导入风险库" in analyst.get("/risk").text
    page = analyst.get("/risk")
    data = {"csrf_token": csrf_of(page.text), "text": LIBRARY, "step": "preview", "base_version": "0"}
    preview = analyst.post("/risk/check", data=data)
    assert preview.status_code == 200 and "对比空库" in preview.text and "--- 空库" in preview.text
    done = analyst.post("/risk/import", data={**data, "validated": validated_of(preview.text), "note": "首版"})
    assert done.status_code == 303 and versions(desk) == [1]
    assert version_content(desk.db)[0].author == "李四（分析员）"
