"""Vectorised MinHash signatures over character n-grams, and LSH band keys.

The hash of record (stable across processes, machines and Python versions;
Python's randomised ``hash()`` is never used):

1. **Gram key.** A text's characters are read as Unicode code points
   (``str.encode("utf-32-le")``). For ``ngram <= 3`` the code points of a
   gram are packed exactly into one integer, 21 bits each (``c0 << 42 |
   c1 << 21 | c2`` for 3-grams), so distinct grams have distinct keys. For
   longer grams the key is the polynomial ``k = k * 0x9E3779B97F4A7C15 + c``
   modulo 2^64 over the gram's code points.
2. **Gram hash.** The low 32 bits of the 64-bit MurmurHash3 finalizer
   (``fmix64``) of the key. ``_gram_hash32`` is the same function in plain
   Python, one gram at a time, for tests and for reading this description.
3. **Permutations.** datasketch 2.0's ``"affine32"`` scheme, bit for bit:
   the gram hash is pre-mixed with the 32-bit MurmurHash3 finalizer
   (``fmix32``), then ``k`` permutations ``a_i * h + b_i mod 2^32`` with odd
   ``a_i``; ``a`` and ``b`` are drawn from ``numpy.random.RandomState(seed)``
   exactly as datasketch draws them (NumPy keeps ``RandomState`` streams
   frozen across versions). A signature row is the element-wise minimum over
   the text's grams.

So ``signatures([t])[0]`` equals ``MinHash(num_perm, seed=seed,
hashfunc=_gram_hash32, scheme="affine32")`` updated with the grams of ``t``
(a test holds us to that), and the fraction of equal positions between two
rows estimates the Jaccard similarity of the two gram sets.

Rows are ``uint32``: the scheme's values are 32-bit, so ``uint64`` would
only double memory and storage (a 128-permutation row is 512 bytes).

Texts shorter than one gram (but not empty) count as a single gram of the
whole text. An empty text has no grams; its row is all ``0xFFFFFFFF``, the
value datasketch uses for an empty MinHash, and compares equal only to other
empty rows, so callers must keep empty texts out of similarity joins (the
grouper does, with ``min_text_chars``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

SIGNATURE_DTYPE = np.dtype(np.uint32)
# Stored signatures are only comparable with signatures made by the same
# recipe. Bump this whenever the gram key, the gram hash or the permutations
# change (event_text cleaning changes move individual rows a little but keep
# them comparable, so they do not bump it).
SIGNATURE_SCHEME_VERSION = 1
EMPTY_HASH = np.uint32(0xFFFFFFFF)

_BITS_PER_CODE_POINT = 21  # U+10FFFF needs 21 bits: three code points fit in 63 bits
_LONG_GRAM_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so each step is a bijection in the new code point
# Grams per chunk of the permutation step: the temporary num_perm x grams
# matrix (8 MiB at 128 permutations) stays cache-friendly; measured fastest
# among 2^10..2^18 on a 2-core x86 machine.
_CHUNK_GRAMS = 1 << 14

_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1


def _fmix64(h: np.ndarray) -> np.ndarray:
    shift, m1, m2 = _FMIX64
    h = h ^ (h >> shift)
    h *= m1
    h ^= h >> shift
    h *= m2
    h ^= h >> shift
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2 = _FMIX32
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s1
    return h


def _gram_hash32(gram: str) -> int:
    """The 32-bit hash of one gram, in plain Python (reference for the vectorised path).

    >>> _gram_hash32("青溪河") == _gram_hash32("青溪河")
    True
    """
    key = 0
    if len(gram) <= 3:
        for char in gram:
            key = (key << _BITS_PER_CODE_POINT) | ord(char)
    else:
        for char in gram:
            key = (key * int(_LONG_GRAM_MULTIPLIER) + ord(char)) & _MASK64
    key ^= key >> 33
    key = (key * 0xFF51AFD7ED558CCD) & _MASK64
    key ^= key >> 33
    key = (key * 0xC4CEB9FE1A85EC53) & _MASK64
    key ^= key >> 33
    return key & _MASK32


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters of the affine32 permutations (read-only arrays).

    Drawn as datasketch 2.0 draws them for ``MinHash(num_perm, seed)``.
    """
    if num_perm < 1:
        raise ValueError("num_perm must be positive")
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All texts' code points end to end, and each text's length."""
    lengths = np.fromiter((len(text) for text in texts), dtype=np.int64, count=len(texts))
    # surrogatepass: a lone surrogate (from a badly decoded feed) is still one
    # code point of the string, so lengths and offsets stay aligned.
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    return codes, lengths


def _gram_keys(codes: np.ndarray, ngram: int) -> np.ndarray:
    """The key of the gram starting at every position that has ``ngram`` characters after it."""
    count = codes.size - ngram + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    keys = codes[:count].copy()
    if ngram <= 3:
        shift = np.uint64(_BITS_PER_CODE_POINT)
        for offset in range(1, ngram):
            keys <<= shift
            keys |= codes[offset : offset + count]
    else:
        for offset in range(1, ngram):
            keys *= _LONG_GRAM_MULTIPLIER
            keys += codes[offset : offset + count]
    return keys


def _short_gram_key(text: str) -> np.uint64:
    """The key of a text shorter than one gram, taken as a single gram."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    key: np.uint64 = _gram_keys(codes, len(text))[0]
    return key


