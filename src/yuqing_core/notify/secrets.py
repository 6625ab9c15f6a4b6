"""Secrets in notification targets: ``${NAME}`` placeholders, resolved at send time, masked everywhere else.

A unit's target is stored as written, with placeholders::

    mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn

and only the URL handed to the channel carries the value. A placeholder
``${SMTP_PASSWORD}`` is looked up, in order:

1. the environment variable ``YUQING_SECRET_SMTP_PASSWORD``;
2. the environment variable ``SMTP_PASSWORD``;
3. only with ``YUQING_SECRETS_FROM_PREFECT_BLOCKS=true``: the Prefect Secret
   block ``smtp-password`` (Prefect is imported only now, and only if the
   environment had nothing).

Who can read what. The environment (or a secret file loaded into it by the
service manager) of the machines that send is the default: readable by
whoever administers those machines, and by nothing over the network. A
Prefect Secret block is readable by anyone who holds the Prefect API
credential -- every operator who can open the UI or run a deployment -- since
``POST /api/block_documents/filter {"include_secrets": true}`` returns its
value; hence the lookup is off unless switched on, for offices where the
operators are the ones trusted with the passwords anyway.

A value is percent-encoded where it lands in the URL, so passwords may hold
``@``, ``/`` or ``:``. A target that is one placeholder and nothing else
(``"${WECOM_URL}"``) takes the value as a whole URL, unencoded: the way to
keep a webhook whose token sits in its path out of the units file.

Every value resolved in this process is remembered (in memory only) so that
``redact`` can mask it wherever it might appear: the ledger, error texts,
log records of Apprise and urllib3 (a filter on their loggers), reports.
Errors name the placeholder, never the value.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, unquote, urlsplit

from yuqing_core.errors import NotFound

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_PLACEHOLDER_START = re.compile(r"\$\{")
ENV_PREFIX = "YUQING_SECRET_"
MASK = "****"
# Values shorter than this are not masked in free text: masking "ab" everywhere would garble logs.
MIN_MASKED_CHARS = 3
# Query parameters whose literal values are secrets whatever the channel.
SECRET_PARAMS = frozenset(
    {"password", "pass", "pwd", "secret", "token", "key", "apikey", "api_key", "access_token", "sign", "signature"}
)
# Loggers that may write URLs or request lines: Apprise, urllib3 under requests, httpx/httpcore,
# Prefect's run loggers and ours. The filter also goes on every handler configured in the process
# (a logger's own filter does not see records of its child loggers; a handler sees them all).
REDACTED_LOGGERS = (
    "apprise", "urllib3", "urllib3.connectionpool", "httpx", "httpcore", "prefect", "yuqing_core", "yuqing_core.notify",
)  # fmt: skip

BlockLoader = Callable[[str], str | None]


class MissingSecret(NotFound):
    """A placeholder with no value anywhere; the message names where it was looked for."""

    def __init__(self, name: str, detail: str = "", *, blocks: bool = True) -> None:
        self.name = name
        where = f"环境变量 {ENV_PREFIX}{name} 和 {name} 均未设置"
        where += f"，Prefect Secret 块 {block_name(name)} 也不可用" if blocks else "（未启用 Prefect Secret 块查找）"
        super().__init__(f"缺少密钥 ${{{name}}}：{where}" + (f"（{detail}）" if detail else ""))


def block_name(name: str) -> str:
    """The Prefect Secret block that holds ``${NAME}``: lower-kebab case.

    >>> block_name("SMTP_PASSWORD")
    'smtp-password'
    """
    return name.lower().replace("_", "-")


def placeholders(text: str) -> list[str]:
    """The names of the placeholders in ``text``, in order, once each."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def placeholder_problems(text: str) -> list[str]:
    """What is wrong with the placeholders in ``text`` (empty when all are well formed).

    >>> placeholder_problems("mailto://u:${smtp}@h")
    ['占位符 ${smtp} 写法不对：应为 ${SMTP_PASSWORD} 这样的大写字母、数字和下划线']
    """
    problems = []
    for start in _PLACEHOLDER_START.finditer(text):
        if PLACEHOLDER.match(text, start.start()):
            continue
        end = text.find("}", start.start())
        if end < 0:
            problems.append(f"占位符 {text[start.start() : start.start() + 20]} 缺少右括号 }}")
        else:
            problems.append(
                f"占位符 {text[start.start() : end + 1]} 写法不对：应为 ${{SMTP_PASSWORD}} 这样的大写字母、数字和下划线"
            )
    return problems


# --- resolving --------------------------------------------------------------------------


