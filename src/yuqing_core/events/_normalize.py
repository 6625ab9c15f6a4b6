"""What makes two items "the same": canonical URLs, title keys and the text MinHash reads.

Reposts of one story differ in the wrapping, not the story: a repost chain
(``转发微博//@某某:``), a leading tag (``【关注】``), ``转：``, a trailing
source name (`` - 青禾论坛``, ``_江华日报``), a truncation (``……``), or a
link with share-tracking parameters. These functions take the wrapping off
so the grouper can compare the rest.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from yuqing_core.text import normalize_text

# --- canonical URLs -----------------------------------------------------------

# Query parameters that say how a link was shared, not what it points to.
# Names are compared case-insensitively.
TRACKING_PARAM_PREFIXES = ("utm_", "share_", "sharer_")
TRACKING_PARAMS = frozenset(
    {
        # analytics and ad click ids
        "spm", "from", "fbclid", "gclid", "yclid", "msclkid", "igshid", "mc_cid", "mc_eid",
        "_hsenc", "_hsmi", "ref_src", "vd_source", "tt_from", "shareid", "sharetoken",
        "share", "sharesource", "sharetype", "timestamp_share",
        # WeChat (mp.weixin.qq.com) article links: __biz, mid, idx and sn name the
        # article; these are added by the app when a link is forwarded
        "scene", "subscene", "srcid", "clicktime", "enterid", "chksm", "mpshare", "sessionid",
        "ascene", "devicetype", "nettype", "abtest_cookie", "pass_ticket", "wx_header",
        "exportkey", "isappinstalled", "key", "uin", "lang", "version", "poc_token", "realreporttime",
        # Weibo (weibo.com, weibo.cn, m.weibo.cn) share and navigation
        "luicode", "lfid", "featurecode", "wm", "jumpfrom", "sourcetype", "sudaref", "display", "retcode",
        # Baidu (baijiahao) crawler and platform hints
        "wfr", "for",
    }
)  # fmt: skip
# Parameters above that are too generic to drop on every site: only dropped
# on the hosts that use them for tracking.
_HOST_SCOPED_PARAMS = {
    "key": ("weixin.qq.com",),
    "uin": ("weixin.qq.com",),
    "lang": ("weixin.qq.com",),
    "version": ("weixin.qq.com",),
    "display": ("weibo.com", "weibo.cn"),
    "retcode": ("weibo.com", "weibo.cn"),
    "for": ("baidu.com",),
    "wm": ("weibo.com", "weibo.cn"),
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are in a path: RFC 3986 unreserved and sub-delims,
# "/", ":", "@", and "%" (existing escapes are normalised separately).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _is_tracking(name: str, host: str) -> bool:
    lowered = name.lower()
    if lowered.startswith(TRACKING_PARAM_PREFIXES):
        return True
    if lowered not in TRACKING_PARAMS:
        return False
    scope = _HOST_SCOPED_PARAMS.get(lowered)
    return scope is None or any(host == domain or host.endswith("." + domain) for domain in scope)


def _normalize_escapes(path: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape non-ASCII."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return quote(_PERCENT_ESCAPE.sub(fix, path), safe=_PATH_SAFE)


def canonical_url(url: str | None) -> str | None:
    """The form of a link used to recognise the same page shared twice; None unless http(s).

    - scheme and host lower-cased, a trailing dot on the host and the
      default port (80 for http, 443 for https) dropped, user info dropped;
    - the fragment dropped;
    - tracking parameters dropped (``utm_*``, ``share_*``, ``sharer_*`` and
      the names in ``TRACKING_PARAMS``: ``spm``, ``from``, click ids, WeChat
      forwarding parameters such as ``scene``/``chksm``/``srcid``, Weibo
      ``luicode``/``lfid``/``featurecode``; a few generic names such as
      ``key`` or ``for`` only on the WeChat, Weibo or Baidu hosts that use
      them for tracking), the remaining parameters sorted;
    - percent-escapes normalised (unreserved characters decoded, others
      upper-case, non-ASCII characters escaped as UTF-8), an empty path
      made ``/`` and a trailing slash dropped from any other path.

    The scheme is kept: ``http`` and ``https`` links stay distinct.

    >>> canonical_url("HTTPS://Mp.Weixin.QQ.com:443/s?__biz=MzA&mid=22&idx=1&sn=ab&chksm=9f&scene=21#wechat_redirect")
    'https://mp.weixin.qq.com/s?__biz=MzA&idx=1&mid=22&sn=ab'
    >>> canonical_url("http://bbs.example.cn/thread/42/?utm_source=wx&page=2&from=timeline")
    'http://bbs.example.cn/thread/42?page=2'
    >>> canonical_url("javascript:alert(1)") is None
    True
    """
    if not url:
        return None
    try:
        parts = urlsplit("".join(url.split()))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = host if ":" not in host else f"[{host}]"  # IPv6 literals keep their brackets
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _normalize_escapes(parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    params = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(name, host)]
    query = urlencode(sorted(params))
    return urlunsplit((scheme, netloc, path, query, ""))


# --- titles -------------------------------------------------------------------

# Everything below runs on normalize_text() output: NFKC has already turned
# full-width "：" into ":", "［" into "[", "｜" into "|" and "…" into "...".
_REPOST_CHAIN = re.compile(r"//\s*@[^:\s]{1,30}\s*:")
_LEADING_NOISE = re.compile(
    r"""^(?:
        \s+
      | 【[^】]{0,20}】 | \[[^\]]{0,20}\] | 〖[^〗]{0,20}〗 | \#[^#]{1,30}\#      # leading tags, hashtags
      | 转发微博 | 轉發微博
      | (?:转发|转载|转帖|转自|转|分享|回复|回覆|re|fw|fwd)\s*:             # 转: 回复: re: fwd:
      | (?:转自|转载自)[^:\s]{1,20}:                                        # 转自某某:
    )""",
    re.VERBOSE,
)
# A trailing separator and a short name: " - 青禾论坛", "_江华日报", "|云江新闻网".
# Dashes count only with spaces around them, so "COVID-19" keeps its digits.
_SOURCE_SUFFIX = re.compile(r"(?:\s+[-–—]+\s*|\s*[_|]\s*)((?:[^\W_]|[.·]){2,12})$")
_TRAILING_ELLIPSIS = re.compile(r"(?:\s*(?:\.{2,}|。{2,}|⋯+|…+))+$")
_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")

TITLE_KEY_MIN_CHARS = 6
TITLE_KEY_MIN_INFORMATIVE_CHARS = 4
# Words that say what kind of post something is, not what happened. A title
# made only of these (plus digits and at most three other characters) names
# no happening: "关于xx的通知", "情况说明", "转发微博", "视频".
GENERIC_TITLE_WORDS = frozenset(
    {
        "通知", "公告", "通告", "公示", "通报", "情况通报", "情况说明", "说明", "声明", "启事", "简报",
        "转发微博", "转发", "转载", "分享", "分享图片", "分享视频", "图片", "视频", "无标题", "网页链接",
        "原文", "快讯", "突发", "最新", "关注", "回复", "辟谣", "紧急", "重要", "提醒", "温馨提示",
        "关于", "有关", "的", "问题", "情况", "事项", "工作", "进展", "动态", "消息", "新闻", "资讯",
        "求助", "求扩散", "扩散", "请问", "咨询", "投诉", "建议", "反映", "留言", "回应", "答复",
        "今日", "今天", "昨天", "昨日", "本周", "刚刚", "置顶", "公开信", "一封信",
    }
)  # fmt: skip
# Longest first, so "情况通报" is taken out whole rather than as "情况" + "通报".
_GENERIC = re.compile("|".join(map(re.escape, sorted(GENERIC_TITLE_WORDS, key=len, reverse=True))))
_TRIVIAL_SEGMENTS = frozenset({"", "转发微博", "轉發微博", "转发", "repost", "转"})


def _strip_leading(text: str) -> str:
    while True:
        stripped = _LEADING_NOISE.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


def _root_of_chain(text: str) -> str:
    """The part of a repost chain closest to the original post.

    Weibo writes ``my comment//@B:B's comment//@C:C's comment``: the newest
    comment first, so the last non-trivial segment is the one every repost
    of the same root shares.
    """
    if "//" not in text:
        return text
    segments = [_strip_leading(segment).strip() for segment in _REPOST_CHAIN.split(text)]
    meaningful = [s for s in segments if _NON_WORD.sub("", s) not in _TRIVIAL_SEGMENTS]
    return meaningful[-1] if meaningful else ""


def clean_title(title: str) -> str:
    """A title without repost wrapping, tags, source suffix and truncation (still with punctuation).

    >>> clean_title("【青禾】转：城东片区征收补偿政策答疑……")
    '城东片区征收补偿政策答疑'
    >>> clean_title("青禾县青溪河局部死鱼系养殖清塘排水所致_江华日报")
    '青禾县青溪河局部死鱼系养殖清塘排水所致'
    """
    text = _strip_leading(normalize_text(title))
    text = _root_of_chain(text)
    for _ in range(3):  # e.g. "标题... - 栏目_网站": ellipsis and suffixes in any order
        before = text
        text = _TRAILING_ELLIPSIS.sub("", text)
        suffix = _SOURCE_SUFFIX.search(text)
        if suffix and not suffix.group(1).isdigit() and suffix.start() > 0:
            text = text[: suffix.start()]
        text = _strip_leading(text).strip()
        if text == before:
            break
    return text


def title_key(title: str) -> str | None:
    """The normalised title used to join items with "the same title"; None if it names no happening.

    The title is cleaned (``clean_title``: repost prefixes and chains,
    leading ``【…】``/``[…]``/``#…#`` tags, ``转:``/``回复:``/``Re:``, a
    trailing separator plus short source name, trailing ellipses), then
    reduced to its letters and digits (NFKC, case-folded: punctuation and
    spaces removed). The rule for None: fewer than ``TITLE_KEY_MIN_CHARS``
    (6) characters remain, or fewer than ``TITLE_KEY_MIN_INFORMATIVE_CHARS``
    (4) remain once the words of ``GENERIC_TITLE_WORDS`` (通知, 公告,
    情况说明, 转发微博, 视频 …) and digits are taken out.

    >>> title_key("转发微博//@青溪钓客:青溪河石桥段大量死鱼")
    '青溪河石桥段大量死鱼'
    >>> title_key("东坪村一早全是刺鼻气味，化工园区是不是泄漏了？ - 青禾论坛")
    '东坪村一早全是刺鼻气味化工园区是不是泄漏了'
    >>> title_key("关于2026年的通知") is None, title_key("转发微博") is None
    (True, True)
    """
    return title_key_of_clean(clean_title(title))


def title_key_of_clean(cleaned_title: str) -> str | None:
    """``title_key`` of a title already passed through ``clean_title``."""
    key = _NON_WORD.sub("", cleaned_title)
    if len(key) < TITLE_KEY_MIN_CHARS:
        return None
    if len(_DIGITS.sub("", _GENERIC.sub("", key))) < TITLE_KEY_MIN_INFORMATIVE_CHARS:
        return None
    return key


# --- the text MinHash reads -----------------------------------------------------

# A link runs to the first character that cannot be in a raw URL (NFKC has
# already made full-width punctuation ASCII, so stop at anything non-ASCII).
_LINKS = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)
_MENTION = re.compile(r"@[^\s@:,，。!！?？/()（）\[\]【】]{1,30}")
_BOILERPLATE = re.compile(
    r"""
      展开全文 | 收起全文 | 网页链接 | 查看图片 | 查看原图 | 显示地图 | 点击(?:查看|关注)\S{0,6}
    | 原标题\s*:
    | (?:责任编辑|编辑|责编|来源|审核|校对|作者|本文来源|文章来源)\s*:\s*[^\s,，。;；]{1,15}
    """,
    re.VERBOSE,
)
_BOILERPLATE_WORDS = re.compile(r"全文|网页链接|查看|显示地图|点击")
_BODY_REPOST_MARKS = re.compile(r"//\s*@[^:\s]{1,30}\s*:|转发微博|轉發微博")


def clean_body(text: str) -> str:
    """A body without repost chain markers, mentions, links, boilerplate and leading tags.

    Unlike titles, every segment of a repost chain is kept: each one is text
    the reposter chose to pass on.

    >>> clean_body("转发微博//@青溪钓客:下午路过青溪河，死鱼一片……//@石桥土著:乡里已经来人打捞了。 http://t.cn/A6x")
    '下午路过青溪河,死鱼一片...... 乡里已经来人打捞了。'
    """
    text = normalize_text(text)
    # Each pattern runs only where its cheapest trigger occurs: most bodies
    # have no link, no chain and no mention, and this runs for every item.
    if "http" in text or "www." in text:
        text = _LINKS.sub(" ", text)
    if "//" in text or "转发微博" in text or "轉發微博" in text:
        text = _BODY_REPOST_MARKS.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if ":" in text or _BOILERPLATE_WORDS.search(text):
        text = _BOILERPLATE.sub(" ", text)
    return " ".join(_strip_leading(text).split())


def event_text(title: str, text: str) -> str:
    """The text an item's MinHash signature is computed over.

    The cleaned title (``clean_title``) and the cleaned body
    (``clean_body``), reduced to letters and digits: punctuation, spaces and
    truncation marks carry no evidence of sameness, and dropping them makes
    "，" vs "," or a line break vs a space irrelevant.

    >>> event_text("【关注】凤鸣水库好好的 - 青禾吧", "转发微博//@石桥本地人:坝上好好的，啥裂缝都没有……")
    '凤鸣水库好好的坝上好好的啥裂缝都没有'
    """
    return event_text_of_clean(clean_title(title), text)


def event_text_of_clean(cleaned_title: str, text: str) -> str:
    """``event_text`` for a title already passed through ``clean_title``."""
    return _NON_WORD.sub("", cleaned_title + " " + clean_body(text))


def event_text_and_numbers_of_clean(cleaned_title: str, text: str) -> tuple[str, frozenset[str]]:
    """``event_text_of_clean`` and the numbers the same cleaned title and body name (``numbers_of``)."""
    cleaned = cleaned_title + " " + clean_body(text)
    return _NON_WORD.sub("", cleaned), numbers_of(cleaned)


def numbers_of(text: str) -> frozenset[str]:
    """The distinct numbers a text names: digit runs (a decimal part kept), without leading zeros.

    Counts, dates and times are what tell one day's templated report from
    the next ("11月23日全县新增病例5例" vs "11月24日…2例"); links and
    mentions should be cleaned off first (``clean_body``), their digits are
    no statement.

    >>> sorted(numbers_of("11月24日8时至20时，全县新增病例2例，达标率97.5%，编号007"))
    ['11', '2', '20', '24', '7', '8', '97.5']
    """
    found = _NUMBER.findall(text)
    if not found:
        return _NO_NUMBERS
    return frozenset((number.lstrip("0") or "0") if "." not in number else number for number in found)


_NO_NUMBERS: frozenset[str] = frozenset()
