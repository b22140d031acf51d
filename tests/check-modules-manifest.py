#!/usr/bin/env python3
"""The module manifest (handlers/meson.build) against the spec, as the compiled table has it.

usage: check-modules-manifest.py SUGA_INSPECT NAME=LOAD...

Each NAME=LOAD is one manifest entry. suga-inspect --json modules lists the spec's modules with
their module.load. Every module must be in both, loaded alike: a module the spec declares lazy but
the manifest links into libsuga would be called through a shared object that is never built, and
one the manifest builds as a shared object but the spec declares eager would be linked nowhere.
"""
import json
import subprocess
import sys


def main(argv):
    if len(argv) < 2 or any("=" not in entry for entry in argv[2:]):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    manifest = dict(entry.split("=", 1) for entry in argv[2:])
    listing = subprocess.run([argv[1], "--json", "modules"], check=True, capture_output=True, text=True).stdout
    spec = {module["name"]: module["load"] for module in json.loads(listing)}
    problems = []
    for name in sorted(spec.keys() - manifest.keys()):
        problems.append(f"module '{name}' (spec: load {spec[name]}) is missing from handlers/meson.build")
    for name in sorted(manifest.keys() - spec.keys()):
        problems.append(f"handlers/meson.build lists module '{name}', which no spec file declares")
    for name in sorted(spec.keys() & manifest.keys()):
        if spec[name] != manifest[name]:
            problems.append(f"module '{name}': the spec says load {spec[name]}, handlers/meson.build says "
                            f"{manifest[name]}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(spec)} modules, manifest and spec agree: " +
              ", ".join(f"{name} {spec[name]}" for name in sorted(spec)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
