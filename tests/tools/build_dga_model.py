#!/usr/bin/env python3
"""Builds the benign name corpora and the lexical DGA model.

Corpus: every host name in http(s) URLs and every e-mail domain found in the
documentation and library files of a Debian system (/usr/share, the Python 3
library), reduced to registered domains with the ICANN section of the Public
Suffix List (Debian package `publicsuffix`). Each registered domain goes to
the TRAINING or the EVALUATION half by the first byte of its SHA-1, so the two
halves are disjoint and the split does not depend on file order.

Outputs (run from anywhere; paths are relative to the repository):
  tests/data/dga/benign_train.list  training registered domains (one a line)
  tests/data/dga/benign_eval.txt    evaluation registered domains
  src/detect/dga_model_data.cc      character n-gram counts + decision threshold

Usage: tests/tools/build_dga_model.py [--collect]
  --collect  re-scan the system for names (else reuse the two lists above).

The model and threshold are described in docs/findings/dns.md (dns.dga).
"""

import hashlib
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dns_names import registered_domain  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data", "dga")
OUT_CC = os.path.join(ROOT, "src", "detect", "dga_model_data.cc")
SCAN_DIRS = ["/usr/share", "/usr/lib/python3"]

ALPHABET = "^$abcdefghijklmnopqrstuvwxyz0123456789-"
V = len(ALPHABET)
# Benign training labels at or above the model's score at this quantile are
# the false positives we accept by construction.
BENIGN_QUANTILE = 0.985
MIN_LENGTH = 7


