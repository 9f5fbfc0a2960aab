#!/usr/bin/env python3
"""Writes the labelled DGA evaluation set tests/data/dga/dga_<family>.txt.

Each generator is our own implementation of a published domain generation
algorithm, written from the families' public descriptions (malware analysis
write-ups such as Johannes Bader's DGA articles, vendor reports on Conficker,
CryptoLocker, Necurs, Ramnit, GameOver Zeus, Pykspa, Qakbot and Banjori). They
reproduce each family's structure -- seeding (date, hard-coded seed or seed
domain), the pseudo-random generator's shape, the length range, the alphabet
and the TLD list -- which is what a lexical detector sees. They are not
byte-for-byte replicas of the malware and must not be used as blocklists.

Every output line is "name # family=F seed=S date=D index=I", so any name can
be regenerated. Usage: tests/tools/make_dga_set.py [OUTDIR] (default
tests/data/dga next to this script).
"""

import datetime
import hashlib
import os
import sys

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
PER_FAMILY = 200


def cryptolocker(date, seed, count):
    # Day, month and year are scrambled with shift/xor steps each round; the
    # label is 12-15 letters; TLDs rotate over seven.
    tlds = ["com", "net", "biz", "ru", "org", "co.uk", "info"]
    d, m, y = date.day, date.month, date.year
    out = []
    for i in range(count):
        d0, m0, y0 = d, m, y
        d0 = (d0 + (seed & 0xFF) + i) & M32
        m0 = (m0 + ((seed >> 8) & 0xFF)) & M32
        y0 = (y0 + i) & M32
        length = ((y0 ^ m0 ^ d0) % 4) + 12
        label = []
        for _ in range(length):
            y0 = (((y0 & 0xFFFFFFF0) << 17) ^ ((y0 ^ (y0 << 3)) & M32) >> 8) & M32
            m0 = (((m0 & 0xFFFFFFFE) << 4) ^ ((m0 ^ (m0 << 2)) & M32) >> 4) & M32
            d0 = (((d0 & 0xFFFFFFF0) << 10) ^ ((d0 ^ (d0 << 11)) & M32) >> 7) & M32
            label.append(chr(ord("a") + (y0 ^ m0 ^ d0) % 25))
        out.append(("".join(label) + "." + tlds[i % len(tlds)], i))
    return out


