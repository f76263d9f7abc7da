#!/usr/bin/env python3
"""Prints the README block marked `<!-- packaging-test: NAME -->`, so the packaging tests
run the text users read (and fail when it is gone or changed into something that breaks).

    readme_snippet.py README.md NAME [URL]   # URL replaces tmon's public git URL
"""
import re
import sys

PUBLIC_URL = "https://github.com/tmon-dev/tmon.git"

readme, name = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
m = re.search(r"<!-- packaging-test: " + re.escape(name) + r" -->\s*\n```[a-z]*\n(.*?)```", text, re.S)
if not m:
    sys.exit(f"readme_snippet: no block marked 'packaging-test: {name}' in {readme}")
block = m.group(1)
if len(sys.argv) > 3:
    block = block.replace(PUBLIC_URL, sys.argv[3])
sys.stdout.write(block)
