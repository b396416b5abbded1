#!/usr/bin/env python3
"""Generate include/ctformer/data/unicode/unicode_tables.hpp from the Unicode Character Database.

Reads Debian's unicode-data package (/usr/share/unicode, or the folder given as the first
argument): extracted/DerivedGeneralCategory.txt, PropList.txt (White_Space),
emoji/emoji-data.txt (Extended_Pictographic), UnicodeData.txt (canonical decompositions,
combining classes, simple case mappings) and SpecialCasing.txt (checked, see below).

Layout (kept small because every translation unit that includes ctformer.hpp parses it):
  - properties: one byte per code point, low 5 bits general category, bit 5 White_Space,
    bit 6 Extended_Pictographic; two-level table (stage 1 indexed by cp >> 8 picks a
    deduplicated 256-byte block in stage 2), both stored as string literals.
  - canonical decompositions: sorted code points, fully expanded (recursively) into a pool;
    Hangul syllables are left to the algorithm in unicode.hpp.
  - canonical combining classes and simple lower/upper case mappings: sorted runs.
Run: python3 tools/gen_unicode.py [/usr/share/unicode] > include/ctformer/data/unicode/unicode_tables.hpp
"""
import os
import re
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
MAX = 0x110000
BLOCK = 256

# Order matters: the C++ enum in unicode.hpp lists the same names in the same order.
CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd",
              "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf",
              "Cs", "Co"]
WHITE_SPACE_BIT = 0x20
EXT_PICT_BIT = 0x40


def read(rel):
    with open(os.path.join(UCD, rel), encoding="utf-8") as f:
        return f.read()


def ranges_of(rel, prop=None):
    """Yields (first, last, value) for each data line of a UCD property file."""
    for line in read(rel).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [x.strip() for x in line.split(";")]
        if prop is not None and fields[1] != prop:
            continue
        cps = fields[0].split("..")
        first = int(cps[0], 16)
        last = int(cps[-1], 16)
        yield first, last, fields[1]


def version():
    head = read("extracted/DerivedGeneralCategory.txt").splitlines()[0]
    m = re.search(r"-(\d+\.\d+\.\d+)\.txt", head)
    if not m:
        sys.exit("cannot find the Unicode version in DerivedGeneralCategory.txt")
    return m.group(1)


def properties():
    props = [0] * MAX  # Cn by default
    for first, last, cat in ranges_of("extracted/DerivedGeneralCategory.txt"):
        code = CATEGORIES.index(cat)
        for cp in range(first, last + 1):
            props[cp] = code
    for first, last, _ in ranges_of("PropList.txt", "White_Space"):
        for cp in range(first, last + 1):
            props[cp] |= WHITE_SPACE_BIT
    for first, last, _ in ranges_of("emoji/emoji-data.txt", "Extended_Pictographic"):
        for cp in range(first, last + 1):
            props[cp] |= EXT_PICT_BIT
    return props


def two_level(values):
    blocks, index, stage2 = {}, [], []
    for b in range(0, MAX, BLOCK):
        key = tuple(values[b:b + BLOCK])
        if key not in blocks:
            blocks[key] = len(blocks)
            stage2.extend(key)
        index.append(blocks[key])
    return index, stage2


def unicode_data():
    """Per code point: (ccc, canonical decomposition or None, simple upper, simple lower)."""
    rows = {}
    pending_first = None
    for line in read("UnicodeData.txt").splitlines():
        f = line.split(";")
        cp = int(f[0], 16)
        if f[1].endswith(", First>"):
            pending_first = cp
            continue
        if f[1].endswith(", Last>"):
            # Ranges (CJK, Hangul, ...) have no decomposition, class or case data of their own.
            pending_first = None
            continue
        ccc = int(f[3])
        decomp = None
        if f[5] and not f[5].startswith("<"):
            decomp = [int(x, 16) for x in f[5].split()]
        upper = int(f[12], 16) if f[12] else None
        lower = int(f[13], 16) if f[13] else None
        rows[cp] = (ccc, decomp, upper, lower)
    return rows


def full_decomposition(rows, cp):
    d = rows.get(cp, (0, None, None, None))[1]
    if d is None:
        return [cp]
    out = []
    for c in d:
        out.extend(full_decomposition(rows, c))
    return out


def ccc_runs(rows):
    runs = []
    for cp in sorted(rows):
        ccc = rows[cp][0]
        if ccc == 0:
            continue
        if runs and runs[-1][1] == cp - 1 and runs[-1][2] == ccc:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp, ccc])
    return runs


def case_runs(mapping):
    """Runs (first, last, stride, delta): cp = first + k*stride (<= last) maps to cp + delta.

    Code points between the members of a stride-2 run have no mapping. Runs never overlap,
    so a binary search on `first` finds the only candidate.
    """
    cps = sorted(mapping)
    runs = []
    i = 0
    while i < len(cps):
        cp = cps[i]
        delta = mapping[cp] - cp
        # A run continues while the next member has the same delta; with stride 2 the code
        # point in between must have no mapping (the upper/lower alternation of Latin Ext-A).
        length = {}
        for stride in (1, 2):
            n = 1
            while True:
                nxt = cp + n * stride
                if mapping.get(nxt, None) != nxt + delta:
                    break
                if stride == 2 and (nxt - 1) in mapping:
                    break
                n += 1
            length[stride] = n
        stride = 2 if length[2] > length[1] else 1
        n = length[stride]
        last = cp + (n - 1) * stride
        runs.append((cp, last, stride, delta))
        i = cps.index(last) + 1
    # Self-check: the runs reproduce the mapping exactly and claim nothing else.
    check = {}
    for first, last, stride, delta in runs:
        for c in range(first, last + 1, stride):
            check[c] = c + delta
    assert check == mapping, "case runs do not reproduce the mapping"
    return runs


