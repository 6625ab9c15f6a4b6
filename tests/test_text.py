from yuqing_core.text import clean_whitespace, excerpt, fingerprint, html_to_text, normalize_text, plain_title, truncate


def test_html_to_text_drops_scripts_styles_and_tags() -> None:
    html = "<style>p{}</style><p>县政府&amp;乡镇</p><script>alert(1)</script><div>第二段<br/>第三行</div>"
    assert html_to_text(html) == "县政府&乡镇\n第二段\n第三行"


def test_html_to_text_survives_broken_markup() -> None:
    assert html_to_text("<p>未闭合 <b>粗体 <i>斜体") == "未闭合 粗体 斜体"
    assert html_to_text("<<<>>>&&&") is not None
    assert html_to_text("a < b & c > d") == "a < b & c > d"


def test_unclosed_script_hides_the_rest_rather_than_leaking_it() -> None:
    assert "alert" not in html_to_text("前文<script>alert(1)")


def test_titles_are_one_line_of_plain_text() -> None:
    assert plain_title("AT&amp;T <b>x</b> <script>alert(1)</script>hi") == "AT&T x hi"
    assert plain_title("第一行\n  第二行") == "第一行 第二行"
    assert plain_title("a < b") == "a < b"


def test_whitespace_and_control_characters() -> None:
    assert clean_whitespace("  a\u3000\u3000b \r\n\r\n\n c\x00\x07 ") == "a b\nc"


def test_truncate_and_excerpt() -> None:
    assert truncate("一二三四五", 3) == "一二…"
    assert truncate("一二三", 3) == "一二三"
    assert excerpt("第一段\n第二段", 100) == "第一段 第二段"


def test_normalize_text_folds_width_case_and_spaces() -> None:
    assert normalize_text("ＡＢＣ　ｄｅｆ\t濮阳县（通报）") == "abc def 濮阳县(通报)"


def test_fingerprint_equal_for_cosmetic_differences_only() -> None:
    assert fingerprint("标题", "正文 内容") == fingerprint("标题 ", "正文\n内容")
    assert fingerprint("ＡＢＣ", "x") == fingerprint("abc", "x")
    assert fingerprint("标题", "正文") != fingerprint("标题", "正文二")
    assert fingerprint("a", "bc") != fingerprint("ab", "c")
