#!/usr/bin/env python3
"""Figures the docs quote about this engine's compiled tables, checked against the tables.

usage: check-figures.py SUGA_INSPECT SOURCE_ROOT

Operation and module counts, operation ids and the like drift as the spec grows. Docs quote them
in a few fixed phrasings, and this test finds every such phrase in README.md, spec/README.md and
docs/*.md and compares it with `suga-inspect --json` (the compiled table, not the YAML):

    "80 operations in 14 modules", "80 operations", "14 modules", "16 interfaces",
    "3 lifecycle hooks", `SUGA_OP_CACHE_GET = 8`

A phrase that is about something else (the format's limit of 65,535 operations, the synthetic
32,768-operation spec, a batch size) is listed in OTHER_FIGURES with its file. docs/performance.md
is left out as a whole: its tables are dated measurements, each with the spec it was taken on.
Exit status 0 when every figure agrees, 1 with one line per disagreement otherwise.
"""
import json
import pathlib
import re
import subprocess
import sys

# (file, phrase): figures that are not about the engine's own tables
OTHER_FIGURES = {
    ("docs/architecture.md", "65,535 operations"),   # the format's limit (16-bit ids)
    ("spec/README.md", "65,535 operations"),
    ("docs/metrics.md", "100 operations"),           # a batch size in an example
}
SKIPPED_FILES = {"docs/performance.md"}

PHRASES = [
    # (regex, what each group is)
    (re.compile(r"\b(\d[\d,]*) operations in (\d+) modules\b"), ("operations", "modules")),
    (re.compile(r"\b(\d[\d,]*) operations\b"), ("operations",)),
    (re.compile(r"\b(\d+) modules\b"), ("modules",)),
    (re.compile(r"\b(\d+) lazy modules\b"), ("lazy_modules",)),
    (re.compile(r"\b(\d+) interfaces\b"), ("interfaces",)),
    (re.compile(r"\b(\d+) lifecycle hooks\b"), ("hooks",)),
]
OP_ID = re.compile(r"\bSUGA_OP_([A-Z0-9_]+) = (\d+)\b")


def inspect(tool, command):
    out = subprocess.run([tool, "--json", command], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def facts(tool):
    ops = inspect(tool, "list")
    modules = inspect(tool, "modules")
    hooks = inspect(tool, "hooks")
    return {
        "operations": len(ops),
        "modules": len(modules),
        "lazy_modules": sum(1 for m in modules if m["load"] == "lazy"),
        "interfaces": len({o["interface"] for o in ops}),
        "hooks": sum(len(v) for v in hooks.values()),
    }, {o["name"].replace(".", "_").upper(): o["id"] for o in ops}


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stdout if len(argv) > 1 else sys.stderr)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    tool, root = argv[1], pathlib.Path(argv[2])
    truth, ids = facts(tool)
    files = [root / "README.md", root / "spec" / "README.md"] + sorted((root / "docs").glob("*.md"))
    problems, checked, read = [], 0, 0
    for path in files:
        rel = path.relative_to(root).as_posix()
        if rel in SKIPPED_FILES:
            continue
        read += 1
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            claimed = set()  # a span matched by a longer phrase is not checked again by a shorter one
            for regex, names in PHRASES:
                for m in regex.finditer(line):
                    if any(a <= m.start() < b for a, b in claimed) or (rel, m.group(0)) in OTHER_FIGURES:
                        continue
                    claimed.add((m.start(), m.end()))
                    for name, text in zip(names, m.groups()):
                        checked += 1
                        if int(text.replace(",", "")) != truth[name]:
                            problems.append(f"{rel}:{lineno}: '{m.group(0)}': the table has {truth[name]} {name}"
                                            f" (suga-inspect --json)")
            for m in OP_ID.finditer(line):
                checked += 1
                name, value = m.group(1), int(m.group(2))
                if ids.get(name) != value:
                    problems.append(f"{rel}:{lineno}: 'SUGA_OP_{name} = {value}': the table has "
                                    f"{ids.get(name, 'no such operation')}")
    for p in problems:
        print(p)
    print(f"{checked} figures checked in {read} files; {len(problems)} wrong")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
