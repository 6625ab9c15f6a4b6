"""Content-Encoding decoding with the cap counted after decompression."""

import gzip
import tracemalloc
import zlib

import brotli
import pytest

from yuqing_core.collect.decode import BodyTooLarge, BoundedDecoder, DecodingFailed, UnsupportedEncoding

MIB = 1024 * 1024
TEXT = "青禾县 政务公开 ".encode() * 2000


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


def decode(encoding: str | None, payload: bytes, limit: int = 15 * MIB, chunk: int = 65536) -> bytes:
    decoder = BoundedDecoder(encoding, limit)
    for start in range(0, len(payload), chunk):
        decoder.feed(payload[start : start + chunk])
    return decoder.finish()


@pytest.mark.parametrize(
    "encoding, payload",
    [
        (None, TEXT),
        ("identity", TEXT),
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", raw_deflate(TEXT)),
        ("br", brotli.compress(TEXT)),
        ("GZIP", gzip.compress(TEXT)),
    ],
)
def test_round_trips(encoding: str | None, payload: bytes) -> None:
    assert decode(encoding, payload) == TEXT


def test_body_over_cap_without_compression() -> None:
    with pytest.raises(BodyTooLarge):
        decode(None, b"x" * 2001, limit=2000)
    assert decode(None, b"x" * 2000, limit=2000) == b"x" * 2000


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_bomb_stops_early_with_bounded_memory(encoding: str) -> None:
    # 128 MiB of zeros compresses to ~130 KB (gzip) or less (brotli); decoding must stop near the cap.
    size = 128 * MIB
    if encoding == "gzip":
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b"\0" * (16 * MIB)
        payload = b"".join(compressor.compress(block) for _ in range(size // len(block))) + compressor.flush()
    else:
        payload = brotli.compress(b"\0" * (64 * MIB), quality=1)  # 64 MiB is plenty past the cap
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            decode(encoding, payload, limit=15 * MIB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * MIB, f"peak {peak / MIB:.1f} MiB while decoding a bomb"


def test_corrupt_gzip_is_a_decoding_failure() -> None:
    with pytest.raises(DecodingFailed):
        decode("gzip", b"\x1f\x8b\x08\x00garbage-garbage-garbage")


def test_truncated_gzip_gives_the_decoded_prefix() -> None:
    # zlib's flush does not report a stream cut short: what was decoded comes back (a body cut short on the
    # wire is the HTTP layer's to notice, by its Content-Length or chunking).
    body = decode("gzip", gzip.compress(TEXT)[:-20])
    assert body and TEXT.startswith(body) and len(body) < len(TEXT)


def test_unsupported_and_stacked_encodings_are_refused() -> None:
    with pytest.raises(UnsupportedEncoding):
        BoundedDecoder("compress", 100)
    with pytest.raises(UnsupportedEncoding):
        BoundedDecoder("gzip, br", 100)
