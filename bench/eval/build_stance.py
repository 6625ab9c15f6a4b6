#!/usr/bin/env python3
"""Build $YUQING_EVAL_DIR/ (default: ../eval beside the checkout) stance.jsonl (stance / item-type eval set).

Labels come from two kinds of evidence, recorded per row in `labelled_by`:

  "dataset"  -- the label follows from how the public dataset defines the item:
     rumour            CHECKED fake posts (judged 不实信息 by Weibo's
                       misinformation service) and CED rumour source posts
                       (from Weibo's 不实信息举报 platform).
     debunk            CHECKED `analysis` = the Weibo service's verdict text
                       ("经查，此微博称…不实，@央视新闻 已辟谣…"); the
                       moderation-penalty boilerplate after 被举报人言论… is cut.
     official_response 2020 泰迪杯 C题 附件4 `答复意见`: the government
                       department's published reply to a citizen message.
  "hand"     -- single-annotator labels assigned by reading each text (see
                stance.README.md for who labelled and the guideline); they live
                in stance_hand_labels.json keyed by source id.

source_role: "official" for government replies; "media" for @人民日报 posts and
CED posts whose author has Weibo verified_type 3 (media); "official" for CED
verified_type 1 (government); "public" for unverified / personal-verified /
达人 accounts (verified_type -1, 0, 200, 220) and for citizen messages on the
government message board; null where the dataset gives no author information
(CHECKED fake posts: author ids are hashed) or the author is another kind of
organisation (verified_type 2, 4-7, ...), and for the Weibo platform verdicts
(source_detail says so).

Requires: openpyxl (tested 3.1.x). Deterministic (SEED).
"""

import collections
import io
import json
import os
import random
import re
import sys
from pathlib import Path

import openpyxl
from gitdata import git_blobs, git_show, head_commit

