"""The extractive summariser and how it is measured: ROUGE on a hand-computed example, the length budget, the dev/test split."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from yuqing_core.reports.summary import Passage, clause_cut, informativeness, summarize

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(path.parent))  # the scripts import their neighbours (benchlib, gitdata)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench_summary(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _load(BENCH / "summary.py", "bench_summary", monkeypatch)


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _load(BENCH / "eval" / "build_summary.py", "build_summary", monkeypatch)


def test_character_rouge_matches_a_hand_computed_example(bench_summary: ModuleType) -> None:
    # candidate 天气很好 / reference 今天天气好 (punctuation and spaces not counted):
    # unigrams in common 天 气 好 = 3, P 3/4, R 3/5, F 2/3; bigrams in common 天气 = 1 of 3 and 4, F 2/7;
    # longest common subsequence 天气好 = 3, F 2/3.
    candidate, reference = bench_summary.characters("天气，很好！"), bench_summary.characters("今天 天气好。")
    assert candidate == ["天", "气", "很", "好"]
    assert bench_summary.rouge_n(candidate, reference, 1) == pytest.approx(2 / 3)
    assert bench_summary.rouge_n(candidate, reference, 2) == pytest.approx(2 / 7)
    assert bench_summary.rouge_l(candidate, reference) == pytest.approx(2 / 3)
    assert bench_summary.rouge_n([], reference, 1) == 0.0 and bench_summary.rouge_l(candidate, []) == 0.0


def test_the_lead_baseline_under_a_budget_takes_whole_first_sentences(bench_summary: ModuleType) -> None:
    article = "县里今天召开会议，部署冬季安全生产工作。会议要求各乡镇落实责任。" + "其他内容" * 20 + "。"
    limit = bench_summary.budget(article)
    assert limit == max(bench_summary.BUDGET_MIN_CHARS, round(bench_summary.BUDGET_SHARE * len(article)))
    assert bench_summary.lead_budget(article) == "县里今天召开会议，部署冬季安全生产工作。会议要求各乡镇落实责任。"
    assert bench_summary.lead3(article).startswith("县里今天召开会议")


def test_summary_keeps_to_its_length_budget_and_time_order() -> None:
    morning = datetime(2026, 12, 1, 9, 0)
    passages = [
        Passage("经调查，异味系化工园区内一家企业储罐阀门密封件老化导致。企业已停产整改。", morning + timedelta(hours=4), key=2),
        Passage("白沙镇东坪村一带出现刺鼻异味，村民担心井水受到污染。有网友说味道很冲。", morning, key=1),
    ]
    chosen = summarize(passages, max_sentences=3, max_chars=60)
    assert sum(len(s.text) for s in chosen) <= 60
    assert [s.key for s in chosen] == sorted(s.key for s in chosen)  # oldest first
    assert any("储罐阀门" in s.text for s in chosen) and any("东坪村" in s.text for s in chosen)
    (only,) = summarize(passages[:1], max_sentences=1, max_chars=12)  # the best sentence alone is too long: cut at a clause
    assert only.text == "经调查"


def test_clause_cut_and_informative_words() -> None:
    assert clause_cut("短句子。", 2) == "短句子。"  # no clause break within the budget: left whole
    assert clause_cut("第一段，第二段，第三段。", 8) == "第一段，第二段"
    assert informativeness("储罐") > informativeness("工作") > 0


def test_build_splits_by_a_hash_and_restores_spaced_text(builder: ModuleType) -> None:
    assert builder.split_of("东坪村出现异味。") == builder.split_of("东坪村出现异味。") in ("dev", "test")
    halves = {builder.split_of(f"第{n}篇新闻。") for n in range(40)}
    assert halves == {"dev", "test"}
    assert builder.unspace('2 0 1 4 年 底 ， O T T 厂 商 说 " " 好 " " 。') == '2014年底，OTT厂商说"好"。'
    assert builder.unspace("A p p l e  W a t c h 发 布") == "Apple Watch发布"
