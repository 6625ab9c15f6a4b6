"""Real receivers on 127.0.0.1 for notification tests: an SMTP server and a webhook endpoint.

Both are context managers that start on a free port (or a given one),
collect what arrives, and stop on exit::

    with SmtpReceiver(user="yjj", password="p@ss") as smtp, WebhookReceiver() as hook:
        url = smtp.url(password="${SMTP_PASSWORD}", to="yjj@example.gov.cn")
        ...
        smtp.wait_for(1)
        assert smtp.messages[0].subject == "【预警】…"
        assert hook.posts[0].json["title"] == "…"

``free_port()`` gives a port nothing listens on (a channel that is down).
AUTH without TLS makes aiosmtpd warn (plain SMTP on loopback, on purpose):
test modules add ``pytestmark = pytest.mark.filterwarnings(PLAIN_AUTH_WARNING)``.
"""

from __future__ import annotations

import email
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

WAIT_S = 10.0
PLAIN_AUTH_WARNING = "ignore:Requiring AUTH while not requiring TLS:UserWarning"


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (just released by the OS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


# --- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"] or "")

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    @property
    def attachments(self) -> dict[str, bytes]:
        # Every part with a file name: iter_attachments() would skip an attached .html, taking it for a body.
        return {part.get_filename(): part.get_payload(decode=True) for part in self.message.walk() if part.get_filename()}


class _Collector:
    def __init__(self, owner: SmtpReceiver) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.owner._lock:
            self.owner.messages.append(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before the controller connects to itself.
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        super()._trigger_server()


class SmtpReceiver:
    """An SMTP server on 127.0.0.1 that keeps every message; with ``user``/``password`` it requires AUTH."""

    def __init__(self, *, port: int = 0, user: str | None = None, password: str | None = None) -> None:
        self.messages: list[ReceivedMail] = []
        self.failed_logins: list[str] = []
        self._lock = threading.Lock()
        self._user, self._password = user, password
        auth: dict[str, Any] = {}
        if user is not None:
            auth = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = _Controller(_Collector(self), hostname="127.0.0.1", port=port, **auth)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == self._user and data.password.decode() == self._password
        if not ok:
            self.failed_logins.append(mechanism)
        return AuthResult(success=ok)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def url(self, *, to: str, user: str | None = None, password: str | None = None, sender: str = "yuqing@example.gov.cn") -> str:
        """An Apprise ``mailto://`` URL for this server (plain SMTP, no TLS)."""
        auth = f"{user or self._user}:{password}@" if password is not None else ""
        return f"mailto://{auth}127.0.0.1:{self.port}?to={to}&from={sender}&mode=insecure"

    def wait_for(self, count: int, timeout: float = WAIT_S) -> list[ReceivedMail]:
        _wait(lambda: len(self.messages) >= count, timeout, f"{count} mail(s)")
        return list(self.messages)

    def __enter__(self) -> SmtpReceiver:
        # The server's own debug log prints the SMTP dialogue (AUTH included); a test server keeps quiet.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


# --- webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def form(self) -> dict[str, str]:
        """Fields of a ``multipart/form-data`` or urlencoded post (files left out)."""
        if self.content_type.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}
        message = email.message_from_bytes(f"Content-Type: {self.content_type}\r\n\r\n".encode() + self.body, policy=policy.HTTP)
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
            if not part.get_filename()
        }


class _WebhookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        owner = self.server.owner
        parts = urlsplit(self.path)
        post = ReceivedPost(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
        with owner._lock:
            status = owner.status
            if status < 300:
                owner.posts.append(post)
            else:
                owner.refused.append(post)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: WebhookReceiver


@dataclass
class WebhookReceiver:
    """An HTTP endpoint on 127.0.0.1 that keeps every POST; set ``status`` >= 300 to refuse them."""

    port: int = 0
    status: int = 200
    posts: list[ReceivedPost] = field(default_factory=list)
    refused: list[ReceivedPost] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: _WebhookServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook", *, scheme: str = "json") -> str:
        """An Apprise URL for this endpoint: ``json://`` posts JSON, ``form://`` posts a form."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = WAIT_S) -> list[ReceivedPost]:
        _wait(lambda: len(self.posts) >= count, timeout, f"{count} post(s)")
        return list(self.posts)

    def __enter__(self) -> WebhookReceiver:
        self._server = _WebhookServer(("127.0.0.1", self.port), _WebhookHandler)
        self._server.owner = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
