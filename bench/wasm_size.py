#!/usr/bin/env python3
"""Where a wasm module's bytes go: function body sizes by name, grouped by crate.

    python3 bench/wasm_size.py FILE.wasm [--top N] [--grep WORD]

Reads the code section and the `name` custom section (keep names: run it on the module cargo
writes, before wasm-opt --strip-debug, e.g. target/wasm32-unknown-unknown/worker/ebb_worker.wasm)
and prints the section sizes, the bytes per crate (the first path segment of each demangled
function name; a generic function is counted under the crate that defines it, so `serde`
holds the derived visitors' `visit_map` copies only when serde defined the function) and the
largest functions. No twiggy: GitHub, where its binaries are, is unreachable from the build
machines, and this is all the attribution the size work needs.
"""

import re
import sys
from collections import defaultdict


def leb(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def demangle(name):
    """Rust legacy mangling (`_ZN3foo3bar17h0123456789abcdefE`) to `foo::bar`; others as is."""
    if not name.startswith("_ZN"):
        return name
    pos, parts = 3, []
    while pos < len(name) and name[pos] != "E":
        m = re.match(r"\d+", name[pos:])
        if not m:
            return name
        n = int(m.group())
        pos += len(m.group())
        parts.append(name[pos:pos + n])
        pos += n
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(parts)
    for code, ch in [("$LT$", "<"), ("$GT$", ">"), ("$RF$", "&"), ("$BP$", "*"), ("$u20$", " "),
                     ("$u27$", "'"), ("$u5b$", "["), ("$u5d$", "]"), ("$u7b$", "{"), ("$u7d$", "}"),
                     ("$LP$", "("), ("$RP$", ")"), ("$C$", ","), ("..", "::"), ("$u3b$", ";"),
                     ("$u2b$", "+"), ("$u22$", '"'), ("$SP$", "@")]:
        text = text.replace(code, ch)
    return text


def crate_of(name):
    # `<T as Trait>::f` is defined by T's crate unless T is a primitive or a reference to one.
    if name.startswith("_R"):
        return "(v0-mangled std)"
    text = name.lstrip("_<&*[ ").replace("mut ", "").replace("dyn ", "")
    head = re.split(r"::|<| |>", text, maxsplit=1)[0]
    return head or "?"


def main():
    args = sys.argv[1:]
    top = 40
    grep = None
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i:i + 2]
    if "--grep" in args:
        i = args.index("--grep")
        grep = args[i + 1]
        del args[i:i + 2]
    data = open(args[0], "rb").read()
    assert data[:4] == b"\0asm", "not a wasm module"
    pos = 8
    sections = []
    imported_funcs = 0
    bodies = []
    names = {}
    while pos < len(data):
        sid = data[pos]
        size, p = leb(data, pos + 1)
        end = p + size
        label = str(sid)
        if sid == 0:
            nlen, q = leb(data, p)
            label = "custom " + data[q:q + nlen].decode()
            if label == "custom name":
                q += nlen
                while q < end:
                    sub, q = leb(data, q)
                    slen, q = leb(data, q)
                    if sub == 1:
                        r = q
                        count, r = leb(data, r)
                        for _ in range(count):
                            idx, r = leb(data, r)
                            ln, r = leb(data, r)
                            names[idx] = data[r:r + ln].decode(errors="replace")
                            r += ln
                    q += slen
        elif sid == 2:
            q = p
            count, q = leb(data, q)
            for _ in range(count):
                for _ in range(2):
                    ln, q = leb(data, q)
                    q += ln
                kind = data[q]
                q += 1
                if kind == 0:
                    _, q = leb(data, q)
                    imported_funcs += 1
                elif kind == 1:
                    q += 1
                    flags, q = leb(data, q)
                    _, q = leb(data, q)
                    if flags & 1:
                        _, q = leb(data, q)
                elif kind == 2:
                    flags, q = leb(data, q)
                    _, q = leb(data, q)
                    if flags & 1:
                        _, q = leb(data, q)
                elif kind == 3:
                    q += 2
                elif kind == 4:
                    q += 1
                    _, q = leb(data, q)
        elif sid == 10:
            q = p
            count, q = leb(data, q)
            for i in range(count):
                bsize, r = leb(data, q)
                bodies.append((imported_funcs + i, r - q + bsize))
                q = r + bsize
        sections.append((label, end - pos))
        pos = end

    print(f"{args[0]}: {len(data):,} bytes")
    for label, size in sections:
        name = {"1": "type", "2": "import", "3": "function", "4": "table", "5": "memory",
                "6": "global", "7": "export", "8": "start", "9": "element", "10": "code",
                "11": "data", "12": "datacount", "13": "tag"}.get(label, label)
        print(f"  section {name:<24} {size:>10,}")
    by_crate = defaultdict(int)
    rows = []
    for idx, size in bodies:
        name = demangle(names.get(idx, f"func[{idx}]"))
        by_crate[crate_of(name)] += size
        rows.append((size, name))
    print("code bytes by crate:")
    for crate, size in sorted(by_crate.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {size:>9,}  {crate}")
    if grep:
        sel = [r for r in rows if grep in r[1]]
        print(f"functions matching {grep!r}: {len(sel)}, {sum(s for s, _ in sel):,} bytes")
        rows = sel
    print(f"largest {top} functions:")
    for size, name in sorted(rows, reverse=True)[:top]:
        print(f"  {size:>9,}  {name[:170]}")


if __name__ == "__main__":
    main()
