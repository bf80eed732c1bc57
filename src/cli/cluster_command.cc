#include "cli/cluster_command.h"

#include "admin/commands.h"
#include "cluster/options.h"
#include "cluster/supervisor.h"

#include <array>

namespace gregor::cli {
namespace {

struct cluster_commands {
    cluster::up_options up;
    cluster::down_options down;
    std::array<cluster::control_options, 4> control;
    CLI::App* up_cmd = nullptr;
    CLI::App* down_cmd = nullptr;
    std::array<CLI::App*, 4> control_cmds{};
};

cluster_commands& cluster_registry() {
    static cluster_commands c;
    return c;
}

constexpr std::array<cluster::control_action, 4> actions{
    cluster::control_action::kill, cluster::control_action::pause, cluster::control_action::resume,
    cluster::control_action::restart};
constexpr std::array<const char*, 4> action_help{
    "SIGKILL a broker (it stays down until `restart`)", "SIGSTOP a broker (a hung broker)",
    "SIGCONT a paused broker", "Stop a broker (controlled shutdown) and start it again"};

}  // namespace

CLI::App* add_cluster_command(CLI::App& app) {
    auto& c = cluster_registry();
    CLI::App* cmd = app.add_subcommand("cluster", "Run a local cluster, or inspect a cluster");
    cmd->require_subcommand(1);
    c.up_cmd = cmd->add_subcommand(
        "up", "Start ZooKeeper and N brokers in the foreground (Ctrl-C stops them)");
    cluster::add_up_options(*c.up_cmd, c.up);
    c.down_cmd = cmd->add_subcommand("down", "Stop the cluster `up` runs in --dir");
    cluster::add_down_options(*c.down_cmd, c.down);
    for (std::size_t i = 0; i < actions.size(); ++i) {
        c.control[i].action = actions[i];
        c.control_cmds[i] =
            cmd->add_subcommand(std::string(cluster::action_name(actions[i])), action_help[i]);
        cluster::add_control_options(*c.control_cmds[i], c.control[i]);
    }
    return cmd;
}

std::optional<int> run_cluster_command() {
    auto& c = cluster_registry();
    if (c.up_cmd->parsed()) {
        cluster::finish_up_options(*c.up_cmd, c.up);
        return cluster::run_up(c.up);
    }
    if (c.down_cmd->parsed()) {
        return cluster::run_down(c.down);
    }
    for (std::size_t i = 0; i < actions.size(); ++i) {
        if (c.control_cmds[i]->parsed()) {
            const auto& o = c.control[i];
            if (o.action != cluster::control_action::resume && !o.force) {
                if (auto refused = admin::refuse_unsafe_stop(o.dir, o.broker,
                                                             cluster::action_name(o.action))) {
                    return refused;
                }
            }
            return cluster::run_control(o);
        }
    }
    return std::nullopt;
}

}  // namespace gregor::cli
