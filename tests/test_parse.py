"""Feed documents to raw entries: encodings, hostile DTDs, JSON Feed, not-a-feed."""

import codecs
import json
import time

import pytest

from yuqing_core.collect.parse import FeedParseError, decode_document, parse_feed, strip_doctype

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0"><channel><title>青禾县人民政府</title>
<item><title>县政府召开常务会议</title><link>http://example.org/a/1.html</link><guid>gov-1</guid>
<description>&lt;p&gt;会议研究了&lt;b&gt;镕&lt;/b&gt;铁路建设&lt;/p&gt;</description><pubDate>2026/10/03 12:53:46</pubDate></item>
</channel></rss>"""


def rss(encoding: str = "utf-8") -> str:
    return RSS.format(encoding=encoding)


@pytest.mark.parametrize("declared", ["gb2312", "GBK", "gb18030", "x-gbk"])
def test_gb_family_decodes_as_gb18030(declared: str) -> None:
    # 镕 is outside GB2312: sites that declare gb2312 but write GBK/GB18030 still read correctly.
    body = rss(declared).encode("gb18030")
    feed = parse_feed(body)
    assert feed.entries[0].title == "县政府召开常务会议"
    assert "镕" in feed.entries[0].body


def test_valid_utf8_wins_over_a_wrong_declaration() -> None:
    feed = parse_feed(rss("gb2312").encode("utf-8"))
    assert feed.entries[0].title == "县政府召开常务会议"


def test_charset_from_http_header_when_the_document_does_not_say() -> None:
    body = rss("utf-8").replace(' encoding="utf-8"', "").encode("gb18030")
    feed = parse_feed(body, content_type="application/rss+xml; charset=GBK")
    assert feed.entries[0].title == "县政府召开常务会议"


def test_undeclared_non_utf8_guesses_gb18030() -> None:
    body = rss("utf-8").replace(' encoding="utf-8"', "").encode("gb18030")
    assert parse_feed(body).entries[0].title == "县政府召开常务会议"


@pytest.mark.parametrize(
    "codec, bom",
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
    ],
)
def test_boms_are_respected(codec: str, bom: bytes) -> None:
    body = bom + rss(codec.split("-le")[0].split("-be")[0]).encode(codec)
    assert parse_feed(body).entries[0].title == "县政府召开常务会议"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_bomless_utf16_and_utf32_are_recognised(codec: str) -> None:
    text, encoding = decode_document(rss(codec).encode(codec))
    assert encoding == codec and "县政府召开常务会议" in text


def test_billion_laughs_is_defused_fast() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 12)
    )
    body = f"""<?xml version="1.0"?><!DOCTYPE rss [{entities}]>
