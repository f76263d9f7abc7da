#!/usr/bin/env python3
"""Builds single_include/tmon/: each umbrella header with every tmon header it needs inlined once.

    single_include/tmon/tmon.hpp     the light part, as <tmon/tmon.hpp>: monitor, memory_store, samplers
    single_include/tmon/client.hpp   + the remote client, as <tmon/client.hpp>
    single_include/tmon/server.hpp   the whole library: every store, the server, the client

Each is one self-contained file (copy the one you need), and a TU compiles as fast through
it as through include/: the light file holds none of the server. Each inlined header is
guarded, so a TU may include more than one of them. System and third-party includes
(<asio.hpp>, <sqlite3.h>, <rapidjson/...>, <fmt/...>) are kept as includes.

    scripts/amalgamate.py              # regenerate
    scripts/amalgamate.py --check      # exit 1 if a committed file is stale
    scripts/amalgamate.py --out PATH   # write them into PATH's folder instead (tests/packaging)
    scripts/amalgamate.py --list       # "<file> <header>": each header each file holds, smallest file first

The banner carries the version (from include/tmon/version.hpp) and the licence, so the
one file copied alone still says what it is; below C++20 it stops at one #error.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"
OUT_DIR = ROOT / "single_include" / "tmon"
# file -> (the headers it inlines, what it links, whether it uses Asio)
OUTPUTS = {
    "tmon.hpp": (["tmon/tmon.hpp"], "fmt, pthread, dl", False),
    "client.hpp": (["tmon/client.hpp"], "fmt, z, pthread, dl", True),
    "server.hpp": (["tmon/tmon.hpp", "tmon/storage/sqlite_store.hpp", "tmon/storage/jsonl_store.hpp",
                    "tmon/server.hpp", "tmon/client.hpp"], "fmt, sqlite3, z, pthread, dl", True),
}
LOCAL = re.compile(r'^\s*#\s*include\s+[<"](tmon/[^">]+)[">]')
PRAGMA = re.compile(r"^\s*#\s*pragma\s+once")
IF = re.compile(r"^\s*#\s*if")
ENDIF = re.compile(r"^\s*#\s*endif")


def unconditional_closure(entries):
    """Every header the entries include outside any #if, directly or not."""
    found, todo = set(), list(entries)
    while todo:
        rel = todo.pop()
        if rel in found:
            continue
        found.add(rel)
        depth = 0
        for line in (INCLUDE / rel).read_text().splitlines():
            depth += 1 if IF.match(line) else -1 if ENDIF.match(line) else 0
            m = LOCAL.match(line)
            if m and depth == 0:
                todo.append(m.group(1))
    return found


def inline(rel, seen, out, always, conditional=False, stack=()):
    """Inlines rel and what it includes, each header once. An include under #if (the
    separate-compilation blocks) of a header the file holds anyway (`always`) is inlined
    before the #if, unconditionally; any other is inlined in place without counting as
    seen, its guard keeping a later copy from being compiled twice."""
    if rel in seen or rel in stack:
        return
    if not conditional:
        seen.add(rel)
    path = INCLUDE / rel
    if not path.exists():
        sys.exit(f"amalgamate: {rel} is included but does not exist")
    guard = "TMON_SINGLE_" + re.sub(r"[^A-Za-z0-9]", "_", rel[len("tmon/"):]).upper()
    out.append(f"// ---- begin {rel}\n#ifndef {guard}\n#define {guard}\n")
    lines = path.read_text().splitlines(keepends=True)
    depth = 0
    for k, line in enumerate(lines):
        if PRAGMA.match(line):
            continue
        if IF.match(line):
            if depth == 0 and not conditional:  # hoist what the block includes and the file holds anyway
                inner = 0
                for later in lines[k:]:
                    inner += 1 if IF.match(later) else -1 if ENDIF.match(later) else 0
                    m = LOCAL.match(later)
                    if m and m.group(1) in always:
                        inline(m.group(1), seen, out, always, False, stack + (rel,))
                    if inner == 0:
                        break
            depth += 1
        elif ENDIF.match(line):
            depth -= 1
        m = LOCAL.match(line)
        if m:
            inline(m.group(1), seen, out, always, conditional or depth > 0, stack + (rel,))
        else:
            out.append(line)
    if not out[-1].endswith("\n"):
        out.append("\n")
    out.append(f"#endif  // {guard}\n// ---- end {rel}\n")


def version():
    text = (INCLUDE / "tmon" / "version.hpp").read_text()
    return ".".join(re.search(rf"#define TMON_VERSION_{k} (\d+)", text).group(1) for k in ("MAJOR", "MINOR", "PATCH"))


def render(name):
    entries, links, asio = OUTPUTS[name]
    licence = "".join(f"// {line}".rstrip() + "\n" for line in (ROOT / "LICENSE").read_text().splitlines())
    what = {"tmon.hpp": "the light part (monitor, memory_store, samplers)",
            "client.hpp": "the light part and the remote client",
            "server.hpp": "the whole library"}[name]
    out = [f"// tmon {version()}: header-only live monitoring for ML training, as one file: {what}.\n",
           "// SPDX-License-Identifier: MIT (the licence follows)\n",
           "//\n", licence, "//\n",
           "// generated by scripts/amalgamate.py from include/tmon, do not edit\n",
           f"// Compile with -std=c++20; link {links}.\n",
           "#pragma once\n",
           "#if __cplusplus <= 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG > 201703L)\n",
           '#error "tmon needs C++20: compile with -std=c++20 (GCC, Clang) or /std:c++20 (MSVC)"\n',
           "#else\n"]
    if asio:
        out += ["#ifndef ASIO_STANDALONE  // standalone Asio, as tmon::server defines it\n",
                "#define ASIO_STANDALONE\n",
                "#endif\n"]
    seen, always = set(), unconditional_closure(entries)
    for entry in entries:
        inline(entry, seen, out, always)
    out.append("#endif  // C++20\n")
    return "".join(out)


def held(name):
    """The headers name holds (the test shim's map): each one render inlines, also those under
    #if !defined(TMON_SEPARATE_COMPILATION) (a server's definitions), which a TU built without
    that macro gets."""
    return set(re.findall(r"^// ---- begin (tmon/\S+)$", render(name), flags=re.M))


def main():
    if "--list" in sys.argv:
        for name in OUTPUTS:
            print("".join(f"{name} {rel}\n" for rel in sorted(held(name))), end="")
        return 0
    if "--check" in sys.argv:
        stale = [name for name in OUTPUTS
                 if not (OUT_DIR / name).exists() or (OUT_DIR / name).read_text() != render(name)]
        for name in stale:
            print(f"single_include/tmon/{name} is stale: run scripts/amalgamate.py", file=sys.stderr)
        return 1 if stale else 0
    out_dir = pathlib.Path(sys.argv[sys.argv.index("--out") + 1]).parent if "--out" in sys.argv else OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        (out_dir / name).write_text(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