def ramnit(date, seed, count):
    # Park-Miller minimal-standard generator from a hard-coded 32-bit seed;
    # label length 8-19, letters a-y, .com.
    del date
    out = []
    s = seed
    for i in range(count):
        def rnd(x, st):
            st = (16807 * (st % 127773) - 2836 * (st // 127773)) & M32
            return st, st % x
        s, ln = rnd(12, s)
        ln += 8
        cur = s
        label = []
        for _ in range(ln):
            cur, c = rnd(25, cur)
            label.append(chr(ord("a") + c))
        s = (s * cur) & M32 or 1
        out.append(("".join(label) + ".com", i))
    return out


def banjori(date, seed_domain, count):
    # Each domain changes only the first four letters of the previous one by
    # arithmetic on letter positions; the long tail of the seed domain stays.
    del date
    def mapc(a, b):
        return chr((ord(a) - 97 + ord(b) - 97) % 25 + 97)
    dom = seed_domain
    out = []
    for i in range(count):
        d = list(dom)
        d[0] = mapc(d[0], d[3])
        d[1] = mapc(d[1], d[0])
        d[2] = mapc(d[2], d[0])
        d[3] = mapc(d[3], d[1])
        dom = "".join(d)
        out.append((dom, i))
    return out


def _mix64(x):
    x = (x ^ (x >> 33)) * 0xFF51AFD7ED558CCD & M64
    x = (x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53 & M64
    return x ^ (x >> 33)


def necurs(date, seed, count):
    # 64-bit mixing of (seed, days-since-epoch / 4, index); label length
    # 7-21 letters; 43 TLDs in the original (a subset here).
    tlds = ["tj", "in", "jp", "tw", "ac", "cm", "la", "mn", "so", "sh", "sc", "nu", "nf", "mu", "ms", "mx",
            "ki", "im", "cx", "cc", "tv", "bz", "me", "eu", "de", "ru", "co", "su", "pw", "kz", "sx", "us",
            "ug", "ir", "to", "ga", "com", "net", "org", "biz", "xxx", "pro", "bit"]
    period = (date - datetime.date(1970, 1, 1)).days // 4
    out = []
    for i in range(count):
        n = _mix64((seed << 32) ^ (period << 8) ^ i)
        ln = 7 + n % 15
        label = []
        for _ in range(ln):
            n = _mix64(n + 0x9E3779B97F4A7C15 & M64)
            label.append(chr(ord("a") + n % 25))
        n = _mix64(n ^ 0xABCDEF)
        out.append(("".join(label) + "." + tlds[n % len(tlds)], i))
    return out


def murofet(date, seed, count):
    # GameOver Zeus / Murofet style: MD5 over (year, month, day, index, key);
    # each digest byte gives one or two letters; label 16-32 characters.
    tlds = ["ru", "biz", "info", "org", "net", "com"]
    out = []
    for i in range(count):
        data = bytes([date.year & 0xFF, date.year >> 8, date.month, date.day]) + i.to_bytes(4, "little") + \
            seed.to_bytes(4, "little")
        h = hashlib.md5(data).digest()
        label = []
        for b in h:
            label.append(chr(ord("a") + (b & 0x1F) % 26))
            if (b >> 5) & 1 and len(label) < 32:
                label.append(chr(ord("a") + (b >> 3) % 26))
        while len(label) < 16:
            h = hashlib.md5(h).digest()
            label.append(chr(ord("a") + h[0] % 26))
        out.append(("".join(label[:32]) + "." + tlds[i % len(tlds)], i))
    return out


def pykspa(date, seed, count):
    # Seed from the date (days since epoch / 2) and a family constant; a
    # 32-bit LCG picks the length (6-12) and each letter; five TLDs.
    tlds = ["com", "net", "org", "info", "cc"]
    s = ((date - datetime.date(1970, 1, 1)).days // 2 * 0x2F1 + seed) & M32
    out = []
    for i in range(count):
        s = (s * 1103515245 + 12345) & M32
        ln = 6 + (s >> 16) % 7
        label = []
        for _ in range(ln):
            s = (s * 1103515245 + 12345) & M32
            label.append(chr(ord("a") + (s >> 16) % 26))
        s = (s * 1103515245 + 12345) & M32
        out.append(("".join(label) + "." + tlds[(s >> 16) % 5], i))
    return out


def qakbot(date, seed, count):
    # Seed from the date rounded to a 10-day period and a family salt, hashed
    # (CRC32 then a Mersenne-Twister in the original; SHA-256 stream here);
    # label 8-25 letters; six TLDs.
    tlds = ["com", "net", "org", "info", "biz", "org"]
    period = date.replace(day=min(date.day // 10 * 10 + 1, 28))
    out = []
    for i in range(count):
        stream = hashlib.sha256(f"{period.isoformat()}:{seed}:{i}".encode()).digest()
        ln = 8 + stream[0] % 18
        label = [chr(ord("a") + stream[1 + k % 31] * (k + 1) % 26) for k in range(ln)]
        out.append(("".join(label) + "." + tlds[stream[31] % 6], i))
    return out


def conficker(date, seed, count):
    # Conficker.C style: a date-seeded generator, labels 4-9 letters over
    # 110 TLDs (a subset here).
    tlds = ["com", "net", "org", "info", "biz", "ws", "cn", "cc", "ag", "am", "at", "be", "bz", "ca", "ch",
            "cl", "com.br", "com.cn", "de", "dk", "es", "eu", "fr", "gs", "hn", "ht", "it", "jp", "kz", "la"]
    s = ((date.year * 10000 + date.month * 100 + date.day) ^ seed) & M64
    out = []
    for i in range(count):
        s = _mix64(s + i + 1)
        ln = 4 + s % 6
        label = []
        for _ in range(ln):
            s = _mix64(s)
            label.append(chr(ord("a") + s % 26))
        s = _mix64(s)
        out.append(("".join(label) + "." + tlds[s % len(tlds)], i))
    return out


FAMILIES = [
    # (family, generator, seed, date)
    ("banjori", banjori, "earnestnessbiophysicalohax.com", datetime.date(2015, 3, 1)),
    ("conficker", conficker, 0x434F4E46, datetime.date(2009, 4, 1)),
    ("cryptolocker", cryptolocker, 0x1F2E, datetime.date(2013, 11, 5)),
    ("murofet", murofet, 0x5A3E11C7, datetime.date(2014, 6, 2)),
    ("necurs", necurs, 9, datetime.date(2016, 5, 12)),
    ("pykspa", pykspa, 0x3D9A, datetime.date(2015, 8, 20)),
    ("qakbot", qakbot, 0x7B3F, datetime.date(2020, 2, 14)),
    ("ramnit", ramnit, 0x4BF5E7A2, datetime.date(2014, 1, 1)),
]


def generate(family, gen, seed, date, count=PER_FAMILY):
    names = []
    seen = set()
    for name, i in gen(date, seed, count * 2):
        if name in seen:
            continue
        seen.add(name)
        names.append((name, i))
        if len(names) >= count:
            break
    return names


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                "..", "data", "dga")
    os.makedirs(outdir, exist_ok=True)
    for family, gen, seed, date in FAMILIES:
        seed_text = seed if isinstance(seed, str) else hex(seed)
        path = os.path.join(outdir, f"dga_{family}.txt")
        with open(path, "w") as f:
            f.write(f"# {family}: generated by tests/tools/make_dga_set.py (own implementation from public "
                    f"write-ups), seed {seed_text}, date {date.isoformat()}\n")
            for name, i in generate(family, gen, seed, date):
                f.write(f"{name} # family={family} seed={seed_text} date={date.isoformat()} index={i}\n")


if __name__ == "__main__":
    main()
