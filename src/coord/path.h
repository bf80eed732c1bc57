// ZooKeeper path rules shared by both client implementations.
//
// A valid path is "/" or starts with "/", has no empty, "." or ".." segment, no trailing "/"
// and no NUL byte; ZooKeeper rejects anything else and so do we, before touching the tree or
// the wire. Pure functions; any thread.
#pragma once

#include "base/result.h"
#include "coord/errc.h"

#include <string>
#include <string_view>

namespace gregor::coord {

// Returns ok iff `path` is a valid ZooKeeper path.
result<void> validate_path(std::string_view path);

// The parent of a valid path ("/a/b" -> "/a", "/a" -> "/"). REQUIRES: path != "/".
std::string_view parent_path(std::string_view path);
// The last segment of a valid path ("/a/b" -> "b"). REQUIRES: path != "/".
std::string_view base_name(std::string_view path);
// Joins a parent path and a child name ("/" + "a" -> "/a", "/a" + "b" -> "/a/b").
std::string join_path(std::string_view parent, std::string_view name);

// The 10-digit, zero-padded counter ZooKeeper appends to sequential znodes.
std::string sequence_suffix(std::int32_t counter);

}  // namespace gregor::coord
