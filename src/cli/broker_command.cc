#include "cli/broker_command.h"

#include "base/log.h"
#include "broker/app.h"
#include "broker/config.h"

#include <cstdio>
#include <string>
#include <vector>

namespace gregor::cli {
namespace {

struct broker_options {
    std::string config_path;
    std::vector<std::string> overrides;
    std::string log_level = "info";
};

broker_options& options() {
    static broker_options o;
    return o;
}

}  // namespace

CLI::App* add_broker_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("broker", "Run one broker (Kafka server.properties keys)");
    cmd->add_option("--config,-c", options().config_path, "server.properties file")->required();
    cmd->add_option("--set", options().overrides, "Override one key: --set key=value")
        ->allow_extra_args(false);
    cmd->add_option("--log-level", options().log_level, "trace, debug, info, warn, error");
    return cmd;
}

int run_broker_command() {
    const broker_options& o = options();
    if (!log_set_level(o.log_level)) {
        std::fprintf(stderr, "gregor broker: --log-level: unknown level '%s'\n",
                     o.log_level.c_str());
        return broker::exit_config;
    }
    auto config = broker::load_config(o.config_path, o.overrides);
    if (!config) {
        // One line naming the key (the config module puts the key and line in the detail).
        std::fprintf(stderr, "gregor broker: configuration error: %s\n",
                     config.err().detail.empty() ? config.err().to_string().c_str()
                                                 : config.err().detail.c_str());
        return broker::exit_config;
    }
    log_set_context(fmt::format("b{}", config->broker_id()));
    broker::app app(std::move(*config));
    return app.run();
}

}  // namespace gregor::cli
