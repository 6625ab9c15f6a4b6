"""What makes two items "the same": canonical URLs, title keys, the text MinHash reads."""

from __future__ import annotations

import pytest

from yuqing_core.events import canonical_url, event_text, title_key

# --- canonical_url ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://News.Example.CN:80/a/1.html", "http://news.example.cn/a/1.html"),
        ("https://news.example.cn:443/a/1.html#comments", "https://news.example.cn/a/1.html"),
        ("https://news.example.cn:8443/a/1.html", "https://news.example.cn:8443/a/1.html"),
        ("https://news.example.cn", "https://news.example.cn/"),
        ("https://news.example.cn/", "https://news.example.cn/"),
        ("https://news.example.cn/a/1/", "https://news.example.cn/a/1"),
        ("https://news.example.cn./a", "https://news.example.cn/a"),
        ("https://user:secret@news.example.cn/a", "https://news.example.cn/a"),
        ("  https://news.example.cn/a\n/b  ", "https://news.example.cn/a/b"),
        # tracking parameters go, the rest are sorted
        ("https://x.cn/p?id=9&utm_source=wx&utm_medium=share&spm=a2.b&from=timeline", "https://x.cn/p?id=9"),
        ("https://x.cn/p?b=2&a=1&share_token=zz&sharer_shareid=1", "https://x.cn/p?a=1&b=2"),
        ("https://x.cn/p?UTM_Source=x&Page=2", "https://x.cn/p?Page=2"),
        ("https://x.cn/p?q=&a=1", "https://x.cn/p?a=1&q="),
        # WeChat: the article is __biz/mid/idx/sn; forwarding adds the rest
        (
            "https://mp.weixin.qq.com/s?__biz=MzA5&mid=2650&idx=1&sn=7c1e&chksm=8b3&scene=21&srcid=1128&key=abc&lang=zh_CN#wechat_redirect",
            "https://mp.weixin.qq.com/s?__biz=MzA5&idx=1&mid=2650&sn=7c1e",
        ),
        # Weibo share and navigation parameters
        (
            "https://m.weibo.cn/status/4979?luicode=10000011&lfid=231522&featurecode=newtitle&wm=3333_2001",
            "https://m.weibo.cn/status/4979",
        ),
        # generic names are only tracking on the hosts that use them so
        (
            "https://example.cn/search?key=化工园区&lang=zh",
            "https://example.cn/search?key=%E5%8C%96%E5%B7%A5%E5%9B%AD%E5%8C%BA&lang=zh",
        ),
        ("https://baijiahao.baidu.com/s?id=178&wfr=spider&for=pc", "https://baijiahao.baidu.com/s?id=178"),
        ("https://example.cn/loop?for=pc", "https://example.cn/loop?for=pc"),
        # escapes: unreserved decoded, others upper-cased, non-ASCII escaped
        ("https://x.cn/%7euser/%e6%96%87", "https://x.cn/~user/%E6%96%87"),
        ("https://x.cn/新闻/1", "https://x.cn/%E6%96%B0%E9%97%BB/1"),
        ("https://x.cn/a%2Fb", "https://x.cn/a%2Fb"),
        ("http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url", [None, "", "javascript:alert(1)", "mailto:a@b.cn", "ftp://x.cn/a", "/relative/path", "https://", "http://x.cn:99999/"]
)
def test_canonical_url_is_none_for_anything_but_absolute_http(url: str | None) -> None:
    assert canonical_url(url) is None


def test_canonical_url_equates_shares_of_one_article() -> None:
    shared = [
        "https://mp.weixin.qq.com/s?__biz=MzA5&mid=2650&idx=1&sn=7c1e&chksm=8b3&scene=21#wechat_redirect",
        "https://MP.weixin.qq.com/s?sn=7c1e&idx=1&mid=2650&__biz=MzA5&scene=1&srcid=0101&sharer_sharetime=1",
        "https://mp.weixin.qq.com:443/s/?__biz=MzA5&mid=2650&idx=1&sn=7c1e&from=timeline&isappinstalled=0",
    ]
    assert len({canonical_url(url) for url in shared}) == 1


def test_scheme_is_kept() -> None:
    assert canonical_url("http://x.cn/a") != canonical_url("https://x.cn/a")


