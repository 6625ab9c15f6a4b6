#!/usr/bin/env python3
"""Build $YUQING_EVAL_DIR/ (default: ../eval beside the checkout) grouping.jsonl (incident-level grouping eval set).

Sources (public GitHub snapshots fetched into /work/.mirror as bare git dirs):
  * cyang03/CHECKED            -- COVID-19 Weibo posts judged fake by Weibo's
                                  misinformation service (with the service's
                                  verdict text in `analysis`), comments/reposts,
                                  and 1,760 real posts crawled from @人民日报.
  * thunlp/Chinese_Rumor_Dataset (CED_Dataset) -- 3,387 Weibo source posts
                                  (1,538 rumour / 1,849 non-rumour, 2010-2016)
                                  with their reposts/comments.

Gold groups
  * CHECKED groups: fake posts whose verdict cites the SAME debunk URL
    (e.g. the same @捉谣记 / @北京日报 debunk post) spread the same claim.
    Keys that are the same claim under different debunk URLs are merged
    (MANUAL_MERGE below, decided by reading the quoted claims).
    Members: the distinct fake posts (kind=claim_post), up to 2 distinct
    verdict texts (kind=verdict; the moderation-penalty boilerplate after
    "被举报人言论…/被投诉人言论…/现根据《…" is cut off), and up to 4 comments /
    reposts of those posts (kind=reaction) that mention >=1 anchor word.
  * CED groups: one source post (kind=original) plus up to 8 of its own
    reposts/comments (kind=reaction) that contain >=1 anchor word of the
    source post and are >= 15 characters.
  "anchor word" = jieba token (len>=2, containing a CJK character) whose
  document frequency over all source posts of both datasets is <=
  ANCHOR_MAX_DF; hashtags, @mentions, "//@user:" chain markers, "L<user>的微博视频"
  cards and URLs are ignored when looking for anchor words (the stored text is
  not changed).

Distractors (group = null)
  * CHECKED real posts (@人民日报), CED source posts not used as groups, CHECKED
    fake posts whose claim is not in any group, and single reposts/comments
    taken from unused threads -- at most ONE item per thread/claim, so that no
    two distractors come from the same thread.
  * A candidate is dropped if it shares >= 2 "signature" words (jieba words
    with df <= SIG_MAX_DF, i.e. in <= ~0.5% of source posts) with any single
    member text of any gold group (it might be about that incident) and, among distractors, if it
    shares >= 3 signature words or has char-3gram Jaccard >= 0.5 with an
    already accepted distractor (possible same-incident pair).
  * Time-local check: a candidate dated within +-WINDOW_DAYS of a group's
    member time span is dropped if it shares ANY word of df <= WINDOW_MAX_DF
    with that group's core (CED source post, or the claims quoted in the
    CHECKED verdicts). This removes e.g. other users' posts about the same
    2014 celebrity scandal that sit in other CED threads.

Only byte-identical texts are de-duplicated. Everything is deterministic
(SEED). Requires: jieba (tested with 0.42.1).
"""

import collections
import datetime as dt
import hashlib
import json
import os
import random
import re
import sys

import jieba
from gitdata import git_blobs, head_commit

jieba.setLogLevel(60)

