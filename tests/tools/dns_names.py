"""Shared helpers for the DNS tooling: registered-domain extraction with the
ICANN section of the Public Suffix List, mirroring src/detect/dns_util.cc."""

import os

PSL_PATH = "/usr/share/publicsuffix/public_suffix_list.dat"  # Debian package `publicsuffix`


def load_psl(path=PSL_PATH):
    rules, wild, exc = set(), set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("// ===END ICANN DOMAINS==="):
                break
            if not line or line.startswith("//"):
                continue
            line = line.split()[0].lower()
            if line.startswith("!"):
                exc.add(line[1:])
            elif line.startswith("*."):
                wild.add(line[2:])
            else:
                rules.add(line)
    return rules, wild, exc


_PSL = None


def public_suffix_len(labels):
    """Number of trailing labels forming the public suffix (at least 1)."""
    global _PSL
    if _PSL is None:
        _PSL = load_psl()
    rules, wild, exc = _PSL
    best = 1
    for i in range(len(labels)):
        cand = ".".join(labels[i:])
        n = len(labels) - i
        if cand in exc:
            return n - 1
        if cand in rules:
            best = max(best, n)
        parent = ".".join(labels[i + 1:])
        if i + 1 < len(labels) and parent in wild:
            best = max(best, n)
    return best


def registered_domain(name):
    name = name.strip().strip(".").lower()
    labels = [l for l in name.split(".") if l]
    if len(labels) < 2:
        return None
    n = public_suffix_len(labels)
    if n >= len(labels):
        return None
    return ".".join(labels[-(n + 1):])


def registrable_label(name):
    rd = registered_domain(name)
    return rd.split(".")[0] if rd else None
