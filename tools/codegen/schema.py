"""Parser and checker for gregor's message schema format (see schemas/README.md).

parse_schema(text, name) returns a SchemaFile: the API (if any), shared structs and the
messages (request/response/data), each a tree of Struct and Field objects. Every mistake in a
schema raises SchemaError with the file and line, so a bad schema fails the build early.
"""
import re

PRIMITIVES = {
    "bool", "int8", "int16", "int32", "int64", "uint16", "uint32", "float64",
    "string", "bytes", "records", "uuid",
}
# Integer types a field may carry as a strong type from model/fundamental.h (as=...).
STRONG_TYPES = {
    "node_id": "int32", "partition_id": "int32", "leader_epoch": "int32",
    "controller_epoch": "int32", "broker_epoch": "int64", "producer_id": "int64",
    "offset": "int64", "timestamp_ms": "int64",
}
CPP_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char",
    "class", "const", "continue", "default", "delete", "do", "double", "else", "enum",
    "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline",
    "int", "long", "mutable", "namespace", "new", "not", "operator", "or", "private",
    "protected", "public", "register", "return", "short", "signed", "sizeof", "static",
    "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
}
# Names the generated code uses itself inside structs and methods.
RESERVED = {"unknown_tags", "encode", "decode", "read", "w", "r", "t", "e", "ver", "flex",
            "tw", "rng", "m", "tag", "version_min", "version_max"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_VERSION = 0x7FFF


class SchemaError(Exception):
    pass


class Range:
    """An inclusive version range; hi is None for open-ended ("3+"), empty if lo is None."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        if text == "none":
            return Range(None, None)
        m = re.fullmatch(r"(\d+)\+|(\d+)-(\d+)|(\d+)", text)
        if not m:
            raise ValueError(f"bad version range '{text}'")
        if m.group(1):
            return Range(int(m.group(1)), None)
        if m.group(2):
            lo, hi = int(m.group(2)), int(m.group(3))
            if lo > hi:
                raise ValueError(f"empty version range '{text}'")
            return Range(lo, hi)
        return Range(int(m.group(4)), int(m.group(4)))

    def empty(self):
        return self.lo is None

    def top(self):
        return MAX_VERSION if self.hi is None else self.hi

    def contains(self, other):
        if other.empty():
            return True
        return not self.empty() and self.lo <= other.lo and other.top() <= self.top()

    def intersect(self, other):
        if self.empty() or other.empty():
            return Range(None, None)
        lo, hi = max(self.lo, other.lo), min(self.top(), other.top())
        if lo > hi:
            return Range(None, None)
        return Range(lo, None if hi == MAX_VERSION else hi)

    def union_hull(self, other):
        if self.empty():
            return other
        if other.empty():
            return self
        hi = max(self.top(), other.top())
        return Range(min(self.lo, other.lo), None if hi == MAX_VERSION else hi)

    def __repr__(self):
        if self.empty():
            return "none"
        return f"{self.lo}+" if self.hi is None else f"{self.lo}-{self.hi}"


class Field:
    def __init__(self, name, type_text, line):
        self.name, self.line = name, line
        self.is_array = type_text.startswith("[]")
        self.elem = type_text[2:] if self.is_array else type_text
        self.versions = Range(None, None)
        self.nullable = Range(None, None)
        self.tag = None
        self.tagged = Range(None, None)
        self.default = None
        self.strong = None
        self.struct = None  # Struct for struct-typed fields

    def is_struct(self):
        return self.elem not in PRIMITIVES


class Struct:
    def __init__(self, name, line, shared=False):
        self.name, self.line, self.shared = name, line, shared
        self.fields = []
        self.nested = []  # Structs declared inline under this struct's fields
        self.context = Range(None, None)  # versions in which the struct is encoded
        self.qualified = name  # C++ name from namespace scope


class Message:
    def __init__(self, kind, name, versions, flexible, line):
        self.kind, self.name, self.line = kind, name, line
        self.versions, self.flexible = versions, flexible
        self.struct = Struct(name, line)


class SchemaFile:
    def __init__(self, name):
        self.name = name
        self.api = None  # (snake name, key) or None for data-only files
        self.shared = {}
        self.messages = []


def camel(snake):
    return "".join(p.capitalize() for p in snake.split("_"))


def _fail(fname, line, msg):
    raise SchemaError(f"{fname}:{line}: {msg}")


def _parse_attrs(words, fname, line):
    attrs = {}
    for w in words:
        if "=" not in w:
            _fail(fname, line, f"expected key=value, got '{w}'")
        k, v = w.split("=", 1)
        if k in attrs:
            _fail(fname, line, f"repeated attribute '{k}'")
        attrs[k] = v
    return attrs


def _range(text, fname, line):
    try:
        return Range.parse(text)
    except ValueError as e:
        _fail(fname, line, str(e))


def _parse_header(words, sf, line):
    """A top-level line: api, struct, request, response or data. Returns the new Struct."""
    kind, fname = words[0], sf.name
    if kind == "api":
        attrs = _parse_attrs(words[2:], fname, line)
        if sf.api or len(words) < 3 or set(attrs) != {"key"}:
            _fail(fname, line, "expected 'api <name> key=<n>' once per file")
        sf.api = (words[1], int(attrs["key"]))
        return None
    if kind == "struct":
        if len(words) != 2 or not NAME.match(words[1]) or words[1] in sf.shared:
            _fail(fname, line, "expected 'struct <new_name>'")
        s = Struct(words[1], line, shared=True)
        sf.shared[s.name] = s
        return s
    if kind not in ("request", "response", "data"):
        _fail(fname, line, f"unknown declaration '{kind}'")
    name_words = 2 if kind == "data" else 1
    attrs = _parse_attrs(words[name_words:], fname, line)
    if set(attrs) != {"versions", "flexible"}:
        _fail(fname, line, "expected versions=<range> flexible=<range|none>")
    if kind == "data":
        name = words[1]
    elif sf.api is None:
        _fail(fname, line, f"'{kind}' before the 'api' line")
    else:
        name = f"{sf.api[0]}_{kind}"
    versions = _range(attrs["versions"], fname, line)
    flexible = _range(attrs["flexible"], fname, line)
    if versions.empty() or (not flexible.empty() and flexible.hi is not None):
        _fail(fname, line, "versions must be non-empty and flexible open-ended ('N+') or none")
    msg = Message(kind, name, versions, flexible, line)
    sf.messages.append(msg)
    return msg.struct


def _parse_field(words, fname, line):
    if len(words) < 3:
        _fail(fname, line, "expected '<name> <type> <versions> [key=value...]'")
    f = Field(words[0], words[1], line)
    f.versions = _range(words[2], fname, line)
    attrs = _parse_attrs(words[3:], fname, line)
    for k, v in attrs.items():
        if k == "nullable":
            f.nullable = _range(v, fname, line)
        elif k == "tag":
            f.tag = int(v)
        elif k == "tagged":
            f.tagged = _range(v, fname, line)
        elif k == "default":
            f.default = v
        elif k == "as":
            f.strong = v
        else:
            _fail(fname, line, f"unknown attribute '{k}'")
    return f


def parse_schema(text, fname):
    sf = SchemaFile(fname)
    stack = []
    prev = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        body = raw.split("#", 1)[0].rstrip()
        if not body.strip():
            continue
        spaces = len(body) - len(body.lstrip(" "))
        if "\t" in body or spaces % 4:
            _fail(fname, lineno, "indent with multiples of 4 spaces")
        level, words = spaces // 4, body.split()
        if level == 0:
            top = _parse_header(words, sf, lineno)
            stack, prev = ([top] if top else []), None
            continue
        if not stack:
            _fail(fname, lineno, "field outside a struct or message")
        if level == len(stack) + 1:
            if prev is None or not prev.is_struct() or prev.struct is not None:
                _fail(fname, lineno, "nested fields need a struct-typed field above them")
            prev.struct = Struct(prev.elem, prev.line)
            stack[-1].nested.append(prev.struct)
            stack.append(prev.struct)
        elif level > len(stack):
            _fail(fname, lineno, "indented too deep")
        del stack[level:]
        prev = _parse_field(words, fname, lineno)
        stack[-1].fields.append(prev)
    _resolve(sf)
    return sf


def _int_bounds(t):
    bits = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
    if t in bits:
        return -(1 << (bits[t] - 1)), (1 << (bits[t] - 1)) - 1
    return 0, (1 << (16 if t == "uint16" else 32)) - 1


def _check_default(f, fname):
    d = f.default
    if d is None:
        return
    if d == "null":
        if f.nullable.empty():
            _fail(fname, f.line, "default=null on a field that is never nullable")
        return
    if f.is_array or f.is_struct() or f.elem in ("bytes", "records", "uuid"):
        _fail(fname, f.line, "only null defaults for arrays, structs, bytes, records, uuid")
    if f.elem == "bool":
        if d not in ("true", "false"):
            _fail(fname, f.line, "bool default must be true or false")
    elif f.elem == "string":
        if not (len(d) >= 2 and d[0] == d[-1] == '"') or '"' in d[1:-1] or "\\" in d:
            _fail(fname, f.line, 'string default must be "..." without quotes or backslashes')
    elif f.elem == "float64":
        float(d)
    else:
        v = int(d, 0)
        lo, hi = _int_bounds(f.elem)
        if not lo <= v <= hi:
            _fail(fname, f.line, f"default {d} out of range for {f.elem}")


def _check_field(f, s, flexible, fname):
    if not NAME.match(f.name) or f.name in CPP_KEYWORDS or f.name in RESERVED:
        _fail(fname, f.line, f"bad or reserved field name '{f.name}'")
    if f.versions.empty():
        _fail(fname, f.line, "a field needs versions")
    if not f.nullable.empty():
        if not f.versions.contains(f.nullable):
            _fail(fname, f.line, "nullable versions outside the field's versions")
        if not (f.is_array or f.elem in ("string", "bytes", "records")):
            _fail(fname, f.line, "only strings, bytes, records and arrays can be nullable")
    if f.elem == "records" and f.is_array:
        _fail(fname, f.line, "arrays of records are not supported")
    if (f.tag is None) != f.tagged.empty():
        _fail(fname, f.line, "tag= and tagged= go together")
    if f.tag is not None:
        if repr(f.tagged) != repr(f.versions) or not flexible.contains(f.tagged):
            _fail(fname, f.line, "tagged versions must equal the field's versions, all flexible")
        if f.elem == "records":
            _fail(fname, f.line, "records cannot be tagged")
    if f.strong is not None:
        if STRONG_TYPES.get(f.strong) != f.elem:
            _fail(fname, f.line, f"as={f.strong} does not fit type {f.elem}")
    if f.is_struct() and f.struct is None:
        _fail(fname, f.line, f"unknown struct '{f.elem}'")
    if f.struct is not None and not f.nullable.empty() and not f.is_array:
        _fail(fname, f.line, "nullable struct fields are not supported")
    _check_default(f, fname)


def _walk(s, context, flexible, qualified, sf):
    """Sets contexts, flexible versions and C++ names below struct `s`; checks its fields."""
    s.context = s.context.union_hull(context) if s.shared else context
    if s.shared:
        if getattr(s, "flexible", None) is not None and repr(s.flexible) != repr(flexible):
            _fail(sf.name, s.line, "shared struct used with different flexible versions")
    else:
        s.qualified = qualified
    s.flexible = flexible
    names, tags = set(), set()
    for f in s.fields:
        if f.elem not in PRIMITIVES and f.struct is None:
            f.struct = sf.shared.get(f.elem)
        _check_field(f, s, flexible, sf.name)
        if f.name in names or (f.tag is not None and f.tag in tags):
            _fail(sf.name, f.line, f"repeated field name or tag in '{s.name}'")
        names.add(f.name)
        if f.tag is not None:
            tags.add(f.tag)
        present = f.versions.intersect(context)
        if present.empty() and not s.shared:
            _fail(sf.name, f.line, f"field '{f.name}' is never present")
        if f.struct is not None and not present.empty():
            child = f"{qualified}::{f.struct.name}"
            _walk(f.struct, present, flexible, child, sf)
    nested_names = set()
    for n in s.nested:
        if n.name in names or n.name in sf.shared or n.name == s.name or n.name in nested_names:
            _fail(sf.name, n.line, f"struct name '{n.name}' collides")
        nested_names.add(n.name)


def _resolve(sf):
    seen = set()
    for m in sf.messages:
        if m.name in seen:
            _fail(sf.name, m.line, f"repeated message '{m.name}'")
        seen.add(m.name)
    for s in sf.shared.values():
        if s.name in seen:
            _fail(sf.name, s.line, "shared struct named like a message")
    for m in sf.messages:
        _walk(m.struct, m.versions, m.flexible, m.name, sf)
    for s in sf.shared.values():
        if s.context.empty():
            _fail(sf.name, s.line, f"shared struct '{s.name}' is never used")
        for f in s.fields:
            if f.versions.intersect(s.context).empty():
                _fail(sf.name, f.line, f"field '{f.name}' is never present")