CED_GIT = os.environ.get("CED_GIT", "/work/.mirror/thunlp+Chinese_Rumor_Dataset/repo")
CHK_GIT = os.environ.get("CHK_GIT", "/work/.mirror/cyang03+CHECKED/repo")
# The data may not be redistributed (see the README): it is written outside the repository.
EVAL_DIR = os.environ.get("YUQING_EVAL_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "eval"))
OUT = os.environ.get("OUT", os.path.join(EVAL_DIR, "grouping.jsonl"))
SEED = 20240611
ANCHOR_MAX_DF = 15
SIG_MAX_DF = 30  # looser "signature" words used only to keep distractors away from groups
WINDOW_MAX_DF = 100  # words for the time-local check
WINDOW_DAYS = 30
N_CED_GROUPS = 26
CED_MAX_REACTIONS = 8
CHK_MAX_POSTS = 8
CHK_MAX_VERDICTS = 2
CHK_MAX_REACTIONS = 4
DISTRACTOR_RATIO = 2.5

TZ8 = dt.timezone(dt.timedelta(hours=8))

# Debunk-URL keys that denote the same claim (decided by reading the quoted
# claims in the verdicts; see grouping.README.md). Each tuple is merged.
MANUAL_MERGE = [
    # "女的在家里喷洒酒精消毒，男的在厨房做饭，家里就爆炸了" (three debunk URLs)
    ("weibo.com/1973743580/IsEuVhOr0", "weibo.com/3217343880/It7o2cGCz", "weibo.com/3217343880/IsuWzsBto"),
    # Harbin lock-down rumour, April 2020
    ("weibo.com/6590980486/IDs4Rkdjn", "weibo.com/6525943125/IDJNHnrO7"),
    # school-reopening / "3月16日居民出行正常化" template rumour (also posted for 长春)
    ("weibo.com/6525943125/IvdThB8Vb", "weibo.com/3270346463/IuVm7tsH2"),
]
# Fake posts whose `analysis` is empty, assigned by reading the text.
MANUAL_ASSIGN = {
    # "孙悦陈露携全家美国度假 ... 无法回国" = claim debunked in IDzTbtZDz
    "3f179adcf085ad826664f922021fade4": "weibo.com/6814464850/IDzTbtZDz",
}


# ------------------------------------------------------------------- helpers
def iso_from_min(s):  # '2020-03-21 06:27'
    try:
        return dt.datetime.strptime(s.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=TZ8).isoformat()
    except Exception:
        return None


def iso_from_sec(s):  # '2012-09-16 15:05:11'
    try:
        return dt.datetime.strptime(s.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=TZ8).isoformat()
    except Exception:
        return None


def iso_from_ts(ts):
    try:
        return dt.datetime.fromtimestamp(int(ts), TZ8).isoformat()
    except Exception:
        return None


def hid(*parts):
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


_WORD_OK = re.compile(r"[\u4e00-\u9fff]")


_NOISE = [
    re.compile(r"#[^#]{1,40}#"),  # hashtags
    re.compile(r"L[^\s]{1,30}?的(?:微博|秒拍|美拍)?视频"),  # "L<user>的微博视频" video cards
    re.compile(r"//@[^:：\s]{1,30}[:：]?"),  # repost chain markers
    re.compile(r"回复@[^:：\s]{1,30}[:：]?"),
    re.compile(r"@[^\s:：,，。@]{1,30}"),  # mentions
    re.compile(r"https?://\S+"),
]


def anchor_view(text):
    """Text with hashtags, user names, mentions and URLs removed (used only for anchor words)."""
    for rx in _NOISE:
        text = rx.sub(" ", text)
    return text


def words(text):
    return {w for w in jieba.lcut(anchor_view(text)) if len(w) >= 2 and _WORD_OK.search(w)}


def char3(text):
    t = re.sub(r"\s+", "", text)
    return {t[i : i + 3] for i in range(max(0, len(t) - 2))}


def jacc(a, b):
    return len(a & b) / max(1, len(a | b))


QUOTE_RE = re.compile(r"[“\"]([^”\"]{2,80})[”\"]")
URL_RE = re.compile(r"https?://[A-Za-z0-9./_?=&%#:-]+")


def verdict_key(analysis):
    us = [u.rstrip(".,") for u in URL_RE.findall(analysis or "") if "service.account" not in u]
    us = sorted({re.sub(r"^https?://", "", u) for u in us})
    return tuple(us)


CUT_MARKS = ["被举报人言论", "被投诉人言论", "被举报人发布", "被投诉人发布", "现根据《", "根据《微博"]


def trim_verdict(a):
    a = (a or "").strip()
    cuts = [a.find(m) for m in CUT_MARKS if a.find(m) > 0]
    if cuts:
        a = a[: min(cuts)]
    return a.rstrip("，,。 ;；\u3000")


def clean_reaction(t):
    t = (t or "").strip()
    if t.startswith("："):  # CHECKED comment texts start with a bare '：'
        t = t[1:].strip()
    return t


BORING = {"转发微博", "快转微博", "轉發微博", "Repost", "repost"}


# ---------------------------------------------------------------------- load
def load_checked():
    fake, real = [], []
    for path, data in git_blobs(CHK_GIT, "dataset"):
        if not path.endswith(".json") or ("/fake_news/" not in path and "/real_news/" not in path):
            continue
        d = json.loads(data)
        d["_path"] = path
        (fake if "/fake_news/" in path else real).append(d)
    return fake, real


def load_ced():
    orig, reposts = {}, {}
    for path, data in git_blobs(CED_GIT, "CED_Dataset"):
        if not path.endswith(".json") or "/._" in path:
            continue
        base = os.path.basename(path)
        d = json.loads(data)
        if "/original-microblog/" in path:
            d["_path"] = path
            orig[base] = d
        else:
            reposts[base] = (path, d)
    return orig, reposts


def main():
    rnd = random.Random(SEED)
    fake, real = load_checked()
    ced_orig, ced_rep = load_ced()
    print(f"CHECKED fake={len(fake)} real={len(real)}; CED originals={len(ced_orig)} threads={len(ced_rep)}", file=sys.stderr)

    # document frequencies over all source posts
    df = collections.Counter()
    wcache = {}

    def W(t):
        if t not in wcache:
            wcache[t] = words(t)
        return wcache[t]

    for d in fake + real:
        df.update(W(d["text"]))
    for d in ced_orig.values():
        df.update(W(d["text"]))

    def anchors(t):
        return {w for w in W(t) if df[w] <= ANCHOR_MAX_DF}

    def sig(t):
        return {w for w in W(t) if df[w] <= SIG_MAX_DF}

    def sig2(t):
        return {w for w in W(t) if df[w] <= WINDOW_MAX_DF}

    rows = []
    seen_text = set()

    def add(row):
        if row["text"] in seen_text or not row["text"].strip():
            return False
        seen_text.add(row["text"])
        rows.append(row)
        return True

    # ------------------------------------------------ CHECKED groups
    parent = {}

    def find(k):
        while parent.setdefault(k, k) != k:
            k = parent[k]
        return k

    by_key = collections.defaultdict(list)
    for d in fake:
        k = verdict_key(d.get("analysis"))
        if not k and d["id"] in MANUAL_ASSIGN:
            k = (MANUAL_ASSIGN[d["id"]],)
        by_key[k].append(d)
    url_to_key = {}
    for k in by_key:
        for u in k:
            url_to_key.setdefault(u, k)
    for tup in MANUAL_MERGE:
        ks = [url_to_key[u] for u in tup if u in url_to_key]
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    merged = collections.defaultdict(list)
    for k, ds in by_key.items():
        if not k:  # verdict without any URL: keep each post on its own
            for d in ds:
                merged[("nokey", d["id"])].append(d)
            continue
        merged[find(k)].extend(ds)

    group_anchor = {}
    chk_groups, chk_single = [], []
    for k in sorted(merged, key=str):
        ds = sorted(merged[k], key=lambda d: (d.get("date", ""), d["id"]))
        if len({d["text"] for d in ds}) >= 2:
            chk_groups.append((k, ds))
        else:
            chk_single.append((k, ds))

    used_threads = set()
    for k, ds in chk_groups:
        gid = "chk-" + hid(str(k))
        anc = set()
        n_posts = 0
        for d in ds:
            anc |= anchors(d["text"])
            if n_posts < CHK_MAX_POSTS and add(
                {
                    "id": "chkf-" + d["id"][:12],
                    "group": gid,
                    "text": d["text"].strip(),
                    "time": iso_from_min(d.get("date", "")),
                    "source": f"cyang03/CHECKED:{d['_path']}#text",
                    "kind": "claim_post",
                }
            ):
                n_posts += 1
            used_threads.add(("chk", d["id"]))
        n_v = 0
        for d in ds:
            v = trim_verdict(d.get("analysis"))
            if (
                v
                and n_v < CHK_MAX_VERDICTS
                and add(
                    {
                        "id": "chkv-" + d["id"][:12],
                        "group": gid,
                        "text": v,
                        "time": None,
                        "source": f"cyang03/CHECKED:{d['_path']}#analysis",
                        "kind": "verdict",
                        # the service's notice is about this post ("经查，此微博称…") and links it
                        "parent": "chkf-" + d["id"][:12],
                    }
                )
            ):
                n_v += 1
        cands = []
        for d in ds:
            for fld in ("comments", "reposts"):
                for c in d.get(fld) or []:
                    t = clean_reaction(c.get("text"))
                    if len(t) >= 12 and t not in BORING and anchors(t) & anc:
                        cands.append((d, fld, c, t))
        rnd.shuffle(cands)
        n_r = 0
        for d, fld, c, t in cands:
            if n_r >= CHK_MAX_REACTIONS:
                break
            if add(
                {
                    "id": "chkr-" + c["id"][:12],
                    "group": gid,
                    "text": t,
                    "time": iso_from_min(c.get("date", "")),
                    "source": f"cyang03/CHECKED:{d['_path']}#{fld}/{c['id']}",
                    "kind": "reaction",
                    "parent": "chkf-" + d["id"][:12],
                }
            ):
                n_r += 1
        group_anchor[gid] = anc

    # ------------------------------------------------ CED groups
    ced_cands = []
    for base in sorted(ced_orig):
        if base not in ced_rep:
            continue
        o = ced_orig[base]
        anc = anchors(o["text"])
        if not anc:
            continue
        path, reps = ced_rep[base]
        good, seen = [], set()
        for r in reps:
            t = (r.get("text") or "").strip()
            if len(t) >= 15 and t not in seen and t != o["text"].strip() and anchors(t) & anc:
                seen.add(t)
                good.append(r)
        if len(good) >= 4:
            ced_cands.append((base, anc, path, good))
    rnd.shuffle(ced_cands)
    n_ced = 0
    for base, anc, path, good in ced_cands:
        if n_ced >= N_CED_GROUPS:
            break
        # keep CED groups about distinct incidents
        if any(len(anc & ga) >= 2 for ga in group_anchor.values()):
            continue
        o = ced_orig[base]
        gid = "ced-" + base.split("_")[1]
        label = "rumor" if "/rumor-repost/" in path else "non-rumor"
        if not add(
            {
                "id": "cedo-" + base.split("_")[1],
                "group": gid,
                "text": o["text"].strip(),
                "time": iso_from_ts(o.get("time")),
                "source": f"thunlp/Chinese_Rumor_Dataset:{o['_path']} ({label})",
                "kind": "original",
            }
        ):
            continue
        rnd.shuffle(good)
        k = 0
        for r in good:
            if k >= CED_MAX_REACTIONS:
                break
            if add(
                {
                    "id": "cedr-" + r["mid"],
                    "group": gid,
                    "text": r["text"].strip(),
                    "time": iso_from_sec(r.get("date", "")),
                    "source": f"thunlp/Chinese_Rumor_Dataset:{path}#{r['mid']}",
                    "kind": "reaction",
                    "parent": "cedo-" + base.split("_")[1],
                }
            ):
                k += 1
        group_anchor[gid] = anc | set().union(*[anchors(r["text"]) for r in good[:k]]) if k else anc
        used_threads.add(("ced", base))
        n_ced += 1

    n_group_rows = len(rows)

    # ------------------------------------------------ distractors
    pool = []  # (thread key, row)
    for d in real:
        pool.append(
            (
                ("chkreal", d["id"]),
                {
                    "id": "chkn-" + d["id"][:12],
                    "group": None,
                    "text": d["text"].strip(),
                    "time": iso_from_min(d.get("date", "")),
                    "source": f"cyang03/CHECKED:{d['_path']}#text (real, @人民日报)",
                    "kind": "distractor_post",
                },
            )
        )
    for _k, ds in chk_single:
        d = ds[0]
        pool.append(
            (
                ("chk", d["id"]),
                {
                    "id": "chkf-" + d["id"][:12],
                    "group": None,
                    "text": d["text"].strip(),
                    "time": iso_from_min(d.get("date", "")),
                    "source": f"cyang03/CHECKED:{d['_path']}#text (fake)",
                    "kind": "distractor_post",
                },
            )
        )
    for base in sorted(ced_orig):
        if ("ced", base) in used_threads:
            continue
        o = ced_orig[base]
        label = "rumor" if base in ced_rep and "/rumor-repost/" in ced_rep[base][0] else "non-rumor"
        pool.append(
            (
                ("ced", base),
                {
                    "id": "cedo-" + base.split("_")[1],
                    "group": None,
                    "text": o["text"].strip(),
                    "time": iso_from_ts(o.get("time")),
                    "source": f"thunlp/Chinese_Rumor_Dataset:{o['_path']} ({label})",
                    "kind": "distractor_post",
                },
            )
        )
    # single reactions from unused threads (a thread gives either its source post or one reaction)
    react_pool = []
    for base in sorted(ced_rep):
        if ("ced", base) in used_threads:
            continue
        path, reps = ced_rep[base]
        ok = [r for r in reps if len((r.get("text") or "").strip()) >= 15]
        if ok:
            r = ok[rnd.randrange(len(ok))]
            react_pool.append(
                (
                    ("ced", base),
                    {
                        "id": "cedr-" + r["mid"],
                        "group": None,
                        "text": r["text"].strip(),
                        "time": iso_from_sec(r.get("date", "")),
                        "source": f"thunlp/Chinese_Rumor_Dataset:{path}#{r['mid']}",
                        "kind": "distractor_reaction",
                        "parent": "cedo-" + base.split("_")[1],
                    },
                )
            )
    for _k, ds in chk_single:
        d = ds[0]
        ok = []
        for fld in ("comments", "reposts"):
            ok += [
                (fld, c)
                for c in d.get(fld) or []
                if len(clean_reaction(c.get("text"))) >= 12 and clean_reaction(c.get("text")) not in BORING
            ]
        if ok:
            fld, c = ok[rnd.randrange(len(ok))]
            react_pool.append(
                (
                    ("chk", d["id"]),
                    {
                        "id": "chkr-" + c["id"][:12],
                        "group": None,
                        "text": clean_reaction(c["text"]),
                        "time": iso_from_min(c.get("date", "")),
                        "source": f"cyang03/CHECKED:{d['_path']}#{fld}/{c['id']}",
                        "kind": "distractor_reaction",
                        "parent": "chkf-" + d["id"][:12],
                    },
                )
            )

    target = int(DISTRACTOR_RATIO * n_group_rows)
    n_react_target = target // 4
    rnd.shuffle(pool)
    rnd.shuffle(react_pool)
    # interleave: ~1/4 reactions, 3/4 source posts
    ordered = []
    ri = 0
    for i, item in enumerate(pool):
        ordered.append(item)
        if i % 3 == 2 and ri < len(react_pool) and ri < n_react_target:
            ordered.append(react_pool[ri])
            ri += 1
    member_sigs = [s for s in (sig(r["text"]) for r in rows) if len(s) >= 2]
    # time-local check: per group, the "core" (CED source post / verdict-quoted
    # claims) and the member time span +- WINDOW_DAYS
    core_txt = collections.defaultdict(list)
    span = {}
    for r in rows:
        g = r["group"]
        if r["kind"] == "original":
            core_txt[g].append(r["text"])
        elif r["kind"] == "verdict":
            core_txt[g] += QUOTE_RE.findall(r["text"])
        if r["time"]:
            t = dt.datetime.fromisoformat(r["time"])
            lo, hi = span.get(g, (t, t))
            span[g] = (min(lo, t), max(hi, t))
    core_sig = [
        (
            span[g][0] - dt.timedelta(days=WINDOW_DAYS),
            span[g][1] + dt.timedelta(days=WINDOW_DAYS),
            set().union(*[sig2(t) for t in ts]),
        )
        for g, ts in core_txt.items()
        if g in span
    ]
    taken_threads = set()
    acc_anchor, acc_c3 = [], []
    dropped_group, dropped_dup, dropped_window = 0, 0, 0
    n_d = 0
    for tk, row in ordered:
        if n_d >= target:
            break
        if tk in taken_threads or len(row["text"]) < 5:
            continue
        a = sig(row["text"])
        if any(len(a & ms) >= 2 for ms in member_sigs):
            dropped_group += 1
            continue
        if row["time"]:
            t = dt.datetime.fromisoformat(row["time"])
            a2 = sig2(row["text"])
            if any(lo <= t <= hi and a2 & cs for lo, hi, cs in core_sig):
                dropped_window += 1
                continue
        c3 = char3(row["text"])
        if any(len(a & b) >= 3 for b in acc_anchor) or any(jacc(c3, b) >= 0.5 for b in acc_c3):
            dropped_dup += 1
            continue
        if add(row):
            taken_threads.add(tk)
            acc_anchor.append(a)
            acc_c3.append(c3)
            n_d += 1

    os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)

    with open(OUT, "w", encoding="utf-8") as f:
        for r in rows:
            # Every row names its parent (null for posts), so readers see one shape.
            f.write(json.dumps({**r, "parent": r.get("parent")}, ensure_ascii=False) + "\n")

    gsize = collections.Counter(r["group"] for r in rows if r["group"])
    kinds = collections.Counter(r["kind"] for r in rows)
    print(
        json.dumps(
            {
                "rows": len(rows),
                "groups": len(gsize),
                "group_rows": n_group_rows,
                "groups_checked": sum(1 for g in gsize if g.startswith("chk-")),
                "groups_ced": sum(1 for g in gsize if g.startswith("ced-")),
                "min_group_size": min(gsize.values()),
                "max_group_size": max(gsize.values()),
                "distractors": n_d,
                "distractors_dropped_overlap_with_group": dropped_group,
                "distractors_dropped_possible_same_incident": dropped_dup,
                "distractors_dropped_same_window_shared_core_word": dropped_window,
                "kinds": kinds,
                "ced_commit": head_commit(CED_GIT),
                "checked_commit": head_commit(CHK_GIT),
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