<rss version="2.0"><channel><title>&lol11;</title><item><title>&lol11;</title><description>x</description></item></channel></rss>"""
    started = time.thread_time()  # CPU time of the parse, which does not grow with the machine's load
    feed = parse_feed(body.encode())
    assert time.thread_time() - started < 10  # a few ms when defused; expanding 10^11 lols would never end
    assert len(feed.entries) == 1
    assert len(feed.entries[0].title) < 100


def test_strip_doctype_keeps_external_identifier_and_drops_subset() -> None:
    text = '<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://x/rss.dtd" [ <!ENTITY a "]>"> ]><rss/>'
    assert strip_doctype(text) == '<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://x/rss.dtd"><rss/>'
    assert strip_doctype('<rss><!ENTITY x "y"><a/></rss>') == "<rss><a/></rss>"


def test_json_feed() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "县长信箱",
            "items": [
                {
                    "id": 1,
                    "content_text": "柳湾镇 道路破损",
                    "date_published": "2026-10-03T12:00:00",
                    "authors": [{"name": "网友"}],
                },
                {"id": "2", "title": "标题", "content_html": "<p>正文</p>", "url": "http://example.org/2"},
                "not an object",
            ],
        },
        ensure_ascii=False,
    ).encode()
    feed = parse_feed(body)
    assert feed.format == "json1.1"
    assert [e.guid for e in feed.entries] == ["1", "2"]
    first, second = feed.entries
    assert (first.title, first.body, first.body_is_html, first.author) == ("", "柳湾镇 道路破损", False, "网友")
    assert first.date_raw == "2026-10-03T12:00:00"
    assert second.body_is_html and second.link == "http://example.org/2"
    assert feed.warning and "跳过" in feed.warning


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "内容为空"),
        (b"   \n ", "内容为空"),
        (b"<html><body><h1>Welcome</h1></body></html>", "不是可识别的订阅源"),
        (b'{"error": "not found"}', "不是 JSON Feed"),
        (b'{"items": [', "JSON 解析失败"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "不是可识别的订阅源"),
    ],
)
def test_not_a_feed_is_a_readable_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(body)


def test_truncated_feed_still_yields_entries_with_a_warning() -> None:
    body = rss().encode()[:-40]
    feed = parse_feed(body)
    assert feed.entries and feed.entries[0].title == "县政府召开常务会议"
    assert feed.warning and feed.warning.startswith("格式不规范")


def test_entries_are_capped() -> None:
    items = "".join(f"<item><title>{i}</title><guid>{i}</guid></item>" for i in range(50))
    feed = parse_feed(f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode(), max_entries=10)
    assert len(feed.entries) == 10 and feed.entries_total == 50


def test_guid_is_not_resolved_against_the_feed_url() -> None:
    # feedparser would turn guid "gov-1" into "http://host/path/gov-1" given a base URL.
    assert parse_feed(rss().encode()).entries[0].guid == "gov-1"


def test_atom_and_rss1() -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>论坛</title>
<entry><id>tag:x,2026:1</id><title type="html">&lt;b&gt;化工园区&lt;/b&gt;异味</title><link href="/t/1"/>
<updated>2026-10-03T12:00:00+08:00</updated><content type="html">&lt;p&gt;很臭&lt;/p&gt;</content></entry></feed>"""
    feed = parse_feed(atom.encode())
    assert feed.format == "atom10"
    assert feed.entries[0].link == "/t/1" and feed.entries[0].date_raw == "2026-10-03T12:00:00+08:00"
    rdf = """<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="http://x/"><title>镇</title><link>http://x/</link></channel>
<item rdf:about="http://x/1"><title>通知</title><link>http://x/1</link><dc:date>2026年10月03日 12:53</dc:date></item></rdf:RDF>"""
    feed = parse_feed(rdf.encode())
    assert feed.format == "rss10" and feed.entries[0].date_raw == "2026年10月03日 12:53"


def test_atom_threading_names_the_post_a_comment_answers() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from yuqing_core.collect.normalize import normalize_entries

    comments = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0"><title>评论</title>
<entry><id>tag:bbs,2026:c1</id><title>回复：化工园区异味</title><link href="/t/1#c1"/><updated>2026-10-03T12:05:00+08:00</updated>
<thr:in-reply-to ref="tag:bbs,2026:t1" href="/t/1" type="text/html"/><content>同问</content></entry>
<entry><id>tag:bbs,2026:c2</id><title>回复</title><updated>2026-10-03T12:06:00+08:00</updated>
<thr:in-reply-to ref="http://bbs.example.cn/t/2"/><content>+1</content></entry>
<entry><id>tag:bbs,2026:c3</id><title>回复</title><updated>2026-10-03T12:07:00+08:00</updated>
<thr:in-reply-to ref="tag:bbs,2026:t3"/><content>顶</content></entry>
<entry><id>tag:bbs,2026:t4</id><title>新帖</title><updated>2026-10-03T12:08:00+08:00</updated><content>今天天气好</content></entry>
</feed>"""
    entries = parse_feed(comments.encode()).entries
    assert [entry.in_reply_to for entry in entries] == ["/t/1", "http://bbs.example.cn/t/2", "tag:bbs,2026:t3", None]
    records = normalize_entries(
        entries, base_url="http://bbs.example.cn/feed.xml", source_tz=ZoneInfo("Asia/Shanghai"), fetched_at=datetime.now(UTC)
    )
    # Resolved against the feed like links; an id that is no web address (tag:) names nothing we can find.
    assert [record.in_reply_to for record in records] == ["http://bbs.example.cn/t/1", "http://bbs.example.cn/t/2", None, None]
