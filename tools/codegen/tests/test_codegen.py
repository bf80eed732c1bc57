"""Goal: the generator's output for a tiny schema stays exactly as reviewed, and schema
mistakes fail with a file:line message. Method: compare against the checked-in expected/
files (regenerate them with UPDATE_GOLDEN=1 after reviewing a deliberate change).
Run: python3 -m unittest discover -s tools/codegen/tests
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import codegen  # noqa: E402
from schema import SchemaError, parse_schema  # noqa: E402

EXPECTED = os.path.join(HERE, "expected")


class GoldenTest(unittest.TestCase):
    def test_tiny_schema_output_matches_expected(self):
        out = codegen.generate([os.path.join(HERE, "tiny.schema")])
        if os.environ.get("UPDATE_GOLDEN"):
            os.makedirs(EXPECTED, exist_ok=True)
            for name, text in out.items():
                with open(os.path.join(EXPECTED, name), "w", encoding="utf-8") as f:
                    f.write(text)
        self.assertEqual(sorted(out), sorted(os.listdir(EXPECTED)))
        for name, text in out.items():
            with open(os.path.join(EXPECTED, name), encoding="utf-8") as f:
                self.assertEqual(text, f.read(), name)


class SchemaErrorTest(unittest.TestCase):
    def fails(self, text, fragment):
        with self.assertRaises(SchemaError) as ctx:
            parse_schema(text, "bad")
        self.assertIn(fragment, str(ctx.exception))

    def test_nullable_outside_versions(self):
        self.fails("api a key=1\nrequest versions=0-1 flexible=none\n"
                   "    s string 1+ nullable=0+\n", "bad:3")

    def test_tag_outside_flexible_versions(self):
        self.fails("api a key=1\nrequest versions=0-3 flexible=2+\n"
                   "    x int32 1+ tag=0 tagged=1+\n", "tagged")

    def test_unknown_struct(self):
        self.fails("api a key=1\nrequest versions=0 flexible=none\n    x []nope 0+\n",
                   "unknown struct")

    def test_reserved_and_keyword_names(self):
        self.fails("api a key=1\nrequest versions=0 flexible=none\n    default int8 0+\n",
                   "reserved")
        self.fails("api a key=1\nrequest versions=0 flexible=none\n    unknown_tags int8 0+\n",
                   "reserved")

    def test_strong_type_must_match(self):
        self.fails("api a key=1\nrequest versions=0 flexible=none\n    x int64 0+ as=node_id\n",
                   "as=node_id")

    def test_bad_indent(self):
        self.fails("api a key=1\nrequest versions=0 flexible=none\n  x int8 0+\n", "indent")

    def test_default_out_of_range(self):
        self.fails("api a key=1\nrequest versions=0 flexible=none\n    x int8 0+ default=300\n",
                   "out of range")


if __name__ == "__main__":
    unittest.main()
