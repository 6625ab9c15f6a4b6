"""Raw entries to item records: plain titles, safe links, honest dates, stable identity."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from yuqing_core.collect.normalize import entry_key, normalize_entries, safe_link
from yuqing_core.collect.parse import RawEntry, parse_feed

SHANGHAI = ZoneInfo("Asia/Shanghai")
FETCHED = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def normalize(entries, **kwargs):
    return normalize_entries(entries, base_url="http://example.org/feed.xml", source_tz=SHANGHAI, fetched_at=FETCHED, **kwargs)


def test_feedparser_quirks_are_undone() -> None:
    body = """<rss version="2.0"><channel><title>t</title><item>
<title>AT&amp;T &lt;script&gt;alert(1)&lt;/script&gt;通报</title><link>javascript:alert(1)</link>
<guid>g1</guid><description>&lt;p&gt;正文&lt;script&gt;steal()&lt;/script&gt;&lt;/p&gt;</description>
<pubDate>2026/10/03 12:53:46</pubDate></item></channel></rss>""".encode()
    (record,) = normalize(parse_feed(body).entries)
    assert record.title == "AT&T 通报"
    assert record.url is None
    assert record.text == "正文" and "steal" not in record.excerpt
    assert record.published_at == datetime(2026, 10, 3, 4, 53, 46, tzinfo=UTC)
    assert record.published_fallback is None and record.published_raw == "2026/10/03 12:53:46"


def test_links_resolve_relative_and_keep_only_http() -> None:
    assert safe_link("/a/1.html", "https://x.org/rss") == "https://x.org/a/1.html"
    assert safe_link(" http://x.org/a\n/b ", None) == "http://x.org/a/b"
    for bad in ("javascript:alert(1)", "data:text/html,hi", "ftp://x.org/f", "mailto:a@b", "http://", "//"):
        assert safe_link(bad, None) is None, bad


def test_missing_future_and_unreadable_dates_fall_back_to_fetch_time() -> None:
    entries = [
        RawEntry(guid="a", title="无日期"),
        RawEntry(guid="b", title="未来", date_raw=(FETCHED + timedelta(days=2)).isoformat()),
        RawEntry(guid="c", title="乱码", date_raw="某天下午"),
        RawEntry(guid="d", title="略超前", date_raw=(FETCHED + timedelta(minutes=5)).isoformat()),
        RawEntry(guid="e", title="远古", date_raw="0001-01-01T00:00:00Z"),
    ]
    records = {r.guid: r for r in normalize(entries)}
    assert (records["a"].published_at, records["a"].published_fallback) == (FETCHED, "missing")
    assert (records["b"].published_at, records["b"].published_fallback) == (FETCHED, "future")
    assert (records["c"].published_at, records["c"].published_fallback) == (FETCHED, "unparseable")
    assert records["d"].published_fallback is None  # within the clock-skew tolerance
    assert records["e"].published_fallback == "unparseable"


def test_identity_guid_then_link_then_hash() -> None:
    records = normalize(
        [
            RawEntry(guid="g1", link="/1", title="甲"),
            RawEntry(link="/2", title="乙"),
            RawEntry(title="丙", body="正文"),
        ]
    )
    keys = [r.entry_key for r in records]
    assert keys[0] == "id:g1"
    assert keys[1] == "url:http://example.org/2"
    assert keys[2].startswith("hash:")


def test_repeated_guid_is_made_unique_with_the_link() -> None:
    records = normalize(
        [
            RawEntry(guid="http://site/", link="/1", title="甲"),
            RawEntry(guid="http://site/", link="/2", title="乙"),
            RawEntry(guid="solo", link="/3", title="丙"),
        ]
    )
    assert [r.entry_key for r in records] == [
        "id:http://site/|http://example.org/1",
        "id:http://site/|http://example.org/2",
        "id:solo",
    ]


def test_true_duplicates_within_a_document_collapse() -> None:
    records = normalize([RawEntry(guid="g", link="/1", title="新"), RawEntry(guid="g", link="/1", title="旧")])
    assert [r.title for r in records] == ["新"]


def test_empty_entries_are_dropped_and_fields_capped() -> None:
    records = normalize([RawEntry(), RawEntry(title="t" * 5000, body="字" * 50_000)], max_text_chars=1000)
    (record,) = records
    assert len(record.title) == 500 and len(record.text) == 1000 and record.text.endswith("…")
    assert len(record.excerpt) <= 200


def test_social_posts_without_title_are_kept() -> None:
    (record,) = normalize([RawEntry(guid="w1", body="转发微博//@某某: 柳湾镇这条路什么时候修？")])
    assert record.title == "" and record.text.startswith("转发微博")


def test_long_keys_are_hashed() -> None:
    key = entry_key("x" * 2000, None, "", "")
    assert key.startswith("id-sha1:") and len(key) < 100


def test_fingerprint_matches_across_sources_for_the_same_text() -> None:
    a = normalize([RawEntry(guid="1", title="【青禾】 通报", body="<p>内容</p>")])[0]
    b = normalize_entries(
        [RawEntry(guid="other", title="【青禾】通报", body="内容", body_is_html=False)],
        base_url=None, source_tz=SHANGHAI, fetched_at=FETCHED,
    )[0]  # fmt: skip
    assert a.fingerprint != b.fingerprint  # a space differs inside the title: not an exact duplicate
    c = normalize([RawEntry(guid="2", title="【青禾】 通报", body="内容")])[0]
    assert a.fingerprint == c.fingerprint
