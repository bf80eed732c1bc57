// The gregor binary: one executable, one subcommand per role (broker, cluster, topics,
// bench, ...). Subcommands are added as their modules land; unknown ones are an error.
#include "base/log.h"
#include "cli/admin_command.h"
#include "cli/bench_command.h"
#include "cli/broker_command.h"
#include "cli/cluster_command.h"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    CLI::App app{"gregor: a Kafka-compatible broker cluster coordinated by ZooKeeper"};
    app.require_subcommand(0, 1);
    bool show_version = false;
    app.add_flag("--version", show_version, "Print the version and exit");
    CLI::App* broker = gregor::cli::add_broker_command(app);
    CLI::App* bench = gregor::cli::add_bench_command(app);
    CLI::App* cluster = gregor::cli::add_cluster_command(app);
    gregor::cli::add_admin_commands(app, *cluster);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is a success; every other parse error is a usage error (exit code 2).
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (show_version) {
        std::printf("gregor %s\n", GREGOR_VERSION);
        return 0;
    }
    if (broker->parsed()) {
        return gregor::cli::run_broker_command();
    }
    if (bench->parsed()) {
        return gregor::cli::run_bench_command(bench);
    }
    if (auto rc = gregor::cli::run_cluster_command()) {
        return *rc;
    }
    if (auto rc = gregor::cli::run_admin_command()) {
        return *rc;
    }
    std::printf("%s", app.help().c_str());
    return 0;
}
