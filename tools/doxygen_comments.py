# One-off conversion (kept for headers written in the old style): turns declaration comments
# into Doxygen comments.  python3 tools/doxygen_comments.py include/ctformer/**/*.hpp
#  - a block of full-line // comments directly above a declaration -> ///
#    (separator lines "// ---- x ----" stay //; blocks above #, }, blank lines or in the file
#    header before #pragma once stay //)
#  - a trailing "// text" after a declaration ending in ; or , or { -> ///< text
import re, sys, pathlib
sep = re.compile(r'^\s*//\s*-{3,}')
full = re.compile(r'^(\s*)//(?!/)(.*)$')
trail = re.compile(r'^(.*?[;,{])(\s+)//(?!/)\s?(.*)$')
def convert(text):
    lines = text.split('\n')
    out = list(lines)
    seen_pragma = False
    i = 0
    n = len(lines)
    while i < n:
        l = lines[i]
        if l.startswith('#pragma once'):
            seen_pragma = True
        if full.match(l) and seen_pragma:
            j = i
            while j < n and full.match(lines[j]):
                j += 1
            nxt = lines[j].strip() if j < n else ''
            ok = nxt and not nxt.startswith('#') and not nxt.startswith('}') and not nxt.startswith('//') \
                 and not nxt.startswith('namespace') and not nxt.startswith('case ') and not nxt.startswith('default:') \
                 and not nxt.startswith('return') and not nxt.startswith('if ') and not nxt.startswith('for ') \
                 and not nxt.startswith('else') and not nxt.startswith('while')
            if ok:
                # skip leading separator lines
                k = i
                while k < j and sep.match(lines[k]):
                    k += 1
                for m in range(k, j):
                    mm = full.match(lines[m])
                    out[m] = mm.group(1) + '///' + mm.group(2)
            i = j
            continue
        m = trail.match(l)
        if m and seen_pragma and '"' not in m.group(1).split('//')[0][-1:] and not l.lstrip().startswith('//'):
            code = m.group(1)
            # only declarations: skip statements that look like calls/returns/control flow
            s = code.strip()
            statement = (re.match(r'^(return\b|if\b|for\b|while\b|else\b|case\b|fail\(|CHECK|[\w:]+\()', s)
                         or re.search(r'(\.|->)\w+\(|\+=|-=|\*=|/=|\+\+|--|<<', s)
                         or re.match(r'^[\w.\]\[]+\s*=', s))
            if not statement and '//' not in code:
                out[i] = code + m.group(2) + '///< ' + m.group(3)
        i += 1
    return '\n'.join(out)
for p in sys.argv[1:]:
    path = pathlib.Path(p)
    t = path.read_text()
    c = convert(t)
    if c != t:
        path.write_text(c)