def signatures(texts: Sequence[str], *, num_perm: int = 128, ngram: int = 3, seed: int = 1) -> np.ndarray:
    """MinHash signatures of the texts' character n-grams, one ``uint32`` row per text.

    Computed for the whole sequence at once: the n-gram hashes of every text
    in one array, the permutations as a broadcast multiply-add, and the
    per-text minimum as ``numpy.minimum.reduceat``, in chunks of about
    16,000 grams (whole texts) to stay in cache. See the module docstring for the hash.

    >>> rows = signatures(["青溪河石桥段大量死鱼", "青溪河石桥段大量死鱼", ""], num_perm=16)
    >>> rows.shape, rows.dtype.name
    ((3, 16), 'uint32')
    >>> bool((rows[0] == rows[1]).all()), bool((rows[2] == 0xFFFFFFFF).all())
    (True, True)
    """
    if ngram < 1:
        raise ValueError("ngram must be at least 1")
    a, b = permutations(num_perm, seed)
    result = np.full((len(texts), num_perm), EMPTY_HASH, dtype=SIGNATURE_DTYPE)
    if not texts:
        return result

    codes, lengths = _code_points(texts)
    gram_counts = np.maximum(lengths - ngram + 1, 0)
    keys = _gram_keys(codes, ngram)
    if keys.size:
        # Keep only grams that lie inside one text: the n-1 positions before
        # each text's end would straddle into the next text.
        valid = np.ones(keys.size, dtype=bool)
        ends = np.cumsum(lengths)
        straddling = (ends[:, None] - np.arange(1, ngram, dtype=np.int64)).ravel()
        straddling = straddling[(straddling >= 0) & (straddling < keys.size)]
        valid[straddling] = False
        keys = keys[valid]

    short = np.flatnonzero((gram_counts == 0) & (lengths > 0))
    if short.size:
        # A text shorter than a gram is one gram of itself; give it a slot in
        # the key array so every non-empty text goes through the same path.
        short_keys = np.array([_short_gram_key(texts[i]) for i in short.tolist()], dtype=np.uint64)
        gram_counts = gram_counts.copy()
        gram_counts[short] = 1
        insert_at = np.cumsum(gram_counts)[short] - 1
        keys = np.insert(keys, insert_at - np.arange(short.size), short_keys)

    hashes = _fmix32(_fmix64(keys).astype(np.uint32))
    _minimum_per_text(hashes, gram_counts, a, b, out=result)
    return result


