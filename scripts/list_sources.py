#!/usr/bin/env python3
"""Prints the .cpp files of a folder, one per line, sorted: meson has no glob."""
import pathlib
import sys

for path in sorted(pathlib.Path(sys.argv[1]).glob("*.cpp")):
    print(path.as_posix())
