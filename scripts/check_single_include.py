#!/usr/bin/env python3
"""Checks a TMON_TEST_SINGLE_INCLUDE build: no test object opened a header of include/tmon.

    scripts/check_single_include.py BUILD_DIR [NINJA]

Reads what the compiler recorded for each test object (tests/CMakeFiles/test_*.dir,
tmon_catch_main.dir): `ninja -t deps` under Ninja, the .d files under Makefiles. Fails
when any of them opened a header from include/tmon/ (the source tree's or an installed
copy), or when no test object was built or none went through single_include/tmon/.
"""
import pathlib
import re
import subprocess
import sys

OBJECT = re.compile(r"CMakeFiles/(test_[A-Za-z0-9_]+|tmon_catch_main)\.dir/")
# include/tmon/ of the source tree or an installed copy; single_include/tmon/ does not match.
FORBIDDEN = re.compile(r"(^|/)include/tmon/")
SINGLE = re.compile(r"(^|/)single_include/tmon/")


def ninja_deps(build, ninja):
    text = subprocess.run([ninja, "-C", str(build), "-t", "deps"], check=True,
                          capture_output=True, text=True).stdout
    deps, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = line.split(":", 1)[0]
            deps[current] = []
        elif line.strip() and current is not None:
            deps[current].append(line.strip())
    return deps


def make_deps(build):
    deps = {}
    for d in build.rglob("*.d"):
        tokens = d.read_text(errors="replace").replace("\\\n", " ").split()
        if tokens:
            deps[str(d)] = [t for t in tokens[1:] if t != "\\"]
    return deps


def main():
    build = pathlib.Path(sys.argv[1]).resolve()
    deps = ninja_deps(build, sys.argv[2]) if (build / "build.ninja").exists() else make_deps(build)
    objects = {obj: files for obj, files in deps.items() if OBJECT.search(obj)}
    bad, single = [], 0
    for obj, files in sorted(objects.items()):
        single += any(SINGLE.search(f) for f in files)
        bad += [f"{obj}: {f}" for f in files if FORBIDDEN.search(f)]
    for line in bad[:20]:
        print(f"not through the single header: {line}")
    print(f"{len(objects)} test objects, {single} through single_include/tmon/, {len(bad)} tmon headers from elsewhere")
    return 1 if bad or not objects or not single else 0


if __name__ == "__main__":
    sys.exit(main())
