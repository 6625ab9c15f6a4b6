"""``json`` sources: a JSON API that lists messages or articles (留言板, 书记县长信箱, 12345 publications).

The sources file maps the list and each entry's fields with JMESPath expressions; a message
board's official reply, where the list carries it, is mapped too::

    - name: 县长信箱
      url: http://www.example.gov.cn/api/letters?page=1
      kind: json
      role: public
      json:
        items: "data.list"                 # the list of entries ("@" for a top-level list)
        id: "letterId"
        title: "title"
        text: "content"
        time: "createTime"                 # "2026-11-27 08:30", epoch seconds or milliseconds
        link_template: "http://www.example.gov.cn/letter.html?id={id}"   # or link: "url"
        reply:
          text: "reply.content"
          time: "reply.replyTime"
          by: "reply.unitName"

A hot list (``hot_list: true``, ``collect.hotlist``) may also map each entry's ``rank`` and ``heat``.

A list of comments, replies or reposts (a platform's comment API) maps ``parent``: the post each
entry answers or forwards, as a URL or as an id that ``link_template`` turns into the post's
address (``"status.id"`` -> ``.../post.html?id=4711``). Grouping puts the entry in that post's
event; entries without a parent are posts of their own, so a list need not have any.

A reply is stored with its message, and its time counts as the official response of the
message's event (``risk.response``). An expression that finds nothing in any entry (the API
changed) is the source's error, naming the expression.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from yuqing_core.collect.parse import FeedParseError, ParsedFeed, RawEntry

MAX_EXPRESSION_CHARS = 500


class JsonExtractError(FeedParseError):
    """The JSON does not have what the mapping asks for; the message names the expression."""


def check_expression(expression: str) -> str:
    """``expression`` if it compiles as JMESPath; a ``ValueError`` saying what is wrong otherwise."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"表达式太长（最多 {MAX_EXPRESSION_CHARS} 个字符）")
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        raise ValueError(f"不是有效的 JMESPath 表达式 {expression!r}：{exc}") from None
    return expression


Expression = Annotated[str, AfterValidator(check_expression)]


class ReplyMapping(BaseModel):
    """Where an entry keeps the official reply: its text, time and the replying unit."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: Expression
    time: Expression | None = None
    by: Expression | None = None


class JsonListSpec(BaseModel):
    """What to read from a ``json`` source (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    items: Expression
    id: Expression | None = None
    title: Expression | None = None
    text: Expression | None = None
    link: Expression | None = None
    link_template: str | None = Field(None, max_length=1000)
    time: Expression | None = None
    reply: ReplyMapping | None = None
    parent: Expression | None = None
    rank: Expression | None = None  # hot lists only
    heat: Expression | None = None  # hot lists only

    @model_validator(mode="after")
    def _something_to_read(self) -> JsonListSpec:
        if not (self.title or self.text):
            raise ValueError("至少要映射 title 或 text 之一")
        if self.link_template and "{id}" not in self.link_template:
            raise ValueError("link_template 中应有 {id}（条目编号的位置）")
        if self.link_template and not self.id:
            raise ValueError("使用 link_template 时需要映射 id")
        return self

    def fields(self) -> dict[str, str]:
        """The entry fields that are mapped, by their name in the sources file (``reply.text`` for the reply's)."""
        mapped = {
            name: getattr(self, name)
            for name in ("id", "title", "text", "link", "time", "parent", "rank", "heat")
            if getattr(self, name)
        }
        if self.reply:
            mapped.update(
                {f"reply.{name}": getattr(self.reply, name) for name in ("text", "time", "by") if getattr(self.reply, name)}
            )
        return mapped


def _scalar_text(value: Any) -> str | None:
    """A JSON value as text: strings and numbers; nothing for null, lists, objects and empty strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise JsonExtractError(f"JSON 编码无法识别：{exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise JsonExtractError(f"JSON 解析失败：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from exc
    except RecursionError as exc:
        raise JsonExtractError("JSON 嵌套过深，拒绝解析") from exc


def extract_values(data: Any, spec: JsonListSpec) -> tuple[list[dict[str, str | None]], dict[str, int]]:
    """Every entry's mapped values (by field name) and how many entries each mapping found a value in."""
    found = jmespath.search(spec.items, data)
    if not isinstance(found, list):
        kind = "没有取到任何值" if found is None else f"取到的是 {type(found).__name__}，不是列表"
        raise JsonExtractError(f"表达式 json.items「{spec.items}」{kind}（接口可能已改版）")
    mapped = spec.fields()
    compiled = {name: jmespath.compile(expression) for name, expression in mapped.items()}
    rows: list[dict[str, str | None]] = []
    hits = dict.fromkeys(mapped, 0)
    for element in found:
        if not isinstance(element, dict):
            continue
        row = {name: _scalar_text(expression.search(element)) for name, expression in compiled.items()}
        for name, value in row.items():
            hits[name] += value is not None
        rows.append(row)
    return rows, hits


def describe_missing(spec: JsonListSpec, rows: int, hits: dict[str, int]) -> str | None:
    """The error of a list whose mappings find nothing in any entry, naming the mapping; else None.

    The reply's text and who replied are exempt (no message may be answered yet); its time is
    not, once some entry has a reply. ``parent`` is exempt too (a page of posts answers none).
    """
    if not rows:
        return None
    for name, count in hits.items():
        exempt = name in ("reply.text", "reply.by", "parent") or (name == "reply.time" and not hits.get("reply.text"))
        if not count and not exempt:
            return f"表达式 json.{name}「{spec.fields()[name]}」在 {rows} 个条目中都没有取到值（接口可能已改版）"
    return None


def parse_json_list(body: bytes, spec: JsonListSpec, *, max_entries: int = 500) -> ParsedFeed:
    """The entries of a JSON list, replies included; raise ``JsonExtractError`` naming what is missing."""
    rows, hits = extract_values(load_json(body), spec)
    missing = describe_missing(spec, len(rows), hits)
    if missing:
        raise JsonExtractError(missing)
    entries = [_entry(row, spec) for row in rows[:max_entries]]
    return ParsedFeed(format="json-list", entries=entries, entries_total=len(rows))


def _entry(row: dict[str, str | None], spec: JsonListSpec) -> RawEntry:
    link = row.get("link")
    if not link and spec.link_template and row.get("id"):
        link = spec.link_template.replace("{id}", quote(row["id"] or "", safe=""))
    parent = row.get("parent")
    if parent and spec.link_template and not parent.lower().startswith(("http://", "https://")):
        parent = spec.link_template.replace("{id}", quote(parent, safe=""))
    return RawEntry(
        guid=row.get("id"),
        link=link,
        title=row.get("title") or "",
        title_is_html=True,
        body=row.get("text") or "",
        body_is_html=True,
        date_raw=row.get("time"),
        reply_text=row.get("reply.text"),
        reply_date_raw=row.get("reply.time"),
        reply_by=row.get("reply.by"),
        in_reply_to=parent,
        rank_raw=row.get("rank"),
        heat_raw=row.get("heat"),
    )
