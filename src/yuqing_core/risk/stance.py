"""立场 (stance): what an item does — complains, asks, spreads a rumour, reports harm, or is an
official response, a 辟谣, a resolution, positive coverage — decided from cue words and who speaks.

A transparent classifier, not a model: each class has a lexicon of cue words and a few patterns
typical of Chinese public-opinion texts, written from how such texts are phrased (not fitted to
data). An item's title and the start of its text are scanned once; every cue found adds its
weight to its class; the source role (信息源角色) then decides what the cues mean:

* an ``official`` source does not complain, ask or spread rumours: its 投诉/反映 words are the
  matter it answers (``您好，您反映的…``), so only responses, 辟谣, resolutions, harm reports and
  positive coverage are open to it, and responses, 辟谣 and resolutions weigh more;
* a ``media`` source reports; it does not spread rumours or ask (a 网传 it quotes is checked);
* a ``public`` source (forums, 贴吧, social posts, message boards) complains, asks and passes on
  rumours more than anything else, so those weigh more.

The class with the highest score wins; ties go to the class listed first in ``STANCES``. An
item with no cue is ``other``. The reason names the role, the cues of the winning class as they
appear in the text, and the rule that decided — so an analyst can see why, and disagree.

Cost: one Aho-Corasick pass over the literal cues and a handful of regular expressions with
literal anchors, on at most ``MAX_SCANNED_CHARS`` characters; no word segmentation.

>>> classify_stance("关于网传凤鸣水库溃坝的情况说明", "经核查，网传信息不实。", "official").stance
'debunk'
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import ahocorasick_rs

Stance = Literal[
    "debunk", "resolution", "official_response", "harm_report", "complaint", "rumour", "question", "positive", "other"
]
# In order of precedence when two classes score the same.
STANCES: tuple[Stance, ...] = (
    "debunk", "resolution", "official_response", "harm_report", "complaint", "rumour", "question", "positive", "other",
)  # fmt: skip
STANCE_LABELS: dict[str, str] = {
    "complaint": "投诉诉求",
    "question": "咨询提问",
    "rumour": "传言",
    "harm_report": "伤亡事故",
    "official_response": "官方回应",
    "debunk": "辟谣",
    "resolution": "问题解决",
    "positive": "正面",
    "other": "其他",
}
# What answers the public rather than being a signal of risk: not counted as sensitive in reports.
RESPONSE_STANCES: frozenset[str] = frozenset({"official_response", "debunk", "resolution"})
_ROLE_PHRASES: dict[str | None, str] = {"official": "官方来源", "media": "媒体来源", "public": "公众来源", None: "来源角色未知"}

MAX_SCANNED_CHARS = 3000  # the main act of a post is stated early; long articles are not read to the end
STRONG, WEAK = 3, 1
TITLE_FACTOR = 2  # a cue in the title says more than one in the body

# Literal cues per class, separated by spaces: (strong, weak). Full-width and half-width forms are the same cue.
_LITERALS: dict[Stance, tuple[str, str]] = {
    "debunk": (
        (
            "辟谣 谣言 造谣 传谣 不实信息 不实消息 信息不实 消息不实 内容不实 系谣传 纯属捏造 纯属虚构 子虚乌有 "
            "无稽之谈 并非事实 与事实不符 不属实 假新闻 虚假信息 虚假消息 澄清"
        ),
        "假消息 不信谣 不传谣 请勿相信 切勿相信 以官方发布为准 真相是 并未发生 没有发生",
    ),
    "resolution": (
        (
            "已整改 整改到位 整改完毕 整改完成 已兑付 兑付到位 全部兑付 已发放到位 足额发放 已到账 已追回 讨回 "
            "已恢复 恢复正常 恢复供水 恢复供电 恢复通车 已修复 修复完成 已办结 已解决 得到解决 妥善解决 圆满解决 "
            "处理完毕 已清零 清零 全部出院 治愈出院 康复出院 解除封控 解封 复工复产 复课 已拆除 已补发 已结清 "
            "已清偿"
        ),
        "已处理 已完成 已落实 恢复 出院 复工 已停产 已关停",
    ),
    "official_response": (
        (
            "您反映的 您所反映 来信收悉 留言收悉 网友您好 网民您好 答复如下 现答复 回复如下 情况通报 情况说明 "
            "答记者问 新闻发布会 官方回应 官方通报 发布通报 警情通报 回应称 通报称 调查组 责令 立案调查 立案侦查 "
            "依法查处 依法处理 停职 免职 问责 党纪处分 政务处分 已介入 高度重视"
        ),
        ("回复 答复 回应 通报 通告 公告 通知 经调查 经核查 经查 调查处理 下一步 将持续 发布会 处置 约谈"),
    ),
    "harm_report": (
        (
            "死亡 身亡 遇难 丧生 罹难 死伤 伤亡 溺亡 抢救无效 不幸去世 重伤 受伤 爆炸 起火 火灾 坍塌 垮塌 "
            "泄漏 泄露 车祸 相撞 侧翻 中毒 确诊病例 新增确诊 新增病例 死亡病例 感染者 地震 山体滑坡 塌方 失联 "
            "被困 决堤 溃坝"
        ),
        "事故 死鱼 送医 救治 受灾 灾情 险情 病例 疫情 受伤害 摔伤",
    ),
    "complaint": (
        (
            "投诉 举报 拖欠 欠薪 讨薪 扰民 乱收费 不作为 乱作为 推诿 踢皮球 没人管 无人管 不管不问 置之不理 "
            "敷衍 不了了之 多次反映 反映多次 反映过多次 一直没有 至今未 至今没有 迟迟 到现在也没 到现在还没 "
            "强烈要求 强烈不满 讨个说法 给个说法 讨说法 主持公道 维权 黑心 霸王条款 坑人 强拆 污染 刺鼻 恶臭 "
            "臭味 噪音 违建 查一查 严查 彻查 严惩 没动静"
        ),
        (
            "反映 要求 希望 强烈 请求 恳请 求助 太差 太低 太高 太久 太贵 凭什么 为什么 难道 怎么能 违规 违法 "
            "损失 到底 不合理 欺骗 油烟"
        ),
    ),
    "rumour": (
        ("网传 据传 传言 听说 据说 疯传 都在传 紧急扩散 扩散 速转 转发周知 不转不是 内部消息 小道消息 内部人士 紧急通知！"),
        "震惊 惊爆 重磅 刚刚 千万 速看 赶紧 注意了 大家注意 爆料 知情人 转发 马上要 即将",
    ),
    "question": (
        (
            "请问 咨询 想问一下 想问下 想了解 是真的吗 是真是假 真的假的 有没有官方 求证 需要哪些 需要什么材料 "
            "需要什么手续 如何办理 怎么办理 到哪里办 哪个部门 什么时候 何时"
        ),
        "有没有 是否 能否 能不能 可不可以 怎么 如何 多少 哪里 哪些 ?",
    ),
    "positive": (
        (
            "喜获 荣获 获评 表彰 通车 竣工 投产 签约 开幕 喜讯 点赞 好评 致敬 感谢 表扬 锦旗 见义勇为 最美 "
            "暖心 先进个人 先进集体 模范 英雄 捐赠 捐款 丰收 获奖 夺冠 金奖 入选 成功举办 隆重"
        ),
        "增长 助力 振兴 致富 惠民 便民 温暖 祝福 好消息 新突破 点亮 喜迎 圆满",
    ),
}

# Patterns: a class (or None: neutral wording that only hides the cues inside it) and a weight.
# Cues found inside a pattern's span are not counted again.
_PATTERNS: tuple[tuple[Stance | None, int, str, str], ...] = (
    # (class, weight, pattern, words one of which the pattern needs: it is not run on a text without any)
    (None, 0, r"(?:防范|预防|遏制|杜绝|减少)[^。；，;,]{0,8}?(?:事故|伤亡|火灾)", "事故 伤亡 火灾"),
    (None, 0, r"事故隐患|安全隐患|隐患排查|应急演练|消防演练|安全生产", "隐患 演练 安全生产"),
    (None, 0, r"(?:无|未造成|未发现|未出现|未见|并无|没有|未有|暂无)(?:人员)?(?:伤亡|受伤|死亡|中毒|失踪)|无人(?:员)?(?:受伤|中毒)",
     "伤亡 受伤 死亡 中毒 失踪"),
    ("debunk", STRONG * 2,
     r"(?:网传|网上流传|传言|传闻|有人称)[^。]{0,40}?(?:不实|谣言|不属实|并非事实|假的|虚假|系谣传|没有此事)",
     "网传 网上流传 传言 传闻 有人称"),
    ("debunk", STRONG, r"经(?:核实|核查|调查|查)[^。]{0,20}?(?:不存在|并无此事|没有此事|未发生|系虚构|系编造)",
     "不存在 并无此事 没有此事 未发生 系虚构 系编造"),
    ("debunk", STRONG, r"(?:编造|散布|发布)[^。]{0,10}?(?:虚假|不实)[^。]{0,10}?(?:信息|消息|言论)", "虚假 不实"),
    ("official_response", STRONG, r"关于[^。]{0,30}?的(?:通报|说明|回复|答复|回应|声明)", "关于"),
    ("harm_report", STRONG, r"[\d一二两三四五六七八九十数多]+\s*(?:人|名)[^。，,]{0,4}?(?:死亡|遇难|受伤|身亡|失踪|被困|中毒)",
     "死亡 遇难 受伤 身亡 失踪 被困 中毒"),
    ("question", STRONG, r"[吗呢嘛][?？]", "? ？"),
)  # fmt: skip

# A rumour's marks in an official or media source mean the source is quoting it to answer it.
_QUOTED_RUMOUR = frozenset({"网传", "据传", "传言"})

# Which classes each role can take, and the weight its cues get beyond their score.
_OPEN_TO: dict[str | None, frozenset[Stance]] = {
    "official": frozenset({"debunk", "resolution", "official_response", "harm_report", "positive", "other"}),
    "media": frozenset({"debunk", "resolution", "official_response", "harm_report", "complaint", "positive", "other"}),
    "public": frozenset(STANCES),
    None: frozenset(STANCES),
}
_ROLE_BONUS: dict[str | None, dict[Stance, int]] = {
    "official": {"official_response": 2, "debunk": 2, "resolution": 2},
    "media": {"official_response": 1, "harm_report": 1},
    # The public relays official statements too, but a lone 通知/通报 in a post is usually part of a grievance.
    "public": {"complaint": 2, "question": 2, "rumour": 2, "official_response": -1},
    None: {},
}


@dataclass(frozen=True)
class StanceResult:
    stance: Stance
    reason: dict[str, Any] = field(default_factory=dict)  # {"role", "cues", "rule"}: stored as JSON

    def explain(self) -> str:
        """``辟谣（官方来源；线索：不实、辟谣）`` — one line for the CLI and reports."""
        return explain_stance(self.stance, self.reason)


def explain_stance(stance: str | None, reason: dict[str, Any] | None) -> str:
    if stance is None:
        return "未判定（分析早于立场判定，重新分析后可见）"
    reason = reason or {}
    parts = [_ROLE_PHRASES.get(reason.get("role"), "来源角色未知")]
    cues = reason.get("cues") or []
    parts.append("线索：" + "、".join(cues) if cues else "无线索词")
    return f"{STANCE_LABELS.get(stance, stance)}（{'；'.join(parts)}）"


class _Lexicon:
    """The cue lexicons compiled once: one automaton over the literals, the patterns as regexes."""

    def __init__(self) -> None:
        literals: dict[str, tuple[Stance, int]] = {}
        for stance, (strong, weak) in _LITERALS.items():
            for words, weight in ((strong, STRONG), (weak, WEAK)):
                for word in words.split():
                    for form in _forms(word):
                        if form in literals and literals[form] != (stance, weight):
                            raise ValueError(f"cue {word!r} is listed twice")
                        literals[form] = (stance, weight)
        self.words = list(literals)
        self.meaning = [literals[word] for word in self.words]
        self.automaton = ahocorasick_rs.AhoCorasick(self.words, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
        self.patterns = [
            (stance, weight, re.compile(pattern), tuple(form for word in needs.split() for form in _forms(word)))
            for stance, weight, pattern, needs in _PATTERNS
        ]

    def cues(self, text: str) -> list[tuple[Stance, int, str]]:
        """(class, weight, cue as found) for every cue in ``text``."""
        found: list[tuple[Stance, int, str]] = []
        covered: list[tuple[int, int]] = []
        for stance, weight, pattern, needs in self.patterns:
            if not any(word in text for word in needs):
                continue
            for match in pattern.finditer(text):
                covered.append(match.span())
                if stance is not None:
                    found.append((stance, weight, match.group(0)))
        for index, start, end in self.automaton.find_matches_as_indexes(text):
            if not any(s <= start and end <= e for s, e in covered):
                stance, weight = self.meaning[index]
                found.append((stance, weight, text[start:end]))
        return found


# Texts are read as they are (no normalization pass: it would cost more than the scan): a cue with
# full-width punctuation is also looked for in half-width (？ and ?), and the patterns accept both.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH = {half: full for full, half in _HALF_WIDTH.items()}


def _forms(word: str) -> set[str]:
    return {word, word.translate(_HALF_WIDTH), word.translate(_FULL_WIDTH)} if not word.isalnum() else {word}


_LEXICON = _Lexicon()


def _bonus(bonus: int, score: int) -> int:
    return bonus if bonus < 0 or score > WEAK else 0


def classify_stance(title: str | None, text: str | None, role: str | None) -> StanceResult:
    """The stance of an item from its title, text and its source's role (official | media | public | None)."""
    role = role if role in _OPEN_TO else None
    title_n = title or ""
    text_n = (text or "")[:MAX_SCANNED_CHARS]
    scores: dict[Stance, int] = defaultdict(int)
    cues: dict[Stance, list[str]] = defaultdict(list)
    headline: set[Stance] = set()  # classes with a strong cue in the title
    for factor, part in ((TITLE_FACTOR, title_n), (1, text_n)):
        for found, weight, cue in _LEXICON.cues(part):
            stance: Stance = "debunk" if found == "rumour" and cue in _QUOTED_RUMOUR and role in ("official", "media") else found
            scores[stance] += weight * factor
            if factor == TITLE_FACTOR and weight >= STRONG:
                headline.add(stance)
            if cue not in cues[stance]:
                cues[stance].append(cue)
    open_to = _OPEN_TO[role]
    bonus = _ROLE_BONUS[role]
    # The role strengthens evidence (more than one weak cue) but does not create it.
    ranked = {s: score + _bonus(bonus.get(s, 0), score) for s, score in scores.items() if s in open_to and score > 0}
    ranked = {s: score for s, score in ranked.items() if score > 0}
    if not ranked:
        unheard = sorted({c for s in scores for c in cues[s]})
        if not unheard:
            rule = "没有线索词"
        elif any(s in open_to for s in scores):
            rule = f"线索词太弱，不足以判定{_ROLE_PHRASES[role]}的立场"
        else:
            rule = f"线索词所指的立场不适用于{_ROLE_PHRASES[role]}"
        return StanceResult("other", {"role": role, "cues": unheard, "rule": rule})
    best = max(STANCES, key=lambda s: (ranked.get(s, 0), -STANCES.index(s)))
    # A report's headline states its act: "欠薪86万元已全部兑付" from a paper or an office is the answer,
    # however much of its body retells the grievance it answers.
    answered = [s for s in ("resolution", "debunk", "official_response") if s in headline and s in ranked]
    if role in ("official", "media") and answered and best not in answered:
        best = max(answered, key=lambda s: (ranked[s], -STANCES.index(s)))
        rule = f"{_ROLE_PHRASES[role]}：标题写明{STANCE_LABELS[best]}（线索得分 {ranked[best]}），以标题为准"
        return StanceResult(best, {"role": role, "cues": cues[best][:8], "rule": rule})
    runner_up = [s for s in STANCES if s != best and ranked.get(s, 0) > 0]
    rule = f"{_ROLE_PHRASES[role]}：{STANCE_LABELS[best]}线索得分 {ranked[best]}"
    if runner_up:
        other = max(runner_up, key=lambda s: ranked[s])
        rule += f"，高于{STANCE_LABELS[other]} {ranked[other]}"
    return StanceResult(best, {"role": role, "cues": cues[best][:8], "rule": rule})


__all__ = [
    "RESPONSE_STANCES",
    "STANCES",
    "STANCE_LABELS",
    "Stance",
    "StanceResult",
    "classify_stance",
    "explain_stance",
]
