#!/usr/bin/env python3
"""gregor's protocol code generator: schemas/*.schema -> C++ (see schemas/README.md).

Usage: codegen.py --out DIR SCHEMA...
Writes DIR/<name>.h, DIR/<name>.cc and DIR/<name>_random.cc per schema, plus DIR/all.h,
DIR/all.cc and DIR/random_fill.h. Files whose content is unchanged are not rewritten, so an
edit to one schema recompiles only what depends on it. Python 3 standard library only.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import emit_cpp  # noqa: E402
from schema import SchemaError, parse_schema  # noqa: E402


def write_if_changed(path, text):
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def generate(schema_paths):
    """Returns {file name: content} for the given schema files."""
    files = []
    for path in sorted(schema_paths):
        name = os.path.basename(path)[: -len(".schema")]
        with open(path, encoding="utf-8") as f:
            files.append(parse_schema(f.read(), name))
    keys = {}
    for sf in files:
        if sf.api:
            if sf.api[1] in keys:
                raise SchemaError(f"{sf.name}: api key {sf.api[1]} also used by {keys[sf.api[1]]}")
            keys[sf.api[1]] = sf.name
    out = {}
    for sf in files:
        out[f"{sf.name}.h"] = emit_cpp.emit_header(sf)
        out[f"{sf.name}.cc"] = emit_cpp.emit_source(sf)
        out[f"{sf.name}_random.cc"] = emit_cpp.emit_random(sf)
    out["all.h"] = emit_cpp.emit_all_header(files)
    out["all.cc"] = emit_cpp.emit_all_source(files)
    out["random_fill.h"] = emit_cpp.emit_random_header(files)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("schemas", nargs="+")
    args = parser.parse_args()
    try:
        out = generate(args.schemas)
    except (SchemaError, ValueError) as e:
        print(f"codegen: {e}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    for name, text in out.items():
        write_if_changed(os.path.join(args.out, name), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
