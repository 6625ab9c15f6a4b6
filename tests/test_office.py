"""The office's identity: the units file's office: section, validated with line and field, environment overrides."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from yuqing_core.config import Settings
from yuqing_core.errors import InvalidInput
from yuqing_core.notify import load_units_file
from yuqing_core.office import Leader, Office, load_office
from yuqing_core.yamlfile import ConfigFileError

UNITS = """\
units:
  - {name: 县舆情中心, kind: office, targets: ["json://127.0.0.1:9/office"]}
  - {name: 县应急管理局, kind: department}
routing: {IV: [县舆情中心], III: [县舆情中心], II: [县舆情中心], I: [县舆情中心]}
"""

OFFICE = """\
office:
  county: 柳河县
  name: 柳河县网络舆情应急监控中心
  short_name: 柳舆
  internal_only: true
  contact: {person: 王某, phone: 12345678}
  number_prefixes: {special: 柳舆专报}
  leaders:
    - {title: 县委书记, name: 李某}
    - 县长
  distribution:
    default:
      send_to: [县委办公室]
    special:
      copy_to: [县委网信办, risk_point_units]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_office_section_names_the_county_numbers_leaders_and_distribution(tmp_path: Path) -> None:
    office = load_office(Settings(home=tmp_path, units_file=write(tmp_path, UNITS + OFFICE)))
    assert (office.county, office.name, office.issuing_body) == (
        "柳河县",
        "柳河县网络舆情应急监控中心",
        "柳河县网络舆情应急监控中心",
    )
    assert office.internal_only and office.contact == "王某，12345678"
    assert office.leaders == (Leader("县委书记", "李某"), Leader("县长"))
    assert [office.number_prefix(kind) for kind in ("daily", "special", "weekly")] == ["柳舆日", "柳舆专报", "柳舆周"]
    with pytest.raises(InvalidInput, match="number_prefixes"):
        office.number_prefix("minutes")
    lines = office.distribution("special", concerned=["县应急管理局", "县委网信办", "县委办公室"]).lines()
    assert lines == [("报", ("县委书记李某", "县长")), ("送", ("县委办公室",)), ("抄送", ("县委网信办", "县应急管理局"))]
    assert office.distribution("daily").copy_to == ()
    # The units file with its office: section is still one valid units file.
    assert load_units_file(tmp_path / "units.yaml").office is not None


def test_the_home_units_file_is_found_and_the_environment_overrides_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, UNITS + OFFICE)  # $YUQING_HOME/units.yaml, with no YUQING_UNITS_FILE: a fresh shell after the demo
    monkeypatch.delenv("YUQING_UNITS_FILE", raising=False)
    monkeypatch.setenv("YUQING_HOME", str(tmp_path))
    for name in ("YUQING_COUNTY_NAME", "YUQING_OFFICE_NAME", "YUQING_OFFICE_SHORT_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert load_office(Settings()).name == "柳河县网络舆情应急监控中心"
    monkeypatch.setenv("YUQING_OFFICE_SHORT_NAME", "河舆")
    monkeypatch.setenv("YUQING_COUNTY_NAME", "河西县")
    office = load_office(Settings())
    assert (office.county, office.name, office.number_prefix("special")) == ("河西县", "柳河县网络舆情应急监控中心", "河舆专")


def test_without_a_section_the_settings_are_the_identity(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, units_file=write(tmp_path, UNITS), county_name="柳河县", office_short_name="柳舆")
    assert load_office(settings) == Office(name="网络舆情应急监控中心", county="柳河县", short_name="柳舆")
    assert load_office(Settings(home=tmp_path / "none")).county == "本县"


def test_a_wrong_section_is_refused_whole_with_line_and_field(tmp_path: Path) -> None:
    bad = OFFICE.replace("  short_name: 柳舆\n", "  short_name: 柳〔舆〕\n").replace("name: 李某}", "name: 李某, rank: 1}")
    path = write(tmp_path, UNITS + bad)
    with pytest.raises(ConfigFileError) as caught:
        load_office(Settings(home=tmp_path, units_file=path))
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(8, "office.short_name"), (13, "office.leaders[0].rank")}, caught.value
    with pytest.raises(ConfigFileError, match=r"office\.short_name"):
        load_units_file(path)  # the units file as a whole refuses it too
    missing = OFFICE.replace("  county: 柳河县\n", "")
    with pytest.raises(ConfigFileError, match=r"office\.county：缺少必填字段"):
        load_office(Settings(home=tmp_path, units_file=write(tmp_path, UNITS + missing)))


def test_the_demo_county_has_a_complete_identity(tmp_path: Path) -> None:
    text = resources.files("yuqing_core.demo").joinpath("units.yaml").read_text(encoding="utf-8")
    office = load_office(Settings(home=tmp_path, units_file=write(tmp_path, text.replace("{inbox}", "127.0.0.1:9/inbox"))))
    assert (office.county, office.name, office.number_prefix("daily")) == ("青禾县", "青禾县网络舆情应急监控中心", "青舆日")
    assert office.internal_only and office.contact and len(office.leaders) == 3
    assert all(names for _, names in office.distribution("special", concerned=["县应急管理局"]).lines())
