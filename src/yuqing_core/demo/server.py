"""A real HTTP feed server on 127.0.0.1, for the demo and the tests.

Static routes answer conditional GETs (ETag, Last-Modified) and gzip when
asked; handler routes let a test script any behaviour (redirect chains,
429 with Retry-After, slow or truncated bodies, gzip bombs); inboxes take
POSTs and keep them (the demo's webhook receiver).

Example::

    with FeedServer() as server:
        server.add("/gov.xml", rss_bytes, content_type="application/rss+xml")
        print(server.url("/gov.xml"))
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class StaticRoute:
    body: bytes
    content_type: str = "application/xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = True
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.etag is None:
            self.etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'
        if self.last_modified is None:
            self.last_modified = formatdate(usegmt=True)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        owner._record(path, dict(self.headers.items()))
        route = owner.routes.get(path)
        if route is None:
            self._plain(404, b"not found")
        elif isinstance(route, StaticRoute):
            self._static(route)
        else:
            route(self)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path not in owner.inboxes:
            self._plain(404, b"not found")
            return
        owner._receive(path, dict(self.headers.items()), body)
        self._plain(200, b"ok")

    def _plain(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _static(self, route: StaticRoute) -> None:
        if self._not_modified(route):
            self.send_response(304)
            self.send_header("ETag", route.etag or "")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = route.body
        self.send_response(200)
        if route.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=5)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(body)))
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _not_modified(self, route: StaticRoute) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return route.etag is not None and route.etag in [t.strip() for t in if_none_match.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since and route.last_modified:
            try:
                return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the demo print their own summaries


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return  # the client hung up first: what timeouts and caps are for
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class FeedServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (or ``host``, ``::1`` included) with static and scripted routes."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, StaticRoute | Handler] = {}
        # POST endpoints that keep what they receive: a webhook receiver for the demo.
        self.inboxes: dict[str, list[tuple[dict[str, str], bytes]]] = {}
        self.hits: Counter[str] = Counter()
        self.request_headers: dict[str, list[dict[str, str]]] = {}
        self._lock = threading.Lock()
        self._server = (_Server6 if ":" in host else _Server)((host, port), _RequestHandler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]  # what server_address holds once bound
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes, **options: Any) -> StaticRoute:
        route = StaticRoute(body=body, **options)
        self.routes[path] = route
        return route

    def add_handler(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def add_inbox(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        """A POST endpoint at ``path``; returns the list its requests (headers, body) are appended to."""
        return self.inboxes.setdefault(path, [])

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> None:
        with self._lock:
            self.inboxes[path].append((headers, body))

    def _record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.hits[path] += 1
            self.request_headers.setdefault(path, []).append(headers)

    def start(self) -> FeedServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="feed-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
