// The admin commands (admin module): `gregor topics list|describe|create|delete|alter`,
// `gregor groups list|describe|reset-offsets|delete`,
// `gregor cluster describe|health`, `gregor leaders elect`. Main thread only.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace gregor::cli {

// Registers `topics`, `groups` and `leaders` on `app`, and `describe` and `health` on `cluster`.
void add_admin_commands(CLI::App& app, CLI::App& cluster);
// The exit code of the admin command that was parsed, or nullopt if none was.
std::optional<int> run_admin_command();

}  // namespace gregor::cli
