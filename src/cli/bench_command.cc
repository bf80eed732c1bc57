#include "cli/bench_command.h"

#include "bench/cli.h"

#include <string>
#include <vector>

namespace gregor::cli {

CLI::App* add_bench_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand(
        "bench", "Benchmark a cluster: produce, consume, e2e, limits, failover (--help for more)");
    // Everything after "bench" (including --help) goes to src/bench's parser untouched.
    cmd->prefix_command();
    cmd->set_help_flag();
    return cmd;
}

int run_bench_command(CLI::App* cmd) {
    return bench::bench_main(cmd->remaining());
}

}  // namespace gregor::cli