# --- title_key --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # repost prefixes and chains (the sample county's forms)
        ("转发微博//@青溪钓客:青溪河石桥段大量死鱼", "青溪河石桥段大量死鱼"),
        ("转发微博", None),
        ("好消息//@东坪守望:东坪村刺鼻气味，疑似化工园区泄漏//@白沙过客:转发微博", "东坪村刺鼻气味疑似化工园区泄漏"),
        ("转：柳湾镇关于安置小区项目工人工资问题的情况说明", "柳湾镇关于安置小区项目工人工资问题的情况说明"),
        ("转发：城东片区临街商铺补偿有说法了", "城东片区临街商铺补偿有说法了"),
        ("转自青禾论坛：城东片区临街商铺补偿有说法了", "城东片区临街商铺补偿有说法了"),
        ("回复：青溪河死鱼，乡里已经来人打捞了", "青溪河死鱼乡里已经来人打捞了"),
        ("Re: 青禾古街改造方案征求意见", "青禾古街改造方案征求意见"),
        # leading tags
        ("【青禾】转：城东片区征收补偿政策答疑", "城东片区征收补偿政策答疑"),
        ("【江华新闻】【民生热线】青溪河出现死鱼 村民担心水质", "青溪河出现死鱼村民担心水质"),
        ("[图]青溪河石桥段死了好多鱼，白花花一片", "青溪河石桥段死了好多鱼白花花一片"),
        ("#青禾化工园区异味# 官方回应来了，已锁定来源企业", "官方回应来了已锁定来源企业"),
        # source suffixes
        ("东坪村一早全是刺鼻气味，化工园区是不是泄漏了？ - 青禾论坛", "东坪村一早全是刺鼻气味化工园区是不是泄漏了"),
        ("青禾县青溪河局部死鱼系养殖清塘排水所致_江华日报", "青禾县青溪河局部死鱼系养殖清塘排水所致"),
        ("江华青禾通报化工园区异味原因｜云江新闻网", "江华青禾通报化工园区异味原因"),
        ("青禾县回应化工园区异味_江华日报_云江新闻网", "青禾县回应化工园区异味"),
        # truncation, full width, case, punctuation
        ("柳湾安置小区工地三十多个工人讨薪，马上过冬了……", "柳湾安置小区工地三十多个工人讨薪马上过冬了"),
        ("柳湾安置小区工地三十多个工人讨薪...", "柳湾安置小区工地三十多个工人讨薪"),
        ("凤鸣水库大坝开裂要溃坝？？", "凤鸣水库大坝开裂要溃坝"),
        ("ＣＣＴＶ关注青禾县梅岭茶文化旅游节", "cctv关注青禾县梅岭茶文化旅游节"),
        # what is not a source suffix
        ("COVID-19防控工作会议在青禾县召开", "covid19防控工作会议在青禾县召开"),
        ("茶香引客来——记江华市青禾县梅岭乡茶旅融合发展", "茶香引客来记江华市青禾县梅岭乡茶旅融合发展"),
        ("青禾县2026年第三季度经济运行情况分析会召开_2026", "青禾县2026年第三季度经济运行情况分析会召开2026"),
    ],
)
def test_title_key(title: str, expected: str | None) -> None:
    assert title_key(title) == expected


@pytest.mark.parametrize(
    "title",
    [
        "",
        "通知",
        "公告",
        "关于2026年的通知",
        "情况说明",
        "转发微博",
        "分享图片",
        "【视频】",
        "Re: 回复：",
        "求扩散！！",
        "今日快讯：最新通报",
        "12345",
    ],
)
def test_title_key_is_none_for_titles_that_name_no_happening(title: str) -> None:
    assert title_key(title) is None


def test_repost_forms_of_one_title_share_a_key() -> None:
    original = "东坪村一早全是刺鼻气味，化工园区是不是泄漏了？"
    reposts = [
        "转发微博//@东坪守望:东坪村一早全是刺鼻气味，化工园区是不是泄漏了？",
        "【关注】东坪村一早全是刺鼻气味，化工园区是不是泄漏了",
        "转：东坪村一早全是刺鼻气味，化工园区是不是泄漏了？ - 青禾论坛",
        "东坪村一早全是刺鼻气味，化工园区是不是泄漏了……_青禾吧",
        "东坪村一早全是刺鼻气味,化工园区是不是泄漏了?",
    ]
    assert {title_key(title) for title in reposts} == {title_key(original)}


# --- event_text -------------------------------------------------------------------


def test_event_text_drops_wrapping_and_keeps_the_story() -> None:
    text = event_text(
        "转发微博//@青溪钓客:青溪河石桥段大量死鱼 - 青禾吧",
        "转发微博//@青溪钓客:下午路过石桥乡石桥村那段青溪河，河面上漂着一大片死鱼……//@石桥土著:乡里已经来人打捞了。"
        " http://t.cn/A6xYz @青禾生活圈 展开全文",
    )
    assert text == "青溪河石桥段大量死鱼下午路过石桥乡石桥村那段青溪河河面上漂着一大片死鱼乡里已经来人打捞了"


def test_event_text_of_reposts_equals_the_original_up_to_truncation() -> None:
    title, body = "城东片区征收补偿政策答疑", "评估价格由评估机构按市场价评估，对评估结果有异议，可在收到评估报告10日内申请复核。"
    original = event_text(title, body)
    assert event_text("【青禾】转：" + title, "【青禾】转：" + body) == original
    assert event_text(title + "_青禾县人民政府网", "转自青禾镇人民政府：" + body) == original
    assert original.startswith(event_text(title, body[:20] + "……"))


def test_event_text_removes_links_up_to_the_first_non_url_character() -> None:
    assert event_text("", "看这个http://t.cn/A6xYz，下午路过青溪河 www.example.cn/a?b=1。完") == "看这个下午路过青溪河完"


def test_event_text_removes_boilerplate_and_credits() -> None:
    text = event_text("", "原标题：青禾县召开防汛会议\n县里部署防汛工作。（来源：江华日报）责任编辑：王某 网页链接")
    assert text == "青禾县召开防汛会议县里部署防汛工作"


def test_event_text_of_empty_item_is_empty() -> None:
    assert event_text("", "") == ""
    assert event_text("转发微博", "转发微博//@某某:") == ""
