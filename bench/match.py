"""Benchmark of the rule engine, its figure beside an anchor measured in the same run.

Run with ``make bench`` (or ``.venv/bin/python bench/match.py``). Every line
on stdout is one JSON object::

    {"bench": "match", "metric": ..., "value": ..., "anchor": ..., "anchor_value": ..., "ratio": ...}

What is measured:

``items_per_s``
    10,000 rules shaped like a county's risk library over 100,000 items of
    50-300 Chinese characters (plus a 10-30 character title), all generated
    here, deterministically, for the fictional 青禾县. Rules: a region group
    (the county, a township, its villages) AND an entity (an enterprise, a
    school, a landfill...) AND an event group AND NOT an exclusion group;
    some ``near()``, a few ``title:``, a few ``w:`` terms, a handful of
    regular expressions, a few broad county-wide topics. Items: county news
    in common words; some name a place and an entity, fewer report an
    incident, so that a realistic share (reported on stderr, about 7%)
    match at least one rule. Items look the way the collect stage stores
    them: 40% in paragraphs (line breaks), some with stray spaces, Latin
    words, full-width digits or ellipses, 1% reposted in traditional
    characters (``--plain-text`` drops that texture, for comparison).

    "Ours" is ``RuleSet.match_many`` over ``MatchText(title, text)``,
    explanation included (each ``RuleMatch`` with its hits in original
    offsets). ``items_per_s_with_statistics`` is the same with term
    statistics measured on 5,000 earlier items (``RuleSet.term_frequencies``),
    as a deployment can from yesterday's items.
    The anchor is a raw ahocorasick-rs overlapping scan
    (``find_matches_as_indexes(text, overlapping=True)``) of the same titles
    and texts, one call each, with an automaton of the same terms
    (``RuleSet.terms``, default construction): the floor any engine built on
    this automaton stands on. ``ratio = ours / anchor``; the issue asks for
    at least 0.7. ``floor_items_per_s`` is the least any engine on this
    automaton does in Python beyond the anchor, and nothing else: the two
    fields joined and tidied, one scan of them, one set test of which terms
    occurred (no rule evaluated, nothing explained); its ratio is the
    ceiling of ours. ``anchor_mb_per_s`` is the anchor's speed over the UTF-8
    size of the texts.

``build_s``
    Seconds to build a ``RuleSet`` of the 10,000 rules from their text
    (parse, normalize, index, automaton; each rule's evaluator is compiled
    when the rule is first a candidate, so the first pass pays for the rules
    it looks at), beside building the bare automaton of the same terms.
    Lower is better: ``ratio = anchor / ours``; ``target_s`` is the issue's
    bound (1 s, or 20 times the automaton build if that is more). Each build
    is measured in a fresh process, as ``yuqing risk validate`` meets it, so
    it includes what the first rule set of a process loads (the
    normalization tables, jieba's dictionary counts): this process and four
    more started for it, the automaton built right after the rule set in
    each; the figures are the medians with their spread. The normalization
    tables are read from the file the first process on a machine keeps
    (``rules/_normalize.py``, in ``~/.cache/yuqing``); that first process
    derives them, about 0.2 s more. ``cpu_s`` and
    ``anchor_cpu_s`` are CPU seconds, which a busy machine inflates less
    than wall-clock time.

Memory: every line carries ``peak_rss_mb``, the process's peak resident
size (``ru_maxrss``; the 100,000 items held in memory for the passes are
most of it). The ``build_s`` line also carries ``index_mb``, how much the
resident size grew while the rule set was built (compiled rules, the
automaton, the normalization tables loaded on first use). The matcher
keeps no per-item state: ``match_many`` streams, and the only cache that
outlives a document (normalized source names) is capped at 4,096 entries,
so the index is the same size at 1,000,000 items as at none
(``index_mb_at_1m_items`` repeats the figure, ``per_item_bytes`` is 0).

Noise: the items are cut into chunks of 500; every side runs on every
chunk, taking turns at going first, over five passes with fresh string
objects each pass (as items read from a database are; ahocorasick-rs caches
a string's UTF-8 form inside it). Each pass gives each side a rate (its
time summed over the chunks); the figures are the medians over the passes
with their spread (``value_min``/``value_max``, ``anchor_min``/``anchor_max``),
so a load spike elsewhere on this shared machine moves one pass and not the
figure. The first pass also pays what a rule set sets up on first use
(jieba's dictionary for ``w:`` terms, about 0.6 s; compiling each rule the
first time it is a candidate); the median of five keeps that out of the
throughput. Progress goes to stderr; ``--profile`` adds a
profile of the engine there.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import operator
import pstats
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable

import ahocorasick_rs

from benchlib import emit, figure_from_rounds, log
from yuqing_core.rules import MatchText, RuleSet
from yuqing_core.rules._normalize import FIELD_SEPARATOR, tidy_fields

SEED = 20261128
RULES = 10_000
ITEMS = 100_000
CHUNK = 500
PASSES = 5
BUILD_SAMPLES = 5  # builds of the rule set, each in a fresh process
SAMPLE = 5_000  # earlier items the term statistics are measured on

COUNTY = "青禾县"
TOWNSHIPS = ("青禾镇", "柳湾镇", "石桥乡", "杏林镇", "白沙镇", "云台乡", "梅岭乡", "河口镇")
EVENTS = (
    "事故", "泄漏", "异味", "拆迁", "征收", "欠薪", "讨薪", "食品安全", "污染", "死鱼", "上访", "维权",
    "爆炸", "火灾", "坍塌", "塌方", "冒烟", "恶臭", "噪音", "排污", "偷排", "停工", "停产", "纠纷",
    "冲突", "围堵", "聚集", "强拆", "违建", "中毒", "食物中毒", "霸凌", "失联", "溺水", "车祸", "侧翻",
    "跑路", "烂尾", "断供", "停水", "停电", "涨价", "投诉", "举报", "曝光", "黑臭", "扬尘", "超载",
)  # fmt: skip
EXCLUSIONS = ("广告", "招聘", "转让", "出租", "演练", "宣传", "表彰", "培训", "招标", "中标", "公示", "优惠")
ENTITY_KINDS = (
    "化工厂", "造纸厂", "养殖场", "砖厂", "水泥厂", "纺织公司", "食品公司", "物流园", "垃圾填埋场",
    "污水处理厂", "中心小学", "中学", "卫生院", "敬老院", "幼儿园", "小区", "商贸城", "汽车站", "水库",
    "大桥", "加油站", "农贸市场", "煤矿", "采石场", "家具厂", "电镀厂", "屠宰场", "光伏电站",
)  # fmt: skip
VILLAGE_FIRST = "东西南北前后大小新老王李张刘陈杨黄赵周吴马孙胡朱高林何郭罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
VILLAGE_SECOND = "庄营岗湾坡沟河集寨屯店桥塘堡坪岭洼铺圩垸"
# Words for w: rules: short terms that often sit inside longer words (民政 in 人民政府).
WORD_TERMS = ("民政", "信访", "城管", "环保", "公安", "应急", "卫健", "住建")
COMMON = (
    "召开", "会议", "研究", "部署", "道路", "建设", "河道", "治理", "安全生产", "检查", "乡村振兴", "产业",
    "发展", "群众", "反映", "问题", "整改", "落实", "工作", "推进", "生态环境", "保护", "重点项目", "投资",
    "教育", "医疗", "保障", "就业", "服务", "农业", "秋收", "小麦", "种植", "防汛", "交通", "调查", "通报",
    "消防", "活动", "学校", "医院", "社区", "志愿者", "文明", "城市", "管理", "供水", "供暖", "价格",
    "市场", "监管", "食品", "企业", "复工", "招商引资", "养老", "保险", "补偿", "接待", "调研", "指导",
    "督查", "考核", "公告", "通知", "实施", "方案", "办法", "政策", "解读", "数据", "统计", "增长", "完成",
    "目标", "任务", "村民", "居民", "干部", "街道", "改造", "污水", "处理", "垃圾", "分类", "今天", "昨天",
    "上午", "下午", "记者", "获悉", "目前", "已经", "相关", "部门", "负责人", "表示", "情况", "正在",
    "进一步", "加强", "人民政府", "县委", "县政府", "市民", "政务", "服务中心", "网友", "留言", "回复",
    "天气", "晴朗", "气温", "游客", "旅游", "文化", "节日", "庆祝", "比赛", "举办", "参加", "老人",
    "孩子", "家长", "老师", "学生", "医生", "患者", "车辆", "司机", "乘客", "商户", "经营", "销售",
)  # fmt: skip
PUNCTUATION = ("，", "，", "，", "。", "、", "；", "！", "？")
REGEXES = (
    r"\d+人(死亡|受伤|被困)",
    r"(镇|乡)政府.{0,6}(强拆|违建)",
    r"[0-9一二三四五六七八九十]+名?(工人|村民).{0,4}(讨薪|上访)",
)


class Library:
    """The fictional county's names and the rules written about them."""

    def __init__(self, rng: random.Random, *, textured: bool = True) -> None:
        self.textured = textured
        villages = sorted({a + b + "村" for a in VILLAGE_FIRST for b in VILLAGE_SECOND})
        rng.shuffle(villages)
        self.villages_of = {town: villages[i * 40 : (i + 1) * 40] for i, town in enumerate(TOWNSHIPS)}
        self.township_of: dict[str, str] = {}
        self.entities: list[str] = []
        seen: set[str] = set()
        while len(self.entities) < 3_500:
            town = rng.choice(TOWNSHIPS)
            place = rng.choice((town[:2], rng.choice(self.villages_of[town])[:2], rng.choice(self.villages_of[town])[:2]))
            name = place + rng.choice(ENTITY_KINDS)
            if name not in seen:
                seen.add(name)
                self.entities.append(name)
                self.township_of[name] = town

    def region_group(self, rng: random.Random, town: str) -> str:
        names = [COUNTY, "青禾", town, *rng.sample(self.villages_of[town], rng.randint(0, 3))]
        return "(" + " | ".join(names) + ")"

    def rules(self, rng: random.Random, count: int) -> list[tuple[int, str]]:
        rules: list[tuple[int, str]] = []
        for rule_id in range(count):
            roll = rng.random()
            entity = rng.choice(self.entities)
            town = self.township_of[entity]
            events = " | ".join(rng.sample(EVENTS, rng.randint(2, 5)))
            exclusion = " | ".join(rng.sample(EXCLUSIONS, rng.randint(1, 3)))
            region = self.region_group(rng, town)
            if roll < 0.80:
                expression = f"{region} & {entity} & ({events}) & !({exclusion})"
            elif roll < 0.88:
                expression = f"{region} & near({entity}, {rng.choice(EVENTS)}, {rng.randint(5, 30)}) & !({exclusion})"
            elif roll < 0.93:
                expression = f"{region} & title:{entity} & ({events})"
            elif roll < 0.965:
                expression = f'{region} & "{entity[:2]} {entity[2:]}" & ({events})'
            elif roll < 0.99:
                expression = f"w:{rng.choice(WORD_TERMS)} & {entity} & ({events})"
            elif roll < 0.995:
                expression = f"{region} & {entity} & /{rng.choice(REGEXES)}/"
            elif roll < 0.9955:
                expression = f"{region} & /{rng.choice(REGEXES)}/"  # a pattern alone: indexed by its literals
            elif roll < 0.9965:
                expression = f"{region} & ({events}) & !({exclusion})"  # county-wide topics: broad on purpose
            else:
                expression = f"{region} & {entity} & ({events})"
            rules.append((rule_id, expression))
        return rules

    def sentence(self, rng: random.Random, words: list[str], length: int) -> str:
        """About ``length`` characters of common words in clauses, each of ``words`` placed once somewhere."""
        parts: list[str] = []
        size = 0
        budget = rng.randint(2, 5)
        while size < length:
            word = rng.choice(COMMON)
            parts.append(word)
            size += len(word)
            budget -= 1
            if budget == 0:
                parts.append(rng.choice(PUNCTUATION))
                size += 1
                budget = rng.randint(2, 5)
        for word in words:
            parts.insert(rng.randrange(len(parts) + 1), word)
        return "".join(parts)

    def item(self, rng: random.Random) -> tuple[str, str]:
        """A title and a text; what they mention decides which rules they match."""
        roll = rng.random()
        entity = rng.choice(self.entities)
        town = self.township_of[entity]
        title_words: list[str] = []
        if roll < 0.10:  # an incident at a named place: what the rules are for
            words = [entity, rng.choice((COUNTY, town)), rng.choice(EVENTS), rng.choice(EVENTS)]
            if rng.random() < 0.5:
                words.append(rng.choice(self.villages_of[town]))
            if rng.random() < 0.2:
                words.append(f"{rng.randint(2, 9)}人受伤")
            if rng.random() < 0.3:
                words.append(entity)
            title_words = rng.sample(words[:3], 2)
        elif roll < 0.35:  # local news naming places and things, no incident
            words = [rng.choice((COUNTY, town)), entity, rng.choice(EXCLUSIONS)]
            title_words = [words[0]]
        elif roll < 0.50:  # complaints without a place
            words = [rng.choice(EVENTS), rng.choice(WORD_TERMS) + rng.choice(("局", "部门", "窗口"))]
        else:
            words = []
        title = self.sentence(rng, title_words, rng.randint(10, 30)).rstrip("，。、；！？")
        text = self.sentence(rng, words, rng.randint(50, 300))
        return self.texture(rng, title, text) if self.textured else (title, text)

    def texture(self, rng: random.Random, title: str, text: str) -> tuple[str, str]:
        """What real items look like after collection: paragraphs, stray spaces, Latin words, full-width
        digits, ellipses, and now and then an item in traditional characters."""
        if rng.random() < 0.4:  # full text in paragraphs, as collect's html_to_text leaves them
            text = re.sub("。", lambda m: "。\n" if rng.random() < 0.5 else "。", text)
        if rng.random() < 0.10:
            text = _insert(rng, text, " ")
        if rng.random() < 0.10:
            text = _insert(rng, text, rng.choice((" APP ", "WiFi", " 5G ", "CEO", "PM2.5")))
        if rng.random() < 0.10:
            text = _insert(rng, text, f"２０２{rng.randint(0, 6)}年{rng.randint(1, 12)}月")
        if rng.random() < 0.05:
            text = _insert(rng, text, "……")
        if TO_TRADITIONAL is not None and rng.random() < 0.01:  # reposts from Hong Kong or Taiwan media
            title, text = TO_TRADITIONAL(title), TO_TRADITIONAL(text)
        return title, text


