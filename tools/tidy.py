#!/usr/bin/env python3
"""Size ratchet for gregor's C++ sources: functions at most 70 lines, files at most 800.

Scans src/ (not tests/ folders, not generated code). A function is a brace block opened at
namespace or class scope after a parameter list. Existing violations may be listed in
tools/tidy_allow.txt ("path:function" or "path" for a file), one per line; the list may only
shrink. Exit code 1 iff a violation is not allowed. Run: python3 tools/tidy.py [root]
"""
import os
import re
import sys

FUNCTION_LINES_MAX = 70
FILE_LINES_MAX = 800
SCOPE_WORDS = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$")


def strip_comments_and_strings(text):
    """Blanks out comments, string and char literals, keeping newlines and offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + (m.group(1) if m else "") + '"', i)
            j = n if end < 0 else end + len(m.group(1) if m else "") + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return blank_preprocessor("".join(out))


def blank_preprocessor(code):
    """Blanks preprocessor directives (and their continuation lines)."""
    lines = code.split("\n")
    continued = False
    for k, line in enumerate(lines):
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            lines[k] = " " * len(line)
    return "\n".join(lines)


def functions(text):
    """Yields (name, first_line, line_count) of each function body in the file."""
    code = strip_comments_and_strings(text)
    stack = []  # per open brace: "scope", "function" or "block"
    header_start = 0
    for i, c in enumerate(code):
        if c in ";":
            header_start = i + 1
        elif c == "{":
            header = code[header_start:i]
            enclosing_is_scope = all(kind == "scope" for kind, _, _ in stack)
            if SCOPE_WORDS.search(header.split("(")[0]) and "(" not in header.split("=")[0][-2:]:
                kind = "scope"
            elif enclosing_is_scope and ")" in header:
                kind = "function"
            elif enclosing_is_scope and not header.strip():
                kind = "scope"
            else:
                kind = "block"
            name = re.findall(r"([~\w:]+)\s*\(", header)
            stack.append((kind, i, name[0] if name else "?"))
            header_start = i + 1
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function":
                    first = code.count("\n", 0, start) + 1
                    last = code.count("\n", 0, i) + 1
                    yield name, first, last - first + 1
            header_start = i + 1


def scan(root):
    allowed = set()
    allow_path = os.path.join(root, "tools", "tidy_allow.txt")
    if os.path.exists(allow_path):
        allowed = {line.strip() for line in open(allow_path) if line.strip()}
    problems = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "src")):
        dirnames[:] = [d for d in dirnames if d not in ("tests", "gen", "generated")]
        for f in sorted(filenames):
            if not f.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            text = open(path, encoding="utf-8", errors="replace").read()
            lines = text.count("\n")
            if lines > FILE_LINES_MAX and rel not in allowed:
                problems.append(f"{rel}: {lines} lines (max {FILE_LINES_MAX})")
            for name, first, count in functions(text):
                if count > FUNCTION_LINES_MAX and f"{rel}:{name}" not in allowed:
                    problems.append(f"{rel}:{first}: function {name} has {count} lines "
                                    f"(max {FUNCTION_LINES_MAX})")
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = scan(os.path.abspath(root))
    for p in problems:
        print(p)
    print(f"tidy: {len(problems)} size violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
