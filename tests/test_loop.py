"""The loop (issue 13, items 1 and 4): 督报 sent on dispatch, closing settles the warning, 1+3+N, hand-written
提示函 sent, acknowledged and opening a case (一函四单), 研判 approved and printed, meetings opening cases.

Everything runs on both dialects against a real webhook receiver on 127.0.0.1; nothing runs a flow.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from receivers import WebhookReceiver
from test_analysis import library
from yuqing_core.accounts import add_account
from yuqing_core.cases import CasePolicy, act, get_case, history, open_case, origin_of
from yuqing_core.cases.assessments import (
    AssessmentRefused,
    Decision,
    approve_assessment,
    draft_assessment,
    edit_assessment,
    list_meetings,
    record_meeting,
    return_assessment,
    submit_assessment,
)
from yuqing_core.cli import main
from yuqing_core.config import get_settings
from yuqing_core.db.models import EarlyWarning, EarlyWarningAction, Event, EventItem, Item, ItemAnalysis, Source
from yuqing_core.errors import InvalidInput
from yuqing_core.notify import import_units, load_units_file
from yuqing_core.reports.case_notice import issue_case_notice
from yuqing_core.reports.data import build_special_report, build_supervision_notice
from yuqing_core.reports.receipts import acknowledge, get_notice
from yuqing_core.reports.render import Renderer
from yuqing_core.reports.risk_letter import send_risk_letter, track_risk_letter
from yuqing_core.risk.notices import write_hand_notice
from yuqing_core.timeutil import SHANGHAI

POLICY = CasePolicy()
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)  # no holiday near
ONE_PLUS_THREE = ["县委宣传部", "县委网信办", "公安局网安大队", "县委国安办"]
# (source, role, stance, title): what the event holds; only the public's complaints and questions go in a 督报.
POSTS = [
    ("青禾论坛", "public", "complaint", "东坪村刺鼻气味三天了没人管"),
    ("青禾论坛", "public", "question", "东坪村的水还能喝吗？"),
    ("云江日报", "media", "complaint", "记者调查：东坪村异味引村民不满"),
    ("青禾发布", "official", "official_response", "县生态环境分局：已开展应急监测"),
]


def _units_file(tmp_path: Path, hook: WebhookReceiver) -> Path:
    path = tmp_path / "units.yaml"
    lines = ["units:", f'  - {{name: 舆情中心, kind: office, targets: ["{hook.url("/office")}"]}}']
    for name, role, slug in [
        ("县委宣传部", "case_coordinator", "propaganda"),
        ("县委网信办", "case_core", "cac"),
        ("公安局网安大队", "case_core", "police"),
        ("县委国安办", "case_core", "security"),
        ("县应急管理局", None, "emergency"),
        ("白沙镇人民政府", None, "baisha"),
    ]:
        roles = f", roles: [{role}]" if role else ""
        lines.append(f'  - {{name: {name}, kind: department{roles}, targets: ["{hook.url("/" + slug)}"]}}')
    lines += ["routing:", *(f"  {level}: [舆情中心]" for level in ("I", "II", "III", "IV"))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def county(db, settings, tmp_path):
    """Units (with the 1+3 roles) wired to a local receiver, the test library, and one warned event."""
    with WebhookReceiver() as hook:
        path = _units_file(tmp_path, hook)
        spec = load_units_file(path)
        import_units(db, spec)
        version = library(db, tmp_path).version
        settings = settings.model_copy(update={"units_file": path, "office_name": "青禾县网络舆情应急监控中心"})
        with db.writer() as session:
            sources = {}
            for name, role in {(s, r) for s, r, _, _ in POSTS}:
                sources[name] = Source(name=name, url=f"http://{role}.example/feed", role=role, created_at=MONDAY,
                                       updated_at=MONDAY)  # fmt: skip
            session.add_all(sources.values())
            session.flush()
            items = []
            for index, (source, _role, stance, title) in enumerate(POSTS):
                when = MONDAY - timedelta(hours=len(POSTS) - index)
                item = Item(source_id=sources[source].id, entry_key=f"k{index}", title=title, text=title, excerpt=title,
                            published_at=when, fetched_at=when, fingerprint=f"{index:040d}")  # fmt: skip
                session.add(item)
                session.flush()
                session.add(ItemAnalysis(item_id=item.id, version_id=version.id, relevant=True, excluded=False,
                                         analyzed_at=MONDAY, stance=stance))  # fmt: skip
                items.append(item)
            event = Event(seed_item_id=items[0].id, title="东坪村化工园区异味", first_seen_at=items[0].published_at,
                          last_seen_at=items[-1].published_at, item_count=len(items), source_count=len(sources),
                          risk_points=["化工异味"], score=62.0, level=3, updated_at=MONDAY, response_status="on_time",
                          score_parts=[{"name": "severity", "label": "风险点严重程度", "points": 24.0, "detail": "化工异味 ×8"}])  # fmt: skip
            session.add(event)
            session.flush()
            for item in items:
                session.add(EventItem(item_id=item.id, event_id=event.id, joined_by="seed", published_at=item.published_at,
                                      joined_at=MONDAY))  # fmt: skip
            warning = EarlyWarning(event_id=event.id, level=3, score=62.0, version_id=version.id, reasons={}, status="open",
                                   effective_level=3, created_at=MONDAY, updated_at=MONDAY)  # fmt: skip
            session.add(warning)
            session.flush()
            ids = {"event": event.id, "warning": warning.id}
        yield db, settings, spec, hook, ids


def _posts(hook: WebhookReceiver, prefix: str) -> list[str]:
    return sorted(post.path for post in hook.posts if post.json.get("title", "").startswith(prefix))


def test_dispatch_sends_the_notice_once_1_3_n_and_closing_settles_the_warning(county) -> None:
    db, settings, spec, hook, ids = county
    origin = origin_of(db, warning_id=ids["warning"])
    case = open_case(db, POLICY, actor="舆情中心", origin=origin, dispatch=True, now=MONDAY)
    assert case.lead_unit == "县应急管理局" and case.co_units == ONE_PLUS_THREE  # N (the risk point's unit) + 1 + 3
    named = open_case(db, POLICY, actor="舆情中心", title="另案", lead_unit="白沙镇人民政府", co_units=[], now=MONDAY)
    assert named.co_units == []  # co-units named by the caller replace the default

    issued = issue_case_notice(db, settings, case, origin, config=spec, now=MONDAY)
    assert len(issued.files) == 4 and len(issued.report.sent) == 5
    hook.wait_for(5)
    assert _posts(hook, "【舆情督报】") == ["/cac", "/emergency", "/police", "/propaganda", "/security"]
    again = issue_case_notice(db, settings, case, origin, config=spec, now=MONDAY)  # a retried dispatch: nothing resent
    assert not again.report.sent and len(again.report.skipped_already_sent) == 5 and len(hook.posts) == 5

    text = next(path for path in issued.files if path.suffix == ".md").read_text(encoding="utf-8")
    assert "关于“东坪村化工园区异味”有关问题的督办通知" in text
    assert "东坪村刺鼻气味三天了没人管" in text and "东坪村的水还能喝吗" in text  # the public's complaint and question
    assert "记者调查" not in text and "已开展应急监测" not in text  # not media, not government posts
    assert "3 个工作日内" in text and "联系方式：青禾县网络舆情应急监控中心" in text and "四、回执" in text

    for step, extra in [("ack", {}), ("start", {}), ("return", {"answer": "已查明并整改"}), ("close", {})]:
        case = act(db, POLICY, case.number, step, actor="舆情中心", now=MONDAY, **extra)
    with db.reader() as session:
        warning = session.get(EarlyWarning, ids["warning"])
        actions = list(session.scalars(select(EarlyWarningAction).where(EarlyWarningAction.warning_id == ids["warning"])))
    assert warning.status == "resolved"
    assert [(a.action, a.actor) for a in actions] == [("resolve", "舆情中心")] and case.number in actions[0].reason
    assert history(db, case.number)[-1].details["warning_status"] == ["open", "resolved"]
    act(db, POLICY, case.number, "reopen", actor="舆情中心", note="群众仍有反映", now=MONDAY)
    with db.reader() as session:
        assert session.get(EarlyWarning, ids["warning"]).status == "acknowledged"


def test_a_hand_written_letter_is_sent_acknowledged_and_opens_a_case(county) -> None:
    db, settings, spec, hook, _ids = county
    with pytest.raises(InvalidInput, match="预见的风险"):
        write_hand_notice(db, subject="征收补偿兑付", units=["县应急管理局"], body=" ", actor="舆情中心")
    notice = write_hand_notice(
        db, subject="征收补偿兑付", units=["县应急管理局", "白沙镇人民政府"], body="下周起兑付第二批补偿款，群众已在论坛询问标准。",
        requirements="兑付前公示标准和咨询电话。", actor="舆情中心", now=MONDAY,
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="今天已就“征收补偿兑付”写过提示函"):
        write_hand_notice(db, subject="征收补偿兑付", units=["县应急管理局"], body="又一封", actor="舆情中心", now=MONDAY)

    sent = send_risk_letter(db, settings, notice.id, config=spec, now=MONDAY)
    hook.wait_for(2)
    assert len(sent.report.sent) == 2 and _posts(hook, "【网络风险提示函】") == ["/baisha", "/emergency"]
    letter = next(path for path in sent.files if path.suffix == ".md").read_text(encoding="utf-8")
    assert "下周起兑付第二批补偿款" in letter and "兑付前公示标准" in letter and "近24小时" not in letter

    account, _password = add_account(db, "yjj", role="unit", unit="县应急管理局", display_name="应急局值班", password="x" * 16)
    assert acknowledge(db, get_notice(db, settings, "risk_notice", notice.id), unit="县应急管理局", account=account, now=MONDAY)
    track = track_risk_letter(db, settings, notice.id)
    assert [(u.unit, u.delivery, u.receipt is not None) for u in track.units] == [
        ("县应急管理局", "sent", True), ("白沙镇人民政府", "sent", False),
    ]  # fmt: skip

    origin = origin_of(db, risk_notice_id=notice.id)
    case = open_case(db, POLICY, actor="舆情中心", origin=origin, dispatch=True, now=MONDAY)
    assert (case.origin_kind, case.origin_id, case.lead_unit) == ("risk_notice", notice.id, "县应急管理局")
    assert case.requirement == "兑付前公示标准和咨询电话。" and case.co_units == ["白沙镇人民政府", *ONE_PLUS_THREE]
    issued = issue_case_notice(db, settings, case, origin, config=spec, now=MONDAY)
    assert len(issued.report.sent) == 6
    text = next(path for path in issued.files if path.suffix == ".md").read_text(encoding="utf-8")
    assert "关于“征收补偿兑付”有关问题的督办通知" in text and "发出网络风险提示函" in text

    (chained,) = track_risk_letter(db, settings, notice.id).cases
    assert chained.number == case.number and chained.supervision_number and chained.supervision_receipt is None
    supervision = next(n for n in _supervision_notices(db, settings) if n.number == chained.supervision_number)
    acknowledge(db, supervision, unit="县应急管理局", account=account, now=MONDAY)
    (chained,) = track_risk_letter(db, settings, notice.id).cases  # 提示函 → 督办件 → 督报 → 回执
    assert chained.supervision_receipt is not None and chained.supervision_receipt.by == "应急局值班"


def _supervision_notices(db, settings):  # type: ignore[no-untyped-def]
    from yuqing_core.reports.receipts import list_notices

    return [n for n in list_notices(db, settings) if n.kind == "supervision"]


def test_an_assessment_is_drafted_from_facts_approved_and_printed(county) -> None:
    db, settings, _spec, _hook, ids = county
    draft = draft_assessment(db, ids["event"], actor="分析员", parts={"nature": "企业储罐检修引起的异味"}, now=MONDAY)
    assert draft.state == "draft" and draft.nature == "企业储罐检修引起的异味"
    assert draft.facts["items"] == 4 and draft.facts["level_label"].startswith("III级") and draft.facts["response"]
    assert "化工异味 ×8" in draft.risks and "早讲事实" in draft.talking_points and "慎讲原因" in draft.talking_points
    with pytest.raises(AssessmentRefused, match="不能签发"):
        approve_assessment(db, draft.id, actor="中心主任")
    submit_assessment(db, draft.id)
    with pytest.raises(AssessmentRefused, match="理由"):
        return_assessment(db, draft.id, reason=" ")
    return_assessment(db, draft.id, reason="走势写得太空")
    edit_assessment(db, draft.id, {"trend": "已趋平稳，官方回应后无新增投诉。"})
    submit_assessment(db, draft.id)
    approved = approve_assessment(db, draft.id, actor="中心主任", now=MONDAY)
    assert approved.state == "approved" and approved.approved_by == "中心主任" and approved.returned_reason is None

    notice = build_supervision_notice(db, settings, unit="县应急管理局", requirements="请核实。", deadline=MONDAY,
                                      event_id=ids["event"], now=MONDAY)  # fmt: skip
    special = build_special_report(db, settings, event_id=ids["event"], now=MONDAY)
    for doc in (notice, special):
        assert doc.approved_assessment is not None and doc.approved_assessment.trend == "已趋平稳，官方回应后无新增投诉。"
    renderer = Renderer()
    text = renderer.markdown(notice)
    assert "## 研判意见" in text and "中心主任 于" in text and "企业储罐检修引起的异味" in text
    document = docx.Document(io.BytesIO(renderer.docx_bytes(notice)))
    cells = (cell.text for table in document.tables for row in table.rows for cell in row.cells)
    words = "\n".join([*(p.text for p in document.paragraphs), *cells])
    assert "研判意见" in words and "回应口径" in words and "四、回执" in words
    assert "中心研判（已签发）" in renderer.html(special)


def test_meeting_decisions_open_and_update_cases(county) -> None:
    db, _settings, _spec, _hook, ids = county
    existing = open_case(db, POLICY, actor="舆情中心", origin=origin_of(db, event_id=ids["event"]), dispatch=True, now=MONDAY)
    with pytest.raises(InvalidInput, match="参会单位"):
        record_meeting(db, POLICY, ids["event"], kind="joint", held_at=MONDAY, attendees=[], decisions=[Decision("x")],
                       actor="舆情中心")  # fmt: skip
    meeting = record_meeting(
        db, POLICY, ids["event"], kind="joint", held_at=MONDAY, attendees=["县委宣传部", "县应急管理局", "县委宣传部"],
        decisions=[Decision("公开周边水井检测结果", open_case=True), Decision("12月3日前完成储罐检修", case=existing.number),
                   Decision("每日报送处置进展")],
        actor="舆情中心", now=MONDAY,
    )  # fmt: skip
    assert meeting.attendees == ["县委宣传部", "县应急管理局"]
    opened, updated, noted = meeting.decisions
    assert opened["effect"] == "opened" and updated == {
        "text": "12月3日前完成储罐检修",
        "case": existing.number,
        "effect": "updated",
    }
    assert noted["case"] is None
    new_case = get_case(db, opened["case"])
    assert new_case.state == "dispatched" and new_case.requirement == "联席会议决定：公开周边水井检测结果"
    assert get_case(db, existing.number).requirement.endswith("联席会议决定：12月3日前完成储罐检修")
    assert history(db, existing.number)[-1].action == "decision"
    assert [m.id for m in list_meetings(db, ids["event"])] == [meeting.id]


def test_the_loop_from_the_command_line(county, env_settings, monkeypatch) -> None:
    _db, settings, _spec, hook, ids = county
    monkeypatch.setenv("YUQING_UNITS_FILE", str(settings.units_file))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    written = run("notices", "write", "--subject", "春节返乡高峰", "--unit", "县应急管理局", "--body", "返乡高峰客流集中。",
                  "--requirements", "提前发布出行提示。", "--by", "舆情中心")  # fmt: skip
    assert "提示函 1：春节返乡高峰；送达 县应急管理局" in written and "网络风险提示函-" in written and "已发送 1 条" in written
    assert "春节返乡高峰" in run("notices", "list")
    opened = run("notices", "open-case", "1", "--by", "舆情中心")
    assert "牵头 县应急管理局，配合 县委宣传部、县委网信办、公安局网安大队、县委国安办" in opened and "舆情督报-" in opened
    shown = run("notices", "show", "1")
    assert "县应急管理局：已发送；未回执" in shown and "→ 督办件 督〔" in shown and "→ 督报 " in shown

    drafted = run("assessment", "draft", "--event", str(ids["event"]), "--nature", "企业检修异味", "--by", "分析员")
    assert "研判 1（事件 " in drafted and "【性质】企业检修异味" in drafted and "早讲事实" in drafted
    run("assessment", "submit", "1")
    assert "已签发；起草 分析员；中心主任 于" in run("assessment", "approve", "1", "--by", "中心主任")
    recorded = run("meeting", "record", "--event", str(ids["event"]), "--kind", "joint", "--at", "2026-11-16 15:00",
                   "--unit", "县委宣传部", "--unit", "县应急管理局", "--open-case", "公开监测数据")  # fmt: skip
    assert "联席会议 1 已记录" in recorded and "决定：公开监测数据 → 督办件 督〔" in recorded and "舆情督报-" in recorded
    listed = run("assessment", "list", "--event", str(ids["event"]))
    assert "联席会议 1" in listed and "（立案督办件 督〔" in listed
    assert len(_posts(hook, "【舆情督报】")) == 10  # two cases, each to its lead and the 1+3
