"""Content-Encoding decoding with a cap on the decoded size.

The cap is enforced while decompressing, a bounded slice at a time, so a
gzip or brotli bomb stops as soon as its output passes the cap instead of
first expanding a whole network chunk (one 64 KiB deflate chunk can become
64 MiB).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli


class BodyTooLarge(Exception):
    """The decoded body passed the configured cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"内容超过上限 {limit // (1024 * 1024)} MiB（按解压后大小计）")
        self.limit = limit


class UnsupportedEncoding(Exception):
    def __init__(self, encoding: str) -> None:
        super().__init__(f"不支持的内容编码：{encoding}")
        self.encoding = encoding


class DecodingFailed(Exception):
    def __init__(self, encoding: str, detail: str) -> None:
        super().__init__(f"{encoding} 解压失败：{detail}")


class BoundedDecoder:
    """Feed raw body chunks in, get decoded bytes out, never more than ``limit`` in all.

    Example::

        decoder = BoundedDecoder("gzip", limit=15 * 1024 * 1024)
        for chunk in raw_chunks:
            decoder.feed(chunk)
        body = decoder.finish()
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self.encoding = _single_encoding(content_encoding)
        self._feed: Callable[[bytes], None]
        self._zlib: zlib._Decompress | None = None
        if self.encoding == "identity":
            self._feed = self._emit
        elif self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._feed = self._feed_zlib
        elif self.encoding == "deflate":
            # zlib-wrapped or raw deflate: decided by the first bytes
            self._feed = self._feed_deflate
        elif self.encoding == "br":
            self._brotli = brotli.Decompressor()
            self._feed = self._feed_brotli
        else:
            raise UnsupportedEncoding(self.encoding)

    @property
    def size(self) -> int:
        return self._size

    def feed(self, chunk: bytes) -> None:
        if chunk:
            self._feed(chunk)

    def finish(self) -> bytes:
        if self.encoding in ("gzip", "x-gzip", "deflate") and self._zlib is not None:
            try:
                self._emit(self._zlib.flush())
            except zlib.error as exc:
                raise DecodingFailed(self.encoding, str(exc)) from exc
        return b"".join(self._parts)

    def _emit(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.limit:
            raise BodyTooLarge(self.limit)
        self._parts.append(data)

    def _feed_zlib(self, chunk: bytes) -> None:
        assert self._zlib is not None
        data = chunk
        try:
            while data:
                # Ask for one byte past what may still fit: enough to notice a breach.
                self._emit(self._zlib.decompress(data, self.limit - self._size + 1))
                data = self._zlib.unconsumed_tail
                if self._zlib.eof:
                    break
        except zlib.error as exc:
            raise DecodingFailed(self.encoding, str(exc)) from exc

    def _feed_deflate(self, chunk: bytes) -> None:
        if self._zlib is None:
            # RFC 9110 deflate is zlib-wrapped; many servers send raw deflate instead.
            zlib_header = len(chunk) >= 2 and (chunk[0] & 0x0F) == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        self._feed_zlib(chunk)

    def _feed_brotli(self, chunk: bytes) -> None:
        try:
            output = self._brotli.process(chunk, output_buffer_limit=self.limit - self._size + 1)
            self._emit(output)
            while not self._brotli.can_accept_more_data():
                self._emit(self._brotli.process(b"", output_buffer_limit=self.limit - self._size + 1))
        except brotli.error as exc:
            raise DecodingFailed("br", str(exc)) from exc


def _single_encoding(header: str | None) -> str:
    encodings = [part.strip().lower() for part in (header or "").split(",") if part.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if not encodings:
        return "identity"
    if len(encodings) > 1:
        raise UnsupportedEncoding(", ".join(encodings))
    return encodings[0]