def _insert(rng: random.Random, text: str, piece: str) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + piece + text[at:]


try:  # the traditional extra, as make bench installs it
    import opencc

    TO_TRADITIONAL = opencc.OpenCC("s2t").convert
except ImportError:  # pragma: no cover
    TO_TRADITIONAL = None


def fresh(document: MatchText) -> MatchText:
    """A copy of ``document`` with new string objects of the same value."""
    return MatchText(title=(document.title + " ")[:-1], text=(document.text + " ")[:-1], source=document.source)


def resident_mb() -> float:
    """The current resident size of this process in MB (Linux ``/proc``; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0.0
    return pages * resource.getpagesize() / 1e6


def peak_rss_mb() -> float:
    """The peak resident size of this process so far, in MB (``ru_maxrss`` is in KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pass_totals(times: list[list[float]]) -> list[float]:
    """Seconds of each pass, summed over the chunks (``times[chunk][pass]``)."""
    return [sum(per_pass) for per_pass in zip(*times, strict=True)]


def build_sample(
    expressions: list[tuple[int, str]], library: Library
) -> tuple[RuleSet, ahocorasick_rs.AhoCorasick, dict[str, float]]:
    """One build of the rule set, then of the bare automaton of its terms: both, and their seconds (wall and CPU)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    rules = RuleSet(expressions, user_words=[*TOWNSHIPS, *library.entities])
    build_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    terms = sorted(rules.terms)
    started, cpu_started = time.perf_counter(), time.process_time()
    automaton = ahocorasick_rs.AhoCorasick(terms)
    anchor_s, anchor_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    return rules, automaton, {"build_s": build_s, "cpu_s": cpu_s, "anchor_s": anchor_s, "anchor_cpu_s": anchor_cpu_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--rules", type=int, default=RULES)
    parser.add_argument("--passes", type=int, default=PASSES)
    parser.add_argument(
        "--profile", action="store_true", help="profile one warm pass of the engine; print the top functions to stderr"
    )
    parser.add_argument(
        "--plain-text",
        action="store_true",
        help="items as single paragraphs of simplified Chinese (no line breaks, spaces, ellipses, traditional reposts)",
    )
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)  # one fresh-process build sample
    args = parser.parse_args()

    rng = random.Random(SEED)
    library = Library(rng, textured=not args.plain_text)
    expressions = library.rules(rng, args.rules)
    if args.build_only:
        print(json.dumps(build_sample(expressions, library)[2]))
        return 0
    pairs = [library.item(rng) for _ in range(args.items)]
    documents = [MatchText(title=title, text=text) for title, text in pairs]
    texts_bytes = sum(len(title.encode()) + len(text.encode()) for title, text in pairs)
    log(f"{len(expressions)} rules, {len(documents)} items, {texts_bytes / 1e6:.1f} MB of text")

    earlier = [MatchText(title=title, text=text) for title, text in (library.item(rng) for _ in range(SAMPLE))]

    gc.collect()
    resident_before = resident_mb()
    rules, automaton, sample = build_sample(expressions, library)
    gc.collect()
    index_mb = round(resident_mb() - resident_before, 1)  # the automaton's share is a few kB
    # A deployment can measure how common each term is on recent items (here:
    # items generated before the measured ones) and build with that.
    frequencies = rules.term_frequencies(earlier)
    tuned_rules = RuleSet(expressions, user_words=[*TOWNSHIPS, *library.entities], term_frequencies=frequencies)
    terms = sorted(rules.terms)
    log(f"built in {sample['build_s']:.2f} s ({len(terms)} terms); bare automaton {sample['anchor_s']:.3f} s")
    # More fresh processes, each building once: a build is measured cold, as
    # `yuqing risk validate` meets it, and one sample is at the mercy of the machine.
    samples = [sample]
    for _ in range(BUILD_SAMPLES - 1):
        command = [sys.executable, __file__, "--build-only", "--rules", str(args.rules)]
        samples.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
    log("builds in fresh processes: " + ", ".join(f"{sample['build_s']:.2f} s" for sample in samples))

    find = automaton.find_matches_as_indexes
    chunks = [documents[i : i + CHUNK] for i in range(0, len(documents), CHUNK)]

    def engine(rule_set: RuleSet) -> Callable[[list[MatchText]], Callable[[], int]]:
        match_many = rule_set.match_many

        def side(chunk: list[MatchText]) -> Callable[[], int]:
            def run() -> int:
                hits = 0
                for _index, matches in match_many(chunk):
                    for match in matches:
                        hits += len(match.hits)
                return hits

            return run

        return side

    ours = engine(rules)
    ours_tuned = engine(tuned_rules)

    def anchor(chunk: list[MatchText]) -> Callable[[], int]:
        def run() -> int:
            hits = 0
            for document in chunk:
                hits += len(find(document.title, overlapping=True))
                hits += len(find(document.text, overlapping=True))
            return hits

        return run

    # The floor under "ours": the least any engine on this automaton does per item beyond the anchor's
    # scan -- the two fields joined and their whitespace tidied as normalization requires (化工厂\n泄漏
    # holds 化工厂泄漏), one scan, and one set test of which terms occurred -- with no rule evaluated
    # and nothing explained. Its ratio is the ceiling of ours; what lies between is the rules' work.
    term_ids = frozenset(range(len(terms)))
    first = operator.itemgetter(0)

    def floor(chunk: list[MatchText]) -> Callable[[], int]:
        def run() -> int:
            found = 0
            for document in chunk:
                joined = tidy_fields((document.title or "") + FIELD_SEPARATOR + (document.text or ""))
                found += len(term_ids.intersection(map(first, find(joined, overlapping=True))))
            return found

        return run

    if args.profile:
        for chunk in chunks:  # warm: jieba's dictionary and each rule's first compilation stay out of the profile
            ours(chunk)()
        profiler = cProfile.Profile()
        profiler.enable()
        for chunk in chunks:
            ours(chunk)()
        profiler.disable()
        profile = io.StringIO()
        pstats.Stats(profiler, stream=profile).sort_stats("tottime").print_stats(25)
        log(profile.getvalue())

    ours_times: list[list[float]] = [[] for _ in chunks]
    tuned_times: list[list[float]] = [[] for _ in chunks]
    anchor_times: list[list[float]] = [[] for _ in chunks]
    floor_times: list[list[float]] = [[] for _ in chunks]
    for pass_index in range(args.passes):
        # Fresh string objects each pass (see the module docstring).
        chunks = [[fresh(document) for document in chunk] for chunk in chunks]
        gc.collect()
        for chunk_index, chunk in enumerate(chunks):
            sides = [
                (ours_times, ours(chunk)),
                (anchor_times, anchor(chunk)),
                (tuned_times, ours_tuned(chunk)),
                (floor_times, floor(chunk)),
            ]
            shift = (chunk_index + pass_index) % len(sides)  # each side goes first as often as the others
            for times, run in sides[shift:] + sides[:shift]:
                started = time.perf_counter()
                run()
                times[chunk_index].append(time.perf_counter() - started)
        log(
            f"pass {pass_index + 1}: ours {sum(t[-1] for t in ours_times):.2f} s, "
            f"with term statistics {sum(t[-1] for t in tuned_times):.2f} s, anchor {sum(t[-1] for t in anchor_times):.2f} s, "
            f"floor {sum(t[-1] for t in floor_times):.2f} s"
        )

    matched = 0
    per_rule: Counter[int] = Counter()
    hits = 0
    for _index, matches in rules.match_many(documents):
        matched += 1
        for match in matches:
            per_rule[match.key] += 1
            hits += len(match.hits)
    log(
        f"{matched / len(documents):.1%} of items match at least one rule; "
        f"{sum(per_rule.values()) / max(matched, 1):.1f} rules and {hits / max(matched, 1):.1f} hits per matching item; "
        f"{len(per_rule)} rules ever match"
    )

    anchor_s = statistics.median(pass_totals(anchor_times))
    anchor_rates = [len(documents) / seconds for seconds in pass_totals(anchor_times)]
    for metric, times, note in (
        ("items_per_s", ours_times, "RuleSet(rules) as is"),
        ("items_per_s_with_statistics", tuned_times, f"term statistics from {SAMPLE} earlier items"),
        ("floor_items_per_s", floor_times, "tidy, one scan, one set test per item: no rule evaluated (ours' ceiling)"),
    ):
        emit(
            figure_from_rounds(
                "match",
                metric,
                [len(documents) / seconds for seconds in pass_totals(times)],
                "raw ahocorasick-rs scan",
                anchor_rates,
                anchor_mb_per_s=round(texts_bytes / 1e6 / anchor_s, 1),
                rules=len(rules),
                items=len(documents),
                match_rate=round(matched / len(documents), 3),
                setup=note,
                peak_rss_mb=peak_rss_mb(),
            )
        )
    builds = [sample["build_s"] for sample in samples]
    anchors = [sample["anchor_s"] for sample in samples]
    build_median, anchor_median = statistics.median(builds), statistics.median(anchors)
    emit(
        {
            "bench": "match",
            "metric": "build_s",
            "value": round(build_median, 3),
            "value_min": round(min(builds), 3),
            "value_max": round(max(builds), 3),
            "anchor": "ahocorasick-rs automaton build",
            "anchor_value": round(anchor_median, 4),
            "anchor_min": round(min(anchors), 4),
            "anchor_max": round(max(anchors), 4),
            "ratio": round(anchor_median / build_median, 3),
            # The bound: 1 s, or 20 times the bare automaton's build if that is more.
            "target_s": round(max(1.0, 20 * anchor_median), 3),
            "samples": len(samples),
            "rules": len(rules),
            "terms": len(terms),
            "cpu_s": round(statistics.median(sample["cpu_s"] for sample in samples), 3),
            "anchor_cpu_s": round(statistics.median(sample["anchor_cpu_s"] for sample in samples), 4),
            "index_mb": index_mb,
            "index_mb_at_1m_items": index_mb,
            "per_item_bytes": 0,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
