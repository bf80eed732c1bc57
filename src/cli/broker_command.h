// `gregor broker --config server.properties [--set key=value ...]`: runs one broker.
// Main thread only.
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

// Registers the subcommand on `app`; `run_broker_command` runs it once parsed.
CLI::App* add_broker_command(CLI::App& app);
int run_broker_command();

}  // namespace gregor::cli
