// `gregor cluster up|down|kill|pause|resume|restart`: the local cluster launcher
// (cluster module). Main thread only.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace gregor::cli {

// Registers `cluster` and its launcher subcommands on `app`; returns the `cluster`
// subcommand so other commands (describe, health) can be added to it.
CLI::App* add_cluster_command(CLI::App& app);
// The exit code of the launcher subcommand that was parsed, or nullopt if none was.
std::optional<int> run_cluster_command();

}  // namespace gregor::cli