def _minimum_per_text(hashes: np.ndarray, gram_counts: np.ndarray, a: np.ndarray, b: np.ndarray, *, out: np.ndarray) -> None:
    """``out[j] = min over text j's grams of (a * fmix32(h) + b)``, chunked by whole texts.

    The temporary matrix is laid out permutations x grams so that the
    per-text minimum reduces along contiguous memory (``reduceat`` along the
    first axis of a grams x permutations matrix is an order of magnitude
    slower), and chunks are small enough to stay in cache.
    """
    nonempty = np.flatnonzero(gram_counts)
    if not nonempty.size:
        return
    ends = np.cumsum(gram_counts[nonempty])
    starts = ends - gram_counts[nonempty]
    columns = min(_CHUNK_GRAMS, hashes.size)
    buffer = np.empty((a.size, columns), dtype=np.uint32)
    a_column, b_column = a[:, None], b[:, None]
    first = 0
    while first < nonempty.size:
        # As many whole texts as fit the buffer (at least one, however long).
        begin = starts[first]
        last = max(int(np.searchsorted(ends, begin + columns, side="right")), first + 1)
        chunk = hashes[begin : ends[last - 1]]
        if chunk.size > buffer.shape[1]:
            buffer = np.empty((a.size, chunk.size), dtype=np.uint32)
        view = buffer[:, : chunk.size]
        np.multiply(a_column, chunk[None, :], out=view)
        view += b_column
        out[nonempty[first:last]] = np.minimum.reduceat(view, starts[first:last] - begin, axis=1).T
        first = last


def jaccard_estimates(signature: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of one row against each row of ``others``."""
    if not others.size:
        return np.empty(0, dtype=np.float64)
    estimates: np.ndarray = np.count_nonzero(others == signature, axis=1) / signature.size
    return estimates


def signature_to_bytes(signature: np.ndarray) -> bytes:
    """A signature row as bytes for storage (little-endian ``uint32``, 4 bytes per permutation).

    >>> row = signatures(["凤鸣水库大坝运行正常"], num_perm=4)[0]
    >>> len(signature_to_bytes(row))
    16
    >>> bool((signature_from_bytes(signature_to_bytes(row)) == row).all())
    True
    """
    row = np.asarray(signature)
    if row.ndim != 1 or row.dtype != SIGNATURE_DTYPE:
        raise ValueError(f"a signature is a 1-d uint32 array, got {row.ndim}-d {row.dtype}")
    return row.astype("<u4", copy=False).tobytes()


def signature_from_bytes(data: bytes, num_perm: int | None = None) -> np.ndarray:
    """The signature row stored by ``signature_to_bytes`` (a fresh, writable array).

    ``num_perm``, if given, is checked against the stored length.
    """
    if len(data) % 4:
        raise ValueError(f"signature bytes must be a multiple of 4 long, got {len(data)}")
    row = np.frombuffer(data, dtype="<u4").astype(SIGNATURE_DTYPE)
    if num_perm is not None and row.size != num_perm:
        raise ValueError(f"stored signature has {row.size} permutations, expected {num_perm}")
    return row


def band_keys(rows: np.ndarray, bands: int, rows_per_band: int) -> np.ndarray:
    """One 64-bit key per (row, band): a hash of the band's values and of the band's index.

    Two rows share a key in band ``i`` exactly when their values in that
    band are equal, up to 64-bit hash collisions (which only add LSH
    candidates; every candidate is verified by its Jaccard estimate).
    Mixing the band index in lets all bands share one dictionary.
    """
    if bands * rows_per_band > rows.shape[1]:
        raise ValueError("bands x rows_per_band exceeds the signature length")
    values = rows[:, : bands * rows_per_band].reshape(rows.shape[0], bands, rows_per_band).astype(np.uint64)
    keys = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * _LONG_GRAM_MULTIPLIER, values.shape[:2]).copy()
    for column in range(rows_per_band):
        keys ^= values[:, :, column]
        keys = _fmix64(keys)
    return keys
