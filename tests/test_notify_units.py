"""The units file: validation with file/line/field, import into the units table, routing by level and kind."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from yuqing_core.db import Database
from yuqing_core.notify import (
    ConfigFileError,
    UnitsFile,
    import_units,
    list_units,
    load_units_file,
    parse_level,
    resolve_recipients,
)
from yuqing_core.yamlfile import Problem

UNITS = """\
units:
  - name: 县舆情中心
    kind: office
    targets: ["mailto://office:${SMTP_PASSWORD}@smtp.example.gov.cn?to=office@example.gov.cn"]
  - name: 县委书记
    kind: leadership
    roles: [county_leadership]
    targets: ["mailto://sj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=sj@example.gov.cn"]
  - name: 分管副县长
    kind: leadership
    roles: [county_leadership]
    targets: ["dingtalk://${DINGTALK_TOKEN}/"]
  - name: 县应急管理局
    kind: department
    leader: 分管副县长
    roles: [core_department]
    targets:
      - "mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn"
      - "json://hooks.example.gov.cn/yjj?-token=${WEBHOOK_TOKEN}"
  - name: 柳湾镇
    kind: township
    leader: 县委书记
    targets: ["wecombot://${WECOM_KEY}"]
routing:
  IV: [县舆情中心]
  III: [县舆情中心, risk_point_units]
  II: [县舆情中心, risk_point_units, role:county_leadership]
  I: [县舆情中心, risk_point_units, role:county_leadership]
  daily_report: [县舆情中心, role:county_leadership]
  case_overdue: [县舆情中心, risk_point_units, leaders]
quiet_hours: {start: "22:00", end: "07:00", hold_below: II}
digest: {below: III, every: 2h}
"""

pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    with pytest.raises(ConfigFileError) as caught:
        load_units_file(write(tmp_path, text))
    return caught.value.problems


def find(problems: list[Problem], field: str) -> Problem:
    matching = [p for p in problems if p.field == field]
    assert matching, f"no problem at {field}: {[str(p) for p in problems]}"
    return matching[0]


def test_the_documented_file_loads(tmp_path: Path) -> None:
    spec = load_units_file(write(tmp_path, UNITS))

    assert [u.name for u in spec.units] == ["县舆情中心", "县委书记", "分管副县长", "县应急管理局", "柳湾镇"]
    assert spec.quiet_hours is not None and spec.quiet_hours.start == time(22, 0) and spec.quiet_hours.hold_below == 2
    assert spec.digest is not None and spec.digest.below == 3 and spec.digest.every == 7200
    assert spec.units[3].targets[1] == "json://hooks.example.gov.cn/yjj?-token=${WEBHOOK_TOKEN}"


def test_schema_problems_are_named_by_line_and_field(tmp_path: Path) -> None:
    text = """\
units:
  - name: 县舆情中心
    kind: agency
    targets:
      - "mailto://u:${smtp_password}@smtp.example.gov.cn?to=a@example.gov.cn"
      - "mailto://u:plain-password@smtp.example.gov.cn?to=a@example.gov.cn"
      - "json://hooks.example.gov.cn/hook?token=${WEBHOOK_TOKEN}"
      - "nosuch://example.gov.cn"
      - "json://hooks.example.gov.cn/hook?-token=${WEBHOOK_TOKEN"
routing:
  IV: [县舆情中心]
quiet_hours: {start: "25:00", end: "07:00", hold_below: V}
digest: {below: III, every: 7m}
"""
    problems = problems_of(tmp_path, text)

    kind = find(problems, "units[0].kind")
    assert kind.line == 3 and kind.message.startswith("应为以下之一") and "第 3 行" in str(kind)
    bad_placeholder = find(problems, "units[0].targets[0]")
    assert bad_placeholder.line == 5 and "${smtp_password}" in bad_placeholder.message
    literal = find(problems, "units[0].targets[1]")
    assert literal.line == 6 and "明文密码" in literal.message and "plain-password" not in str(literal)
    dropped = find(problems, "units[0].targets[2]")
    assert dropped.line == 7 and "会被 Apprise 忽略" in dropped.message and "-token=" in dropped.message
    assert "不支持 nosuch://" in find(problems, "units[0].targets[3]").message
    assert "缺少右括号" in find(problems, "units[0].targets[4]").message
    assert find(problems, "quiet_hours.start").line == 12
    assert "未知的预警级别" in find(problems, "quiet_hours.hold_below").message
    assert "整除 24 小时" in find(problems, "digest.every").message
    assert all(p.file.endswith("units.yaml") for p in problems)


def test_cross_reference_problems_are_named_by_line_and_field(tmp_path: Path) -> None:
    text = """\
units:
  - name: 县舆情中心
    kind: office
  - name: 县应急管理局
    leader: 县长
    roles: [core_department]
  - name: 县舆情中心
routing:
  IV: [县舆情中心]
  III: [县舆情中心, 县水利局]
  II: [role:county_leadership]
  V: [县舆情中心]
  Daily-Report: [县舆情中心]