def special_casing_check():
    """The C++ side handles exactly one unconditional multi-character lowercase mapping
    (U+0130 -> 0069 0307); fail loudly if a newer UCD adds another."""
    extra = []
    for line in read("SpecialCasing.txt").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = [x.strip() for x in line.split(";")]
        if len(f) > 4 and f[4]:
            continue  # conditional (final sigma, locale-specific)
        cp = int(f[0], 16)
        lower = [int(x, 16) for x in f[1].split()]
        if len(lower) > 1:
            extra.append(cp)
    assert extra == [0x130], f"unexpected multi-character lowercase mappings: {extra}"


def emit_bytes(out, name, values, per_line=64):
    """A byte table as a string literal: compilers read these far faster than a braced list."""
    assert all(0 <= v < 256 for v in values)
    out.append(f"// {len(values)} bytes (plus the literal's terminating NUL)")
    out.append(f"inline constexpr char {name}[] =")
    for i in range(0, len(values), per_line):
        # Every byte is an octal escape and the next character is a backslash or a quote,
        # so the shortest octal form is unambiguous.
        out.append('  "' + "".join("\\%o" % v for v in values[i:i + per_line]) + '"')
    out[-1] += ";"


def emit_array(out, ctype, name, values, per_line=24):
    out.append(f"inline constexpr {ctype} {name}[{len(values)}] = {{")
    for i in range(0, len(values), per_line):
        out.append("  " + ",".join(str(v) for v in values[i:i + per_line]) + ",")
    out.append("};")


def main():
    ver = version()
    props = properties()
    index, stage2 = two_level(props)
    rows = unicode_data()
    special_casing_check()

    decomp_keys, decomp_offsets, decomp_pool = [], [], []
    for cp in sorted(rows):
        if rows[cp][1] is None:
            continue
        full = full_decomposition(rows, cp)
        decomp_keys.append(cp)
        decomp_offsets.append(len(decomp_pool))
        decomp_pool.extend(full)
    decomp_offsets.append(len(decomp_pool))
    assert max(len(full_decomposition(rows, c)) for c in decomp_keys) <= 4

    ccc = ccc_runs(rows)
    lower = {cp: r[3] for cp, r in rows.items() if r[3] is not None and r[3] != cp}
    upper = {cp: r[2] for cp, r in rows.items() if r[2] is not None and r[2] != cp}
    lower_runs = case_runs(lower)
    upper_runs = case_runs(upper)

    assert max(index) < 256, "stage 1 no longer fits in a byte: use a larger BLOCK"
    out = []
    out.append("// GENERATED by tools/gen_unicode.py from the Unicode Character Database, Unicode "
               f"{ver}. Do not edit.")
    out.append("// Properties (general category, White_Space, Extended_Pictographic) as a two-level "
               "table; canonical decompositions,")
    out.append("// combining classes and simple case mappings as sorted runs. The API is in "
               "unicode.hpp.")
    out.append("#pragma once")
    out.append("")
    out.append("#include <cstdint>")
    out.append("")
    out.append("namespace ctformer::unicode::tables {")
    out.append("")
    out.append(f'inline constexpr const char* unicode_version = "{ver}";')
    out.append(f"inline constexpr unsigned block_shift = {BLOCK.bit_length() - 1};")
    out.append(f"inline constexpr unsigned white_space_bit = 0x{WHITE_SPACE_BIT:02X};")
    out.append(f"inline constexpr unsigned ext_pict_bit = 0x{EXT_PICT_BIT:02X};")
    out.append("")
    out.append(f"// stage 1: {len(index)} block numbers; stage 2: {len(stage2) // BLOCK} distinct "
               f"blocks of {BLOCK} property bytes.")
    emit_bytes(out, "prop_stage1", index)
    emit_bytes(out, "prop_stage2", stage2)
    out.append("")
    out.append(f"// {len(decomp_keys)} canonical decompositions, fully expanded; entry i is "
               "decomp_pool[decomp_offset[i] .. decomp_offset[i+1]).")
    emit_array(out, "char32_t", "decomp_key", decomp_keys, 16)
    emit_array(out, "std::uint16_t", "decomp_offset", decomp_offsets, 24)
    emit_array(out, "char32_t", "decomp_pool", decomp_pool, 16)
    out.append("")
    out.append(f"// {len(ccc)} runs of equal non-zero canonical combining class: "
               "first, last, class (flattened).")
    emit_array(out, "std::uint32_t", "ccc_runs", [v for r in ccc for v in r], 24)
    out.append("")
    out.append("// Simple case mappings as runs: first, last, stride, delta (flattened); "
               "first + k*stride maps to itself + delta.")
    emit_array(out, "std::int32_t", "lower_runs", [v for r in lower_runs for v in r], 24)
    emit_array(out, "std::int32_t", "upper_runs", [v for r in upper_runs for v in r], 24)
    out.append("")
    out.append("}  // namespace ctformer::unicode::tables")
    sys.stdout.write("\n".join(out) + "\n")
    sys.stderr.write(f"Unicode {ver}: {len(stage2) // BLOCK} blocks, {len(decomp_keys)} decompositions, "
                     f"{len(ccc)} ccc runs, {len(lower_runs)} lower runs, {len(upper_runs)} upper runs\n")


if __name__ == "__main__":
    main()
