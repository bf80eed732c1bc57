"""Goal: tools/tidy.py finds over-long functions and ignores what only looks like code
(comments, strings, preprocessor lines, nested blocks and lambdas). Method: small sources."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import tidy  # noqa: E402


class FunctionsTest(unittest.TestCase):
    def test_methods_free_functions_and_lambdas(self):
        src = ("namespace a {\nstruct s {\n    int f(int x) const {\n        if (x) { return 1; }\n"
               "        return 2;\n    }\n};\nint g() {\n    auto l = [](int y) { return y; };\n"
               "    return l(3);\n}\n}\n")
        self.assertEqual(list(tidy.functions(src)), [("f", 3, 4), ("g", 8, 4)])

    def test_braces_in_comments_strings_and_directives_are_ignored(self):
        src = ('#if defined(X)\n#endif\nnamespace b {\n// void h() {\nconst char* s = "{";\n'
               "int k() { return '}'; }\n}\n")
        self.assertEqual(list(tidy.functions(src)), [("k", 6, 1)])

    def test_constructor_with_initialiser_list(self):
        src = "x::x(int v)\n    : v_(v) {\n    go();\n}\n"
        self.assertEqual(list(tidy.functions(src)), [("x::x", 2, 3)])

    def test_long_function_is_reported(self):
        body = "".join("    step();\n" for _ in range(80))
        src = "void long_one() {\n" + body + "}\n"
        [(name, _, count)] = list(tidy.functions(src))
        self.assertEqual(name, "long_one")
        self.assertGreater(count, tidy.FUNCTION_LINES_MAX)


if __name__ == "__main__":
    unittest.main()
