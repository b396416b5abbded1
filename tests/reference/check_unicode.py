#!/usr/bin/env python3
"""Differential checks of ctformer's Unicode tables and GPT-2 pre-tokenizer (CI never runs this).

1. Every code point not new in Unicode 15.0: general category, simple lower/upper case, canonical
   combining class and NFD against Python's unicodedata.
2. 20,000 random strings from an adversarial pool: gpt2::pretokenize against GPT-2's pattern in
   the `regex` module (pip/Debian package python3-regex).
Run from the repository root: python3 tests/reference/check_unicode.py
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import unicodedata as ud

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATS = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
        "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]

DUMP_TABLES = r'''
#include <ctformer/data/unicode/unicode.hpp>
#include <cstdio>
int main() {
  namespace u = ctformer::unicode;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    std::u32string s(1, cp);
    std::printf("%X %d %X %X %d", unsigned(cp), int(u::general_category(cp)), unsigned(u::simple_lower(cp)),
                unsigned(u::simple_upper(cp)), int(u::combining_class(cp)));
    for (char32_t c : u::nfd(s)) std::printf(" %X", unsigned(c));
    std::printf("\n");
  }
}
'''

DUMP_PIECES = r'''
#include <ctformer/data/tokenizers/gpt2_pretokenize.hpp>
#include <ctformer/io/json.hpp>
#include <iostream>
#include <string>
int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    ctformer::json::value arr = ctformer::json::array{};
    ctformer::gpt2::pretokenize(ctformer::json::parse(line).as_string(),
                                [&](std::string_view p) { arr.push_back(ctformer::json::value(p)); });
    std::cout << arr.dump() << "\n";
  }
}
'''


def build(tmp, name, src):
    path = os.path.join(tmp, name)
    with open(path + ".cpp", "w") as f:
        f.write(src)
    subprocess.run(["g++", "-std=c++20", "-O2", "-DFMT_HEADER_ONLY", "-I" + os.path.join(ROOT, "include"),
                    path + ".cpp", "-o", path], check=True)
    return path


def new_in_15():
    cps = set()
    for line in open("/usr/share/unicode/DerivedAge.txt", encoding="utf-8"):
        line = line.split("#")[0].strip()
        if line and line.split(";")[1].strip() == "15.0":
            r = line.split(";")[0].strip().split("..")
            cps.update(range(int(r[0], 16), int(r[-1], 16) + 1))
    return cps


def check_tables(exe):
    skip = new_in_15()
    bad = {"category": 0, "lower": 0, "upper": 0, "ccc": 0, "nfd": 0}
    n = 0
    out = subprocess.run([exe], capture_output=True, check=True).stdout.decode().split("\n")
    for line in out:
        if not line:
            continue
        f = line.split()
        cp = int(f[0], 16)
        if cp in skip:
            continue
        n += 1
        ch = chr(cp)
        bad["category"] += CATS[int(f[1])] != ud.category(ch)
        lo, up = ch.lower(), ch.upper()
        bad["lower"] += len(lo) == 1 and int(f[2], 16) != ord(lo)
        bad["upper"] += len(up) == 1 and int(f[3], 16) != ord(up)
        bad["ccc"] += int(f[4]) != ud.combining(ch)
        if not 0xD800 <= cp <= 0xDFFF:
            bad["nfd"] += [int(x, 16) for x in f[5:]] != [ord(c) for c in ud.normalize("NFD", ch)]
    print(f"tables: {n} code points compared with unicodedata {ud.unidata_version}: mismatches {bad}")
    return sum(bad.values())


def check_pretokenizer(exe):
    import regex
    pat = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
    pool = list(" \t\n\r\x0b\x0c  'sStTrRevmld0123456789abcXYZ!?.,-_\"'`~()[]é你好١٢३\u00a0\u2000\u3000"
                "\u2028\u0085\u200b\u0301🙂👍🏽\u00bd\u2167ⅷ\x1c\x1f")
    rng = random.Random(5)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 25))) for _ in range(20000)]
    inp = "\n".join(json.dumps(t, ensure_ascii=False) for t in texts) + "\n"
    out = subprocess.run([exe], input=inp.encode(), capture_output=True, check=True).stdout.decode().split("\n")
    bad = sum(json.loads(o) != pat.findall(t) for t, o in zip(texts, out))
    print(f"pre-tokenizer: {len(texts)} random strings compared with the regex module: mismatches {bad}")
    return bad


def main():
    with tempfile.TemporaryDirectory() as tmp:
        bad = check_tables(build(tmp, "dump_tables", DUMP_TABLES))
        bad += check_pretokenizer(build(tmp, "dump_pieces", DUMP_PIECES))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