CED_GIT = os.environ.get("CED_GIT", "/work/.mirror/thunlp+Chinese_Rumor_Dataset/repo")
CHK_GIT = os.environ.get("CHK_GIT", "/work/.mirror/cyang03+CHECKED/repo")
TDC_GIT = os.environ.get("TDC_GIT", "/work/.mirror/15625103741+Text-Mining/repo/.git")
HERE = os.path.dirname(os.path.abspath(__file__))
HAND = os.path.join(HERE, "stance_hand_labels.json")
# The data may not be redistributed (see the README): it is written outside the repository.
EVAL_DIR = os.environ.get("YUQING_EVAL_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "eval"))
OUT = os.environ.get("OUT", os.path.join(EVAL_DIR, "stance.jsonl"))
SEED = 20240612

N_CHK_RUMOUR = 100  # one fake post per distinct claim (debunk URL)
N_CED_RUMOUR = 100
N_DEBUNK = 100  # one verdict per distinct claim
N_GOV_REPLY = 120
N_HAND_MSG = 100  # 附件3 citizen messages, hand-labelled
N_HAND_RMRB = 100  # @人民日报 posts (CHECKED real), hand-labelled
# keyword-ENRICHED extra samples (pre-filter only decides what gets read; the
# label is still assigned by reading; class priors of these rows are distorted)
N_ENR_QUESTION = 40  # 附件3 messages whose title looks like a question / 咨询
N_ENR_RESOLUTION = 30  # @人民日报 posts mentioning 清零/出院/解封/恢复…
N_ENR_DEBUNK = 30  # @人民日报 posts mentioning 辟谣/谣言/不实/网传…
ENR_Q = re.compile(r"咨询|请问|吗[？?]|[？?]$|何时|什么时候|能否|可否|是否")
ENR_R = re.compile(r"清零|治愈出院|出院|解封|解除|恢复|复工|复课|开放|重启")
ENR_D = re.compile(r"辟谣|谣言|不实|假消息|网传|传言|造谣|澄清")

LABELS = {"complaint", "question", "rumour", "harm_report", "official_response", "debunk", "resolution", "positive", "other"}


URL_RE = re.compile(r"https?://[A-Za-z0-9./_?=&%#:-]+")
CUT_MARKS = ["被举报人言论", "被投诉人言论", "被举报人发布", "被投诉人发布", "现根据《", "根据《微博"]


def verdict_key(analysis):
    us = [u.rstrip(".,") for u in URL_RE.findall(analysis or "") if "service.account" not in u]
    return tuple(sorted({re.sub(r"^https?://", "", u) for u in us}))


def trim_verdict(a):
    a = (a or "").strip()
    cuts = [a.find(m) for m in CUT_MARKS if a.find(m) > 0]
    if cuts:
        a = a[: min(cuts)]
    return a.rstrip("，,。 ;；\u3000")


def clean_ws(t):
    return re.sub(r"[ \t\r\n\u3000]+", " ", str(t or "")).strip()


def role_from_verified_type(vt):
    if vt == 1:
        return "official"
    if vt == 3:
        return "media"
    if vt in (-1, 0, 200, 220):
        return "public"
    return None


def load_xlsx(gitdir, path):
    wb = openpyxl.load_workbook(io.BytesIO(git_show(gitdir, path)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    head = [str(h).strip() for h in rows[0]]
    return [dict(zip(head, r, strict=False)) for r in rows[1:]]


def hand_candidates(rnd, fj3, real):
    msgs = sorted(fj3, key=lambda r: str(r["留言编号"]))
    msgs = rnd.sample(msgs, N_HAND_MSG)
    rm = sorted(real, key=lambda d: d["id"])
    rm = rnd.sample(rm, N_HAND_RMRB)
    taken_m = {r["留言编号"] for r in msgs}
    taken_r = {d["id"] for d in rm}
    q = [
        r
        for r in sorted(fj3, key=lambda r: str(r["留言编号"]))
        if r["留言编号"] not in taken_m and ENR_Q.search(clean_ws(r["留言主题"]))
    ]
    q = rnd.sample(q, min(N_ENR_QUESTION, len(q)))
    res = [d for d in sorted(real, key=lambda d: d["id"]) if d["id"] not in taken_r and ENR_R.search(d["text"])]
    res = rnd.sample(res, min(N_ENR_RESOLUTION, len(res)))
    taken_r |= {d["id"] for d in res}
    deb = [d for d in sorted(real, key=lambda d: d["id"]) if d["id"] not in taken_r and ENR_D.search(d["text"])]
    deb = rnd.sample(deb, min(N_ENR_DEBUNK, len(deb)))
    out = []
    for r, sample in [(r, "random") for r in msgs] + [(r, "enriched:question") for r in q]:
        out.append(
            (
                "tdc3-" + str(r["留言编号"]),
                clean_ws(r["留言主题"]) + "。" + clean_ws(r["留言详情"]),
                "public",
                "15625103741/Text-Mining:data/附件3.xlsx#留言编号=" + str(r["留言编号"]),
                sample,
            )
        )
    for d, sample in (
        [(d, "random") for d in rm] + [(d, "enriched:resolution") for d in res] + [(d, "enriched:debunk") for d in deb]
    ):
        out.append(
            ("chkn-" + d["id"][:12], d["text"].strip(), "media", f"cyang03/CHECKED:{d['_path']}#text (real, @人民日报)", sample)
        )
    return out


def main():
    rnd = random.Random(SEED)
    fake, real = [], []
    for path, data in git_blobs(CHK_GIT, "dataset"):
        if path.endswith(".json") and ("/fake_news/" in path or "/real_news/" in path):
            d = json.loads(data)
            d["_path"] = path
            (fake if "/fake_news/" in path else real).append(d)
    ced_orig, ced_label = {}, {}
    for path, data in git_blobs(CED_GIT, "CED_Dataset"):
        if not path.endswith(".json") or "/._" in path:
            continue
        base = os.path.basename(path)
        if "/original-microblog/" in path:
            d = json.loads(data)
            d["_path"] = path
            ced_orig[base] = d
        elif "/rumor-repost/" in path:
            ced_label[base] = "rumor"
        elif "/non-rumor-repost/" in path:
            ced_label[base] = "non-rumor"
    fj3 = load_xlsx(TDC_GIT, "data/附件3.xlsx")
    fj4 = load_xlsx(TDC_GIT, "data/附件4.xlsx")
    print(f"CHECKED fake={len(fake)} real={len(real)} CED={len(ced_orig)} 附件3={len(fj3)} 附件4={len(fj4)}", file=sys.stderr)

    cands = hand_candidates(random.Random(SEED + 1), fj3, real)
    if "--dump-hand-candidates" in sys.argv:
        for cid, text, _role, _src, sample in cands:
            print(json.dumps({"id": cid, "sample": sample, "text": text[:400]}, ensure_ascii=False))
        return

    rows, seen = [], set()

    def add(row):
        if row["text"] in seen or not row["text"]:
            return
        seen.add(row["text"])
        rows.append(row)

    # ---- rumour: CHECKED fake, one per distinct claim key
    by_key = collections.defaultdict(list)
    for d in sorted(fake, key=lambda d: d["id"]):
        by_key[verdict_key(d.get("analysis")) or ("nokey", d["id"])].append(d)
    keys = sorted(by_key, key=str)
    rnd.shuffle(keys)
    for k in keys[:N_CHK_RUMOUR]:
        d = by_key[k][0]
        add(
            {
                "id": "chkf-" + d["id"][:12],
                "text": d["text"].strip(),
                "source_role": None,
                "label": "rumour",
                "labelled_by": "dataset",
                "source": f"cyang03/CHECKED:{d['_path']}#text (label=fake)",
            }
        )
    # ---- debunk: CHECKED verdicts, one per distinct claim key
    rnd.shuffle(keys)
    n = 0
    for k in keys:
        if n >= N_DEBUNK:
            break
        for d in by_key[k]:
            v = trim_verdict(d.get("analysis"))
            if v:
                add(
                    {
                        "id": "chkv-" + d["id"][:12],
                        "text": v,
                        "source_role": None,
                        "source_detail": "Weibo misinformation-service verdict (platform, not a government body)",
                        "label": "debunk",
                        "labelled_by": "dataset",
                        "source": f"cyang03/CHECKED:{d['_path']}#analysis",
                    }
                )
                n += 1
                break
    # ---- rumour: CED rumour source posts
    rum = sorted(b for b, label in ced_label.items() if label == "rumor" and b in ced_orig)
    for b in rnd.sample(rum, N_CED_RUMOUR):
        o = ced_orig[b]
        vt = o["user"].get("verified_type") if isinstance(o.get("user"), dict) else None
        add(
            {
                "id": "cedo-" + b.split("_")[1],
                "text": o["text"].strip(),
                "source_role": role_from_verified_type(vt),
                "verified_type": vt,
                "label": "rumour",
                "labelled_by": "dataset",
                "source": f"thunlp/Chinese_Rumor_Dataset:{o['_path']} (rumor)",
            }
        )
    # ---- official_response: government replies (附件4 答复意见)
    replies = [r for r in sorted(fj4, key=lambda r: str(r["留言编号"])) if clean_ws(r.get("答复意见"))]
    for r in rnd.sample(replies, N_GOV_REPLY):
        add(
            {
                "id": "tdc4r-" + str(r["留言编号"]),
                "text": clean_ws(r["答复意见"]),
                "source_role": "official",
                "label": "official_response",
                "labelled_by": "dataset",
                "label_note": "government reply to a citizen message; some replies also report that the "
                "problem was fixed (would fit 'resolution'); not separated",
                "source": "15625103741/Text-Mining:data/附件4.xlsx#留言编号=" + str(r["留言编号"]) + "/答复意见",
            }
        )
    # ---- hand-labelled rows
    hand = json.loads(Path(HAND).read_text(encoding="utf-8")) if os.path.exists(HAND) else {}
    missing = 0
    for cid, text, role, src, sample in cands:
        lab = hand.get(cid)
        if lab is None:
            missing += 1
            continue
        assert lab in LABELS, (cid, lab)
        add({"id": cid, "text": text, "source_role": role, "label": lab, "labelled_by": "hand", "sample": sample, "source": src})

    os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)

    with open(OUT, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    cnt = collections.Counter((r["label"], r["labelled_by"]) for r in rows)
    print(
        json.dumps(
            {
                "rows": len(rows),
                "hand_missing": missing,
                "by_label": {f"{k[0]}/{k[1]}": v for k, v in sorted(cnt.items())},
                "by_role": collections.Counter(str(r["source_role"]) for r in rows),
                "commits": {"ced": head_commit(CED_GIT), "checked": head_commit(CHK_GIT), "text_mining": head_commit(TDC_GIT)},
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
