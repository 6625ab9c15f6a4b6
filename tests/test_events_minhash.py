"""MinHash signatures: stable values, datasketch's scheme bit for bit, honest Jaccard estimates, LSH bands."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from yuqing_core.events import lsh_parameters, signature_from_bytes, signature_to_bytes, signatures
from yuqing_core.events._minhash import _gram_hash32, band_keys, jaccard_estimates

# Hard-coded so that any change to the gram key, the gram hash or the
# permutations fails here: stored signatures would silently stop matching.
EXPECTED_8 = [
    [113588131, 618329634, 751539172, 781592271, 253989379, 852516977, 200493519, 371894],
    [3494662391, 1268395272, 3605077960, 3031884793, 3112597460, 3287313839, 42460725, 861821348],
    [978098328, 3179779149, 3459831635, 1128052204, 1311833489, 3195528104, 902969530, 3128283013],
    [0xFFFFFFFF] * 8,
]
SAMPLE = ["青溪河石桥段大量死鱼", "abc", "ab", ""]


def grams(text: str, n: int = 3) -> list[str]:
    if 0 < len(text) < n:
        return [text]
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def random_texts(rng: random.Random, count: int, alphabet: int = 3000) -> list[str]:
    return ["".join(chr(0x4E00 + rng.randrange(alphabet)) for _ in range(rng.randint(0, 300))) for _ in range(count)]


def test_signatures_match_hard_coded_values() -> None:
    rows = signatures(SAMPLE, num_perm=8)
    assert rows.dtype == np.uint32 and rows.shape == (4, 8)
    assert rows.tolist() == EXPECTED_8
    assert (_gram_hash32("青溪河"), _gram_hash32("abcd"), _gram_hash32("a")) == (603821826, 1550586809, 3844057463)
    assert signatures(["青溪河石桥段大量死鱼"], num_perm=4, ngram=4, seed=7).tolist() == [
        [378860886, 1133689886, 135567188, 6888082]
    ]


def test_signatures_are_the_same_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import sys; from yuqing_core.events import signatures; "
        f"sys.stdout.write(repr(signatures({SAMPLE!r}, num_perm=8).tolist()))"
    )
    for hash_seed in ("0", "12345"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        output = subprocess.run(
            [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
        ).stdout
        assert output == repr(EXPECTED_8)


def test_signatures_equal_datasketch_affine32_minhash_with_the_same_gram_hash() -> None:
    rng = random.Random(7)
    texts = [*random_texts(rng, 40), "a", "ab", "abc", "青", "转发微博"]
    rows = signatures(texts, num_perm=128, seed=1)
    for text, row in zip(texts, rows, strict=True):
        reference = MinHash(num_perm=128, seed=1, hashfunc=_gram_hash32, scheme="affine32")
        reference.update_batch(grams(text))
        assert np.array_equal(reference.hashvalues, row), text


def test_signatures_do_not_depend_on_batch_composition() -> None:
    texts = random_texts(random.Random(3), 300)  # several chunks of the permutation step
    together = signatures(texts)
    one_by_one = np.vstack([signatures([text]) for text in texts])
    assert np.array_equal(together, one_by_one)
    assert np.array_equal(signatures(texts[::-1]), together[::-1])


def test_longer_grams_and_other_seeds_follow_the_same_reference() -> None:
    texts = [*random_texts(random.Random(5), 10), "一二三四", "一二"]
    rows = signatures(texts, num_perm=16, ngram=5, seed=42)
    for text, row in zip(texts, rows, strict=True):
        reference = MinHash(num_perm=16, seed=42, hashfunc=_gram_hash32, scheme="affine32")
        reference.update_batch(grams(text, 5))
        assert np.array_equal(reference.hashvalues, row)


def test_empty_and_short_texts() -> None:
    rows = signatures(["", "a", "a", "ab"], num_perm=32)
    assert (rows[0] == 0xFFFFFFFF).all()
    assert np.array_equal(rows[1], rows[2])
    assert not np.array_equal(rows[1], rows[3])
    assert signatures([], num_perm=32).shape == (0, 32)
    # A lone surrogate (a badly decoded feed) is one character like any other.
    odd = signatures(["ab\udcffcd", "abcd"], num_perm=32)
    assert not np.array_equal(odd[0], odd[1])
    assert np.array_equal(signatures(["\udcff"] * 2, num_perm=32)[0], signatures(["\udcff"], num_perm=32)[0])
    with pytest.raises(ValueError):
        signatures(["abc"], ngram=0)


def test_jaccard_estimates_are_close_to_the_true_jaccard() -> None:
    rng = random.Random(11)
    errors = []
    for _ in range(60):
        # Two texts over distinct characters, sharing a middle part of random size.
        chars = [chr(0x4E00 + i) for i in rng.sample(range(20000), 400)]
        shared = rng.randint(0, 200)
        a = "".join(chars[: 100 + shared])
        b = "".join(chars[100 : 100 + shared] + chars[300:400])
        truth_a, truth_b = set(grams(a)), set(grams(b))
        truth = len(truth_a & truth_b) / len(truth_a | truth_b)
        rows = signatures([a, b], num_perm=128)
        estimate = float(jaccard_estimates(rows[0], rows[1:])[0])
        errors.append(abs(estimate - truth))
        assert abs(estimate - truth) < 0.16  # > 3.5 standard errors at 128 permutations
    assert np.mean(errors) < 0.04


def test_signature_bytes_round_trip() -> None:
    row = signatures(["青溪河石桥段大量死鱼"])[0]
    blob = signature_to_bytes(row)
    assert len(blob) == 512
    assert blob[:4] == int(row[0]).to_bytes(4, "little")
    back = signature_from_bytes(blob, num_perm=128)
    assert np.array_equal(back, row) and back.dtype == np.uint32 and back.flags.writeable
    with pytest.raises(ValueError):
        signature_from_bytes(blob, num_perm=64)
    with pytest.raises(ValueError):
        signature_from_bytes(blob[:-1])
    with pytest.raises(ValueError):
        signature_to_bytes(row.astype(np.uint64))


def test_band_keys_find_exactly_the_candidates_of_datasketch_minhashlsh() -> None:
    rng = random.Random(13)
    originals = random_texts(rng, 150, alphabet=400)  # a small alphabet: many chance similarities
    variants = [text[: int(len(text) * rng.uniform(0.4, 1.0))] + "转发" for text in originals]
    rows = signatures(originals + variants)
    bands, rows_per_band = lsh_parameters(0.5, 128)
    keys = band_keys(rows, bands, rows_per_band)

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for index, row in enumerate(rows):
        lsh.insert(index, MinHash(hashvalues=row, scheme="affine32"))
    found_any = 0
    for index, row in enumerate(rows):
        theirs = set(lsh.query(MinHash(hashvalues=row, scheme="affine32")))
        ours = {other for other in range(len(rows)) if (keys[other] == keys[index]).any()}
        assert ours == theirs
        found_any += len(ours) > 1
    assert found_any > 100  # the variants are found, so the comparison is not vacuous


def test_lsh_parameters_are_datasketch_s() -> None:
    assert lsh_parameters(0.5, 128) == (25, 5)
    lsh = MinHashLSH(threshold=0.8, num_perm=64)
    assert lsh_parameters(0.8, 64) == (lsh.b, lsh.r)
