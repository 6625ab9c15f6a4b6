"""立场 (stance): the cue-word classifier on hand-written examples, the source role's say, the reason it
gives; the match step storing stance and reason (both dialects); the daily report not counting
responses as sensitive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from test_analysis import NOW, library, load, post
from yuqing_core.analysis import analyze
from yuqing_core.analysis.match import match_batch
from yuqing_core.collect.sources import SourceSpec, import_sources
from yuqing_core.db.models import ItemAnalysis
from yuqing_core.reports.data import build_daily_report
from yuqing_core.risk.stance import RESPONSE_STANCES, STANCES, classify_stance, explain_stance
from yuqing_core.risk.versions import active_library
from yuqing_core.timeutil import SHANGHAI

# Written for these tests in the manner of a county's feeds (not taken from any evaluation data):
# (title, text, source role, expected stance, a cue the reason must name)
EXAMPLES = [
    ("小区楼下烧烤摊天天半夜扰民", "每天营业到凌晨两点，油烟噪音太大，打了几次电话没人管，强烈要求城管处理。", "public",
     "complaint", "扰民"),
    ("", "物业乱收费，一个车位每月涨到三百，业主多次反映无果，请相关部门查一查。", "public", "complaint", "乱收费"),
    ("咨询新生儿医保怎么办理", "请问新生儿参加城乡居民医保需要哪些材料？在哪个窗口办？", "public", "question", "请问"),
    ("", "听说下周起县城到河口镇的班车要停运了，是真的吗？有没有官方消息？", "public", "question", "是真的吗"),
    ("紧急扩散！县一中明天起停课", "内部消息，县一中出现传染病，明天起全校停课，家长赶紧去接孩子，转发周知！", "public",
     "rumour", "紧急扩散"),
    ("青柳公路发生一起交通事故", "今日上午，青柳公路下湾村路段一辆货车与面包车相撞，造成2人死亡、3人受伤，伤者已送医救治。",
     "media", "harm_report", "2人死亡"),
    ("关于网传县一中停课的情况说明", "近日，网传“县一中出现传染病全校停课”的消息不实。经核查，该校教学秩序正常。请广大群众不信谣、不传谣。",
     "official", "debunk", "不实"),
    ("", "网友您好，您反映的滨河小区烧烤摊扰民问题已收悉。县城管局已约谈摊主，下一步将加强夜间巡查。", "official",
     "official_response", "您反映的"),
    ("柳湾镇安置小区农民工工资已全部兑付", "经镇劳动保障所协调，拖欠的三十二名农民工工资已兑付到位，工人已签字确认。",
     "official", "resolution", "已兑付"),
    ("青禾至江华一级公路建成通车", "青禾至江华一级公路今日正式通车，两地车程缩短至40分钟。", "official", "positive", "通车"),
    ("县政府召开第十七次常务会议", "会议传达学习有关会议精神，研究部署冬季供暖保障等工作。", "official", "other", None),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text", "role", "expected", "cue"), EXAMPLES, ids=[e[3] + "-" + e[2] for e in EXAMPLES])
def test_each_class_on_hand_written_examples(title, text, role, expected, cue) -> None:
    result = classify_stance(title, text, role)
    assert result.stance == expected, result.reason
    assert result.reason["role"] == role
    if cue is not None:
        assert any(cue in found for found in result.reason["cues"]), result.reason
    else:
        assert result.reason["cues"] == [] and result.reason["rule"] == "没有线索词"


def test_every_class_is_reachable_by_the_examples() -> None:
    assert {e[3] for e in EXAMPLES} == set(STANCES)


def test_the_role_decides_what_the_same_words_mean() -> None:
    # 已兑付 from the county's own account is a resolution; a worker saying it was promised is not.
    text = "镇里说工资已兑付，可我们到现在还没拿到一分钱，找了好几次没人管。"
    assert classify_stance("", "经协调，拖欠的工资已兑付到位。", "official").stance == "resolution"
    assert classify_stance("", text, "public").stance == "complaint"
    # The same 投诉/反映 words in a reply from an official source are what it answers, not a complaint.
    reply = "您反映的小区噪音扰民问题，县生态环境局已责令商户整改。"
    assert classify_stance("", reply, "official").stance in RESPONSE_STANCES
    # A rumour's marks in an official or media source: it is quoting the rumour to answer it.
    quoted = ("网传凤鸣水库出现裂缝", "水利局工作人员到现场查看，大坝运行正常。")
    assert classify_stance(*quoted, "official").stance == "debunk"
    assert classify_stance(*quoted, "public").stance == "rumour"
    # An official source neither complains nor asks: with only such cues its item is "other".
    official = classify_stance("", "请问群众有什么诉求？", "official")
    assert official.stance == "other" and "不适用于官方来源" in official.reason["rule"]


def test_unknown_role_and_empty_text() -> None:
    assert classify_stance(None, None, None).stance == "other"
    assert classify_stance("", "", "no-such-role").reason["role"] is None
    assert classify_stance("县城自来水厂爆炸致3人受伤", "", None).stance == "harm_report"


def test_wording_that_only_mentions_harm_is_not_a_harm_report() -> None:
    drill = classify_stance("县应急局开展安全生产大检查", "督促企业排查事故隐患，坚决防范化解各类事故。", "official")
    assert drill.stance != "harm_report"
    no_one_hurt = classify_stance("", "火情已扑灭，无人员伤亡。", "media")
    assert "无人员伤亡" not in no_one_hurt.reason["cues"]
    # A resolution that says no one was poisoned is not a harm report (the demo's 化工园区 通报).
    cleared = classify_stance("通报异味原因", "企业已完成封堵，周边空气质量恢复正常，未发现人员中毒。", "media")
    assert cleared.stance != "harm_report" and "中毒" not in cleared.reason["cues"]


def test_full_width_and_half_width_are_the_same_cue() -> None:
    assert classify_stance("", "这个是真的吗？", "public").stance == classify_stance("", "这个是真的吗?", "public").stance


def test_reason_names_role_cues_and_rule_and_explains_in_one_line() -> None:
    result = classify_stance("关于网传县一中停课的情况说明", "网传消息不实，请勿相信。", "official")
    assert set(result.reason) == {"role", "cues", "rule"}
    assert result.reason["rule"].startswith("官方来源：辟谣线索得分")
    assert result.explain().startswith("辟谣（官方来源；线索：")
    assert explain_stance(None, None).startswith("未判定")


def test_only_the_start_of_a_long_text_is_read() -> None:
    long_text = "今天天气晴朗，街上行人不多。" * 300 + "造成3人死亡。"
    assert classify_stance("", long_text, "media").stance == "other"


# --- the match step stores it ---------------------------------------------------------------


def test_match_stores_stance_and_reason_and_is_idempotent(db, settings, tmp_path) -> None:
    import_sources(
        db,
        [
            SourceSpec(name="青禾论坛", url="http://example.org/bbs.xml"),  # inferred: public
            SourceSpec(name="县政府网", url="http://example.org/gov.xml", role="official"),
        ],
        settings,
    )
    library(db, tmp_path)
    load(db, settings, tmp_path, "青禾论坛", [post("a", "柳湾工地欠薪", "三十多名工人讨薪，老板迟迟不给钱，请政府做主", NOW)])
    load(
        db, settings, tmp_path, "县政府网", [post("b", "柳湾镇工地欠薪问题已解决", "拖欠工资已全部兑付到位。", NOW)], "gov.jsonl"
    )
    analyze(db, now=NOW + timedelta(hours=1))
    with db.reader() as session:
        stored = {
            row.stance: row.stance_reason for row in session.execute(select(ItemAnalysis.stance, ItemAnalysis.stance_reason))
        }
        ids = list(session.scalars(select(ItemAnalysis.item_id).order_by(ItemAnalysis.item_id)))
    assert set(stored) == {"complaint", "resolution"}
    assert stored["complaint"]["role"] == "public" and "欠薪" in stored["complaint"]["cues"]
    assert stored["resolution"]["role"] == "official" and "全部兑付" in stored["resolution"]["cues"]
    summary = match_batch(db, active_library(db), ids, now=NOW + timedelta(hours=2))
    assert summary.stances == {"complaint": 1, "resolution": 1}
    with db.reader() as session:
        again = {
            row.stance: row.stance_reason for row in session.execute(select(ItemAnalysis.stance, ItemAnalysis.stance_reason))
        }
    assert again == stored


def test_the_daily_report_does_not_count_responses_as_sensitive(db, settings, tmp_path) -> None:
    import_sources(
        db,
        [
            SourceSpec(name="青禾论坛", url="http://example.org/bbs.xml", role="public"),
            SourceSpec(name="县政府网", url="http://example.org/gov.xml", role="official"),
        ],
        settings,
        now=NOW - timedelta(days=30),
    )
    library(db, tmp_path)
    day = (NOW - timedelta(hours=3)).astimezone(SHANGHAI).date()
    load(
        db, settings, tmp_path, "青禾论坛", [post("a", "柳湾工地欠薪", "三十多名工人讨薪，请政府做主", NOW - timedelta(hours=3))]
    )
    debunk = post(
        "b",
        "关于网传青禾县柳湾工地欠薪的情况说明",
        "经核查，网传“欠薪三百万”不实，讨薪工人工资已全部兑付。",
        NOW - timedelta(hours=2),
    )
    load(db, settings, tmp_path, "县政府网", [debunk], "gov.jsonl")
    analyze(db, now=NOW)
    report = build_daily_report(db, settings, day, now=NOW + timedelta(hours=12))
    assert (report.relevant, report.sensitive, report.responses) == (2, 1, 1)
    assert [i.title for i in report.sensitive_items] == ["柳湾工地欠薪"]
    assert "敏感信息 1 条" in report.summary and "官方回应、辟谣和问题解决 1 条" in report.summary
    assert report.trend[-1].sensitive == 1


def test_a_reports_headline_states_its_act_over_the_grievance_its_body_retells() -> None:
    body = "记者从县人社局获悉，柳湾镇某项目拖欠的86万元农民工工资已全部兑付到位。此前有工人在网上反映被拖欠工资、讨薪无果。"
    paper = classify_stance("柳湾镇一项目欠薪86万元已全部兑付", body, "media")
    assert paper.stance == "resolution" and "以标题为准" in paper.reason["rule"]
    # Not for the public: a post headed with an outcome it disputes is still a grievance.
    assert (
        classify_stance("说是已全部兑付，我们还没拿到钱", "拖欠工资三个月，讨薪无果，强烈要求给个说法", "public").stance
        == "complaint"
    )