def collect():
    hosts = set()
    url = re.compile(rb"https?://([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
    mail = re.compile(rb"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
    for d in SCAN_DIRS:
        for pat in (url, mail):
            res = subprocess.run(["grep", "-rhoIE", pat.pattern.decode(), d], capture_output=True)
            for m in pat.finditer(res.stdout):
                hosts.add(m.group(1).decode("ascii", "replace").lower())
    regs = set()
    for h in hosts:
        if not re.fullmatch(r"[a-z0-9.-]+", h) or ".." in h:
            continue
        rd = registered_domain(h)
        if rd and not rd.startswith("-") and not rd.split(".")[0].isdigit():
            regs.add(rd)
    train, evals = [], []
    for rd in sorted(regs):
        (train if hashlib.sha1(rd.encode()).digest()[0] % 2 == 0 else evals).append(rd)
    with open(os.path.join(DATA, "benign_train.list"), "w") as f:
        f.write("".join(r + "\n" for r in train))
    with open(os.path.join(DATA, "benign_eval.txt"), "w") as f:
        f.write("# Benign evaluation set: registered domains from URLs and e-mail addresses in Debian's\n"
                "# /usr/share and Python library files (tests/tools/build_dga_model.py --collect);\n"
                "# disjoint from benign_train.list (split by SHA-1).\n")
        f.write("".join(r + "\n" for r in evals))


def read_list(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def idx(c):
    i = ALPHABET.find(c)
    return i if i >= 2 else ALPHABET.index("-")


def train_counts(labels):
    uni = [0] * V
    bi = [0] * (V * V)
    tri = {}
    for lab in labels:
        s = [0, 0] + [idx(c) for c in lab] + [1]
        for k in range(2, len(s)):
            a, b, c = s[k - 2], s[k - 1], s[k]
            uni[c] += 1
            bi[b * V + c] += 1
            key = (a * V + b) * V + c
            tri[key] = tri.get(key, 0) + 1
    return uni, bi, tri


class Model:
    # Mirrors src/detect/dga_model.cc (score_label): keep the two in step.
    L3, L2, L1 = 0.6, 0.3, 0.1

    def __init__(self, uni, bi, tri):
        self.uni, self.bi, self.tri = uni, bi, tri
        self.total = sum(uni)
        self.bictx = [0] * V  # count of bigrams starting with b
        for b in range(V):
            self.bictx[b] = sum(bi[b * V:(b + 1) * V])
        self.trictx = {}
        for key, n in tri.items():
            self.trictx[key // V] = self.trictx.get(key // V, 0) + n

    def bits(self, lab):
        s = [0, 0] + [idx(c) for c in lab] + [1]
        tot = 0.0
        for k in range(2, len(s)):
            a, b, c = s[k - 2], s[k - 1], s[k]
            p1 = (self.uni[c] + 1) / (self.total + V)
            p2 = self.bi[b * V + c] / self.bictx[b] if self.bictx[b] else 0.0
            ctx = self.trictx.get(a * V + b, 0)
            p3 = self.tri.get((a * V + b) * V + c, 0) / ctx if ctx else 0.0
            tot -= math.log2(self.L3 * p3 + self.L2 * p2 + self.L1 * p1)
        return tot / (len(s) - 2)


def features(model, lab):
    vowels = set("aeiouy")
    run = best = 0
    for c in lab:
        if c.isalpha() and c not in vowels:
            run += 1
            best = max(best, run)
        else:
            run = 0
    digits = sum(c.isdigit() for c in lab)
    return model.bits(lab), best, digits / max(1, len(lab))


def candidate(lab):
    # Labels the model judges: long enough, and not IDNA (punycode is
    # random-looking by design).
    return len(lab) >= MIN_LENGTH and not lab.startswith("xn--")


def score(model, lab):
    # Same formula as dga_model.cc: bits per character, plus a penalty for
    # consonant runs longer than 4 and for digits mixed with letters.
    b, run, dr = features(model, lab)
    s = b + 0.25 * max(0, run - 4)
    if 0 < dr < 1:
        s += 1.0 * dr
    return s


def main():
    if "--collect" in sys.argv:
        collect()
    train = read_list(os.path.join(DATA, "benign_train.list"))
    labels = []
    for rd in train:
        lab = rd.split(".")[0]
        labels.append(lab)
    uni, bi, tri = train_counts(labels)
    model = Model(uni, bi, tri)
    min_len = MIN_LENGTH
    # Threshold from held-out scores: each training label is scored by the
    # model trained on all the others (leave-one-out), so the quantile is not
    # flattered by the model having memorised the label.
    scores = []
    for lab in labels:
        if not candidate(lab):
            continue
        u1, b1, t1 = train_counts([lab])
        loo = Model([x - y for x, y in zip(uni, u1)], [x - y for x, y in zip(bi, b1)],
                    {k: n - t1.get(k, 0) for k, n in tri.items() if n - t1.get(k, 0) > 0})
        scores.append(score(loo, lab))
    scores.sort()
    threshold = scores[min(len(scores) - 1, int(len(scores) * BENIGN_QUANTILE))]
    threshold = math.ceil(threshold * 100) / 100
    with open(OUT_CC, "w") as f:
        f.write("// Generated by tests/tools/build_dga_model.py from tests/data/dga/benign_train.list\n"
                f"// ({len(train)} registered domains). Do not edit; re-run the script.\n")
        f.write('#include "detect/dga_model.h"\n\nnamespace trawl::detect::dga_data {\n\n')
        f.write(f"const double kThreshold = {threshold:.2f};\n")
        f.write(f"const size_t kMinLength = {min_len};\n")
        f.write("const uint32_t kUnigram[kAlphabetSize] = {" + ",".join(map(str, uni)) + "};\n")
        f.write("const uint32_t kBigram[kAlphabetSize * kAlphabetSize] = {\n")
        for b in range(V):
            f.write("    " + ",".join(map(str, bi[b * V:(b + 1) * V])) + ",\n")
        f.write("};\n")
        f.write(f"const size_t kTrigramCount = {len(tri)};\n")
        f.write("const NgramCount kTrigrams[] = {\n")
        items = sorted(tri.items())
        for k in range(0, len(items), 8):
            f.write("    " + "".join(f"{{{key},{n}}}," for key, n in items[k:k + 8]) + "\n")
        f.write("};\n\n}  // namespace trawl::detect::dga_data\n")
    # Evaluation preview (the unit test asserts the floors).
    evals = read_list(os.path.join(DATA, "benign_eval.txt"))
    fp = [e for e in evals if candidate(e.split(".")[0]) and score(model, e.split(".")[0]) >= threshold]
    print(f"train {len(train)} eval {len(evals)} threshold {threshold:.2f} benign FP {len(fp)}: {fp[:30]}")
    for fn in sorted(os.listdir(DATA)):
        if fn.startswith("dga_"):
            names = read_list(os.path.join(DATA, fn))
            hit = 0
            for n in names:
                lab = registered_domain(n).split(".")[0]
                if candidate(lab) and score(model, lab) >= threshold:
                    hit += 1
            print(f"{fn}: {hit}/{len(names)} = {hit / len(names):.3f}")


if __name__ == "__main__":
    main()
