#!/usr/bin/python3
"""slcfg.py — set keys in sluice INI files (tests only): for every FILE,
each "SECTION KEY VALUE" replaces the key's line in its section, or adds
it at the section's end (the section at the file's end when absent).
Usage: slcfg.py N FILE... "SECTION KEY VALUE"...   (N = how many files)"""
import re
import sys


def set_key(text, sec, key, val):
    out, cur, done, seen = [], None, False, False
    for ln in text.split("\n"):
        m = re.match(r"\s*\[([^\]]+)\]", ln)
        if m:
            if cur == sec and not done:
                while out and out[-1].strip() == "":
                    out.pop()
                out += ["%s = %s" % (key, val), ""]
                done = True
            cur = m.group(1).strip()
            seen |= cur == sec
        elif cur == sec and re.match(r"\s*%s\s*=" % re.escape(key), ln):
            if not done:
                out.append("%s = %s" % (key, val))
                done = True
            continue
        out.append(ln)
    if not done:
        if not seen:
            out += ["", "[%s]" % sec]
        out.append("%s = %s" % (key, val))
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv):
    n = int(argv[1])
    files, sets = argv[2:2 + n], [a.split(None, 2) for a in argv[2 + n:]]
    for path in files:
        text = open(path).read()
        for sec, key, val in sets:
            text = set_key(text, sec, key, val)
        open(path, "w").write(text)


if __name__ == "__main__":
    main(sys.argv)