def prefect_secret_block(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``, or None if there is none (Prefect imported lazily)."""
    try:
        from prefect.blocks.system import Secret
    except ImportError:
        return None
    try:
        # _sync: the sync implementation even inside an event loop.
        block = Secret.load(name, _sync=True)  # type: ignore[call-arg]  # Prefect's async_dispatch takes _sync; its typing omits it
    except ValueError:  # Prefect's "Unable to find block document named ..."
        return None
    if not isinstance(block, Secret):  # what _sync=True returns; the typing also allows a coroutine
        return None
    value = block.get()
    return value if isinstance(value, str) else None


def configured_block_loader() -> BlockLoader | None:
    """The Prefect Secret block lookup if ``YUQING_SECRETS_FROM_PREFECT_BLOCKS`` is on, else None (the default)."""
    from yuqing_core.config import get_settings

    return prefect_secret_block if get_settings().secrets_from_prefect_blocks else None


class _Configured:
    """The default of ``SecretResolver(blocks=...)``: whatever the settings say."""


CONFIGURED = _Configured()


class SecretResolver:
    """Looks placeholders up (environment first, then, if enabled, Prefect Secret blocks), once per name.

    Make one per batch of sends: values are cached in the instance so a
    batch asks Prefect at most once per name, and a new batch sees rotated
    secrets. ``blocks`` defaults to the setting (``configured_block_loader``);
    ``blocks=None`` disables the Prefect lookup, a function replaces it.
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, blocks: BlockLoader | _Configured | None = CONFIGURED
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._blocks = configured_block_loader() if isinstance(blocks, _Configured) else blocks
        self._cache: dict[str, str] = {}

    def value(self, name: str) -> str:
        """The secret named by ``${name}``; raises ``MissingSecret`` naming the placeholder."""
        if name in self._cache:
            return self._cache[name]
        value = self._environ.get(ENV_PREFIX + name) or self._environ.get(name)
        if not value and self._blocks is not None:
            try:
                value = self._blocks(block_name(name))
            except Exception as exc:
                raise MissingSecret(name, f"读取 Prefect Secret 块出错：{type(exc).__name__}") from None
        if not value:
            raise MissingSecret(name, blocks=self._blocks is not None)
        remember_secret(value)
        self._cache[name] = value
        return value

    def fill(self, target: str) -> str:
        """``target`` with every placeholder replaced by its (URL-encoded) value."""
        whole = PLACEHOLDER.fullmatch(target.strip())
        if whole:
            return self.value(whole.group(1))
        return PLACEHOLDER.sub(lambda m: quote(self.value(m.group(1)), safe=""), target)


# --- masking ----------------------------------------------------------------------------

_known: set[str] = set()
_known_lock = threading.Lock()
_patterns: re.Pattern[str] | None = None


def remember_secret(value: str) -> None:
    """Mask ``value`` (and its URL-encoded forms) in everything ``redact`` sees from now on."""
    global _patterns  # noqa: PLW0603 - replaced whole under the lock, so _mask_known reads it without one
    if len(value) < MIN_MASKED_CHARS:
        return
    forms = {form for part in _secret_parts(value) for form in _encoded_forms(part)}
    with _known_lock:
        if forms <= _known:
            return
        _known.update(forms)
        # Longest first, so a value is masked whole before any shorter value inside it.
        _patterns = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def _encoded_forms(value: str) -> set[str]:
    """``value`` as it may be written into a URL: as is, percent-encoded (once or twice), form-encoded."""
    once = quote(value, safe="")
    return {value, once, quote(once, safe=""), quote_plus(value), quote(value), quote(value, safe=":/@")}


# A path segment that looks like a token (long, with digits or mixed case), not a word like ``send``.
_TOKEN_SEGMENT = re.compile(r"^(?=.*[0-9A-Z_-])[A-Za-z0-9._~%-]{8,}$")


def _secret_parts(value: str) -> list[str]:
    """``value``, and, when it is a whole URL, the parts a library may log on their own.

    Apprise rewrites a URL (``json://`` for ``https://``, its own privacy form) and urllib3
    logs the host and the request line apart, so the whole value never appears; its password,
    user, query values and token-like path segments do.
    """
    parts = [value]
    try:
        url = urlsplit(value.strip())
    except ValueError:
        return parts
    if not (url.scheme and url.netloc):
        return parts
    for piece in (url.password, url.path + (f"?{url.query}" if url.query else "")):
        if piece and piece not in ("/",):
            parts.append(piece)
    parts += [unquote(v) for pair in url.query.split("&") if (v := pair.partition("=")[2])]
    parts += [unquote(segment) for segment in url.path.split("/") if _TOKEN_SEGMENT.match(segment)]
    return [part for part in dict.fromkeys(parts) if len(part) >= MIN_MASKED_CHARS]


def _mask_known(text: str) -> str:
    patterns = _patterns
    return patterns.sub(MASK, text) if patterns is not None else text


_USERINFO_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@?#]*:)(?P<password>[^@\s/?#]+)@", re.IGNORECASE)


# ``token=...`` (also ``-token=``, ``access_token=``) in a query string or a logged request line.
_SECRET_PARAM = re.compile(
    r"(?P<head>[?&;][-+:]?(?P<name>[A-Za-z_]*(?:token|secret|password|passwd|pwd|key|sign|signature))=)"
    r"(?P<value>[^&\s\"'#]+)",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """Free text (an error, a log line) with known secret values, URL passwords and secret query values masked."""
    text = _mask_known(text)
    text = _USERINFO_PASSWORD.sub(lambda m: m["head"] + _keep_placeholder(m["password"]) + "@", text)
    return _SECRET_PARAM.sub(lambda m: m["head"] + _keep_placeholder(m["value"]), text)


def redact(url: str) -> str:
    """A target URL as it may be shown: placeholders kept, secrets masked.

    Literal passwords become ``****``, and so do the values of secret-named
    query parameters; other literal parts that look like tokens (a webhook
    key in the host or path) are shortened by Apprise's own privacy rule
    (``cwe312_word``: ``a...z``); last, every secret value resolved in this
    process is masked wherever it stands.

    >>> redact("mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn")
    'mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn'
    >>> redact("json://hooks.example.cn/h?-token=abc123XYZ789")
    'json://hooks.example.cn/h?-token=****'
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return redact_text(url)
    if not parts.scheme or not parts.netloc:
        return redact_text(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = ""
    if at:
        user, colon, password = userinfo.partition(":")
        netloc = _word(user) + (":" + _keep_placeholder(password) if colon else "") + "@"
    host, port = _split_port(hostport)
    netloc += (host if _SERVER.match(host) else _word(host)) + (f":{port}" if port else "")
    path = "/".join(_word(segment) for segment in parts.path.split("/"))
    query = "&".join(_param(pair) for pair in parts.query.split("&")) if parts.query else ""
    return _mask_known(f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query else ""))


def _split_port(hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):  # an IPv6 literal: shown as written
        return hostport, ""
    host, colon, port = hostport.rpartition(":")
    return (host, port) if colon and port.isdigit() else (hostport, "")


def _keep_placeholder(value: str) -> str:
    return value if PLACEHOLDER.fullmatch(value) else MASK


def _param(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if not equals:
        return _word(name)
    bare = name.lstrip("+-:").lower()
    if PLACEHOLDER.fullmatch(value):
        shown = value
    elif bare in SECRET_PARAMS or any(word in bare for word in ("token", "secret", "password", "key")):
        shown = MASK
    else:
        shown = _word(value)
    return f"{name}={shown}"


_EMAIL = re.compile(r"^[^@\s/]+(@|%40)[A-Za-z0-9.-]+$")
# A host name with a dot, or an IPv4 address: a server, not a token (``dingtalk://TOKEN`` has no dot).
_SERVER = re.compile(r"^(?=.*\.)[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
# A plain lower-case word (``hook``, ``send_msg``): a path, not a token.
_PLAIN_WORD = re.compile(r"^[a-z][a-z_-]{0,15}$")


def _word(text: str) -> str:
    """Apprise's privacy rule for one literal part of a URL; placeholders and e-mail addresses are kept."""
    from apprise.utils.cwe312 import cwe312_word

    if not text or _EMAIL.match(text):
        return text
    pieces = PLACEHOLDER.split(text)  # literal, name, literal, name, ...
    return "".join(
        f"${{{piece}}}" if index % 2 else (piece if not piece or _PLAIN_WORD.match(piece) else str(cwe312_word(piece)))
        for index, piece in enumerate(pieces)
    )


# --- logging ----------------------------------------------------------------------------

_silenced = threading.local()


class RedactingFilter(logging.Filter):
    """Rewrites a log record with secrets masked (and drops Apprise's records inside ``silenced_apprise``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_silenced, "depth", 0) and record.name.split(".")[0] == "apprise":
            return False
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = redact_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to the loggers that may print URLs and to every handler
    configured in the process so far: the root logger's and every named logger's (idempotent).

    Called before each batch of sends, so handlers configured after start-up (Prefect's) are
    covered by the time a secret is in use.
    """
    loggers: list[logging.Logger] = [logging.getLogger(name) for name in REDACTED_LOGGERS]
    loggers.append(logging.getLogger())
    loggers += [logger for logger in list(logging.Logger.manager.loggerDict.values()) if isinstance(logger, logging.Logger)]
    for logger in loggers:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in list(logger.handlers):
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


@contextmanager
def silenced_apprise() -> Iterator[None]:
    """Drop the log records of this thread for a while (parsing URLs while validating a file)."""
    install_log_redaction()
    _silenced.depth = getattr(_silenced, "depth", 0) + 1
    try:
        yield
    finally:
        _silenced.depth -= 1