"""
    problems = problems_of(tmp_path, text)

    assert find(problems, "units[2].name").line == 7 and "与第 2 行重复" in find(problems, "units[2].name").message
    assert find(problems, "units[1].leader").line == 5 and "县长" in find(problems, "units[1].leader").message
    assert find(problems, "routing.III[1]").line == 10 and "县水利局" in find(problems, "routing.III[1]").message
    assert "county_leadership" in find(problems, "routing.II[0]").message
    assert "未知的预警级别 V" in find(problems, "routing.V").message
    assert find(problems, "routing.Daily-Report").line == 13
    assert "缺少预警级别 I" in find(problems, "routing").message


def test_quiet_hours_times_must_be_quoted_and_differ(tmp_path: Path) -> None:
    base = UNITS.replace('quiet_hours: {start: "22:00", end: "07:00", hold_below: II}', "{quiet}")
    unquoted = problems_of(tmp_path, base.replace("{quiet}", "quiet_hours: {start: 22:00, end: '07:00'}"))
    assert "加引号" in find(unquoted, "quiet_hours.start").message
    same = problems_of(tmp_path, base.replace("{quiet}", "quiet_hours: {start: '07:00', end: '07:00'}"))
    assert "不能相同" in find(same, "quiet_hours.end").message


def test_levels_parse_from_roman_and_numbers() -> None:
    assert [parse_level(v) for v in ("I", "ii", "III", "IV", 1, "4")] == [1, 2, 3, 4, 1, 4]
    with pytest.raises(ValueError, match="未知的预警级别"):
        parse_level("V")


# --- routing ------------------------------------------------------------------------------------


def test_routing_by_level_from_the_file(tmp_path: Path) -> None:
    spec = load_units_file(write(tmp_path, UNITS))
    concerned = ["县应急管理局", "柳湾镇", "县应急管理局"]

    assert resolve_recipients(spec, 4, concerned) == ["县舆情中心"]
    assert resolve_recipients(spec, "III", concerned) == ["县舆情中心", "县应急管理局", "柳湾镇"]
    assert resolve_recipients(spec, 2, concerned) == ["县舆情中心", "县应急管理局", "柳湾镇", "县委书记", "分管副县长"]
    assert resolve_recipients(spec, "I", ["分管副县长"]) == ["县舆情中心", "分管副县长", "县委书记"]
    assert resolve_recipients(spec, "daily_report") == ["县舆情中心", "县委书记", "分管副县长"]
    # Overdue cases escalate to the units' leadership.
    assert resolve_recipients(spec, "case_overdue", ["县应急管理局", "柳湾镇"]) == [
        "县舆情中心", "县应急管理局", "柳湾镇", "分管副县长", "县委书记",
    ]  # fmt: skip
    with pytest.raises(LookupError, match="case_reminder"):
        resolve_recipients(spec, "case_reminder")


def test_units_concerned_that_are_not_configured_are_kept_for_the_report(tmp_path: Path) -> None:
    spec = load_units_file(write(tmp_path, UNITS))
    assert resolve_recipients(spec, 3, ["县水利局"]) == ["县舆情中心", "县水利局"]


def test_import_is_idempotent_and_routing_reads_the_database(db: Database, tmp_path: Path) -> None:
    spec = load_units_file(write(tmp_path, UNITS))

    first = import_units(db, spec)
    again = import_units(db, spec)

    assert len(first.added) == 5 and again.unchanged == [u.name for u in spec.units] and not again.updated
    units = {u.name: u for u in list_units(db)}
    assert units["县应急管理局"].leader == "分管副县长" and units["县应急管理局"].roles == ["core_department"]
    assert units["县应急管理局"].targets[1] == "json://hooks.example.gov.cn/yjj?-token=${WEBHOOK_TOKEN}"
    assert resolve_recipients(db, 2, ["柳湾镇"], config=spec) == ["县舆情中心", "柳湾镇", "县委书记", "分管副县长"]


def test_units_left_out_of_the_file_are_disabled_and_leave_their_roles(db: Database, tmp_path: Path) -> None:
    spec = load_units_file(write(tmp_path, UNITS))
    import_units(db, spec)
    smaller = UnitsFile.model_validate(
        {**spec.model_dump(), "units": [u.model_dump() for u in spec.units if u.name != "县委书记"]}
    )

    summary = import_units(db, smaller)

    assert summary.disabled == ["县委书记"]
    assert {u.name: u.enabled for u in list_units(db)}["县委书记"] is False
    assert resolve_recipients(db, "daily_report", config=spec) == ["县舆情中心", "分管副县长"]
    assert "文件中没有、已停用：县委书记" in summary.lines()


def test_a_file_with_problems_imports_nothing(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError):
        import_units(db, load_units_file(write(tmp_path, UNITS.replace("leader: 县委书记", "leader: 县长"))))
    assert list_units(db) == []
