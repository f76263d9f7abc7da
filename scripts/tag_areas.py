#!/usr/bin/env python3
"""Every Catch2 case under tests/<area>/ carries its area's tag ([storage], [server] ...),
so `test_server "[server]"`, `ctest -L` and a failure's tags say where it lives.

  scripts/tag_areas.py          check: lists each case without its area tag, exits 1 if any
  scripts/tag_areas.py --fix    adds the missing tags in place (first in the tag string)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
AREAS = ["core", "storage", "monitor", "sampler", "transport", "server", "client"]
# macro -> how many arguments come before the name
MACROS = {"TEST_CASE": 0, "SCENARIO": 0, "TEMPLATE_TEST_CASE": 0, "TEMPLATE_LIST_TEST_CASE": 0,
          "TEMPLATE_TEST_CASE_SIG": 0, "TEST_CASE_METHOD": 1, "TEMPLATE_PRODUCT_TEST_CASE": 0}
OPEN = re.compile(r"^[ \t]*(" + "|".join(MACROS) + r")\(", re.M)
STRING = re.compile(r'\s*"((?:[^"\\\n]|\\.)*)"')


def skip_arg(text, i):
    """Index just past one macro argument (up to its comma), strings and brackets respected."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = STRING.match(text, i).end()
            continue
        if c in "(<[{":
            depth += 1
        elif c in ")>]}":
            if depth == 0:
                return i
            depth -= 1
        elif c == "," and depth == 0:
            return i
        i += 1
    return i


def strings_at(text, i):
    """Adjacent string literals at i: (list of (start, end) of each literal's content, index after)."""
    spans = []
    while (m := STRING.match(text, i)):
        spans.append((m.start(1), m.end(1)))
        i = m.end()
    return spans, i


def process(text, area):
    """Returns (new text, [names missing the tag])."""
    tag = f"[{area}]"
    edits, missing = [], []
    for m in OPEN.finditer(text):
        i = m.end()
        for _ in range(MACROS[m.group(1)]):
            i = skip_arg(text, i) + 1
        name_spans, i = strings_at(text, i)
        if not name_spans:
            continue  # a macro argument that is not a literal: not ours to judge
        name = "".join(text[a:b] for a, b in name_spans)
        j = i
        while text[j].isspace():
            j += 1
        if text[j] == ",":
            tag_spans, _ = strings_at(text, j + 1)
            if not tag_spans:
                continue
            tags = "".join(text[a:b] for a, b in tag_spans)
            if tag in tags:
                continue
            missing.append(name)
            edits.append((tag_spans[0][0], tag))
        else:  # TEST_CASE("name") without tags
            missing.append(name)
            edits.append((i, f', "{tag}"'))
    for at, ins in sorted(edits, reverse=True):
        text = text[:at] + ins + text[at:]
    return text, missing


def main():
    fix = "--fix" in sys.argv[1:]
    total = 0
    for area in AREAS:
        for path in sorted((ROOT / "tests" / area).glob("*.cpp")):
            text = path.read_text()
            new, missing = process(text, area)
            total += len(missing)
            for name in missing:
                print(f"{path.relative_to(ROOT)}: no [{area}] tag: {name}")
            if fix and new != text:
                path.write_text(new)
    if total and not fix:
        print(f"{total} cases without their area tag (scripts/tag_areas.py --fix adds them)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
