#!/usr/bin/env python3
"""Compiles every ```cpp block of README.md and docs/*.md, so the C++ the docs show
cannot drift from the headers (the ctest entry readme_snippets).

    scripts/check_readme_snippets.py [--cxx g++] [-I DIR]... [FILE.md]...

A block with `int main` is a whole program and is compiled as it stands. Any other
block is a fragment: its #include lines go first, the rest into a function body.
Either is compiled with -fsyntax-only against include/ (-std=c++20, Asio standalone),
with #line directives, so an error points at the Markdown line. HTML comments on the
lines just above the fence steer it (other comments, such as tests/packaging's
`<!-- packaging-test: NAME -->`, may stand beside them):

    <!-- snippet: given double train_step(); double lr(long); -->
        C++ put before the block, at file scope: what the text leaves to the reader.
    <!-- snippet: skip REASON -->
        not compiled; the reason is required (say why it cannot compile).

Exits 1 when a block fails, when a marker is unknown or when no block is found.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(cpp|c\+\+)\s*$")
MARKER = re.compile(r"^<!--\s*snippet:\s*(\w+)\s*(.*?)\s*-->\s*$")
OTHER_COMMENT = re.compile(r"^<!--.*-->\s*$")


class Block:
    def __init__(self, path, line, code):
        self.path, self.line, self.code = path, line, code  # line: the first line of code, 1-based
        self.given = []
        self.skip = None

    @property
    def where(self):
        return f"{os.path.relpath(self.path, ROOT)}:{self.line}"

    def source(self):
        name = os.path.relpath(self.path, ROOT).replace("\\", "/")
        given = "".join(f"{g}\n" for g in self.given)
        if re.search(r"\bint\s+main\s*\(", self.code):
            return f"{given}#line {self.line} \"{name}\"\n{self.code}"
        # A fragment: #include lines at file scope, everything else in a function body.
        head, body = [], []
        for i, text in enumerate(self.code.splitlines()):
            (head if text.lstrip().startswith("#include") else body).append((self.line + i, text))
        out = [given]

        def emit(numbered):  # a #line only where the numbering jumps (never inside a raw string)
            last = None
            for n, text in numbered:
                if n != last:
                    out.append(f"#line {n} \"{name}\"\n")
                out.append(f"{text}\n")
                last = n + 1

        emit(head)
        out.append("void readme_snippet_body() {\n")
        emit(body)
        out.append("}\n")
        return "".join(out)


def read_blocks(path, errors):
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if not FENCE.match(lines[i]):
            if lines[i].startswith("```"):  # another language's block: step over it whole
                i += 1
                while i < len(lines) and not lines[i].startswith("```"):
                    i += 1
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        block = Block(path, i + 2, "\n".join(lines[i + 1:end]) + "\n")
        j = i - 1
        while j >= 0 and OTHER_COMMENT.match(lines[j]):  # the comments just above the fence
            m = MARKER.match(lines[j])
            if m:
                kind, arg = m.groups()
                if kind == "skip" and arg:
                    block.skip = arg
                elif kind == "given" and arg:
                    block.given.insert(0, arg)
                else:
                    errors.append(f"{os.path.relpath(path, ROOT)}:{j + 1}: unknown or empty marker: {lines[j]}")
            j -= 1
        blocks.append(block)
        i = end + 1
    return blocks


def compile_block(block, cxx, flags, workdir, index):
    src = Path(workdir) / f"snippet_{index}.cpp"
    src.write_text(block.source(), encoding="utf-8")
    r = subprocess.run([cxx, *flags, str(src)], capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="Markdown files (default: README.md docs/*.md)")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    ap.add_argument("-I", dest="includes", action="append", default=[], help="another include folder")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("TMON_JOBS", os.cpu_count() or 1)))
    args = ap.parse_args()
    files = args.files or [str(ROOT / "README.md"), *sorted(str(p) for p in (ROOT / "docs").glob("*.md"))]
    flags = ["-std=c++20", "-fsyntax-only", "-x", "c++", "-DASIO_STANDALONE", "-DASIO_NO_DEPRECATED",
             f"-I{ROOT / 'include'}"]
    flags += [f"-I{d}" for d in args.includes if d and os.path.normpath(d) != "/usr/include"]
    flags += os.environ.get("CXXFLAGS", "").split()

    errors = []
    blocks = [b for f in files for b in read_blocks(f, errors)]
    for e in errors:
        print(f"FAIL {e}")
    if not blocks:
        print(f"FAIL no ```cpp block in {', '.join(files)}")
        return 1
    todo = [b for b in blocks if not b.skip]
    for b in blocks:
        if b.skip:
            print(f"skip {b.where}: {b.skip}")
    failed = len(errors)
    with tempfile.TemporaryDirectory(prefix="tmon-snippets-") as work, \
            ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda ib: compile_block(ib[1], args.cxx, flags, work, ib[0]), enumerate(todo)))
        for b, (ok, out) in zip(todo, results):
            if ok:
                print(f"ok   {b.where}")
                continue
            failed += 1
            print(f"FAIL {b.where} ({args.cxx} {' '.join(flags)})")
            print("\n".join(out.splitlines()[:40]))
    print(f"{len(todo)} compiled, {len(blocks) - len(todo)} skipped, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
