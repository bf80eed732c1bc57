// Where a test finds the source tree's files and the gregor binary, at run time.
//
// Test targets get this header through `-include` (gregor_use_test_paths in
// tests/support/CMakeLists.txt) and macros such as GREGOR_BINARY or GREGOR_GROUP_CLIENTS that
// call these functions with paths relative to the source tree. Only test_paths.cc holds the
// clone's absolute paths, so every other test file compiles to the same bytes in any clone
// and the compiler cache can reuse it. Any thread; the strings live until exit.
#pragma once

namespace gregor::test {

// `relative` (a path inside the source tree) made absolute.
const char* source_path(const char* relative);
// The gregor executable of this build.
const char* gregor_binary_path();

}  // namespace gregor::test
