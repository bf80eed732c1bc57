#include "cli/admin_command.h"

#include "admin/commands.h"
#include "admin/options.h"

#include <functional>
#include <vector>

namespace gregor::cli {
namespace {

struct admin_commands {
    admin::describe_cluster_options describe;
    admin::health_options health;
    admin::journal_options journal;
    admin::can_stop_options can_stop;
    admin::topics_list_options list;
    admin::topics_describe_options topics_describe;
    admin::topics_create_options create;
    admin::topics_delete_options remove;
    admin::topics_alter_options alter;
    admin::topics_reassignments_options reassignments;
    admin::leaders_elect_options elect;
    admin::groups_list_options groups_list;
    admin::groups_describe_options groups_describe;
    admin::groups_reset_options groups_reset;
    admin::groups_delete_options groups_delete;
    // Each parsed-able subcommand and what runs it.
    std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
};

admin_commands& admin_registry() {
    static admin_commands c;
    return c;
}

template <class Options>
void add(CLI::App& parent, const char* name, const char* help, Options& o,
         void (*declare)(CLI::App&, Options&), int (*run)(const Options&)) {
    CLI::App* cmd = parent.add_subcommand(name, help);
    declare(*cmd, o);
    admin_registry().runners.emplace_back(cmd, [&o, run] { return run(o); });
}

// `gregor groups ...`: kafka-consumer-groups.sh's actions as subcommands.
void add_group_commands(CLI::App& app) {
    auto& c = admin_registry();
    CLI::App* groups = app.add_subcommand(
        "groups", "Consumer groups: list, describe, reset offsets, delete (kafka-consumer-groups)");
    groups->require_subcommand(1);
    add(*groups, "list", "Consumer groups of every broker (ListGroups), optionally with state",
        c.groups_list, admin::add_groups_list_options, admin::run_groups_list);
    add(*groups, "describe", "Offsets and lag, members, or state of groups", c.groups_describe,
        admin::add_groups_describe_options, admin::run_groups_describe);
    add(*groups, "reset-offsets", "Plan, and with --execute commit, new committed offsets",
        c.groups_reset, admin::add_groups_reset_options, admin::run_groups_reset_offsets);
    add(*groups, "delete", "Delete groups without members and their offsets (DeleteGroups)",
        c.groups_delete, admin::add_groups_delete_options, admin::run_groups_delete);
}

}  // namespace

void add_admin_commands(CLI::App& app, CLI::App& cluster) {
    auto& c = admin_registry();
    add(cluster, "describe", "Cluster id, brokers, controller (and its epoch via ZooKeeper)",
        c.describe, admin::add_describe_cluster_options, admin::run_describe_cluster);
    add(cluster, "health", "One verdict: brokers up, partitions led, none under-replicated",
        c.health, admin::add_health_options, admin::run_health);
    add(cluster, "journal", "The controller's leader/ISR decisions and their reasons", c.journal,
        admin::add_journal_options, admin::run_cluster_journal);
    add(cluster, "can-stop",
        "Whether stopping a broker now keeps every partition led and at min.insync.replicas "
        "(exit 0 yes, 3 no)",
        c.can_stop, admin::add_can_stop_options, admin::run_cluster_can_stop);
    CLI::App* topics = app.add_subcommand("topics", "List, describe, create, delete, alter topics");
    topics->require_subcommand(1);
    add(*topics, "list", "Topic names", c.list, admin::add_topics_list_options,
        admin::run_topics_list);
    add(*topics, "describe", "Partitions: leader, leader epoch, replicas, ISR", c.topics_describe,
        admin::add_topics_describe_options, admin::run_topics_describe);
    add(*topics, "create", "Create a topic (CreateTopics)", c.create,
        admin::add_topics_create_options, admin::run_topics_create);
    add(*topics, "delete", "Delete topics (DeleteTopics)", c.remove,
        admin::add_topics_delete_options, admin::run_topics_delete);
    add(*topics, "alter", "Add partitions, change configs or the replication factor", c.alter,
        admin::add_topics_alter_options, admin::run_topics_alter);
    add(*topics, "reassignments", "Ongoing partition reassignments (ListPartitionReassignments)",
        c.reassignments, admin::add_topics_reassignments_options, admin::run_topics_reassignments);
    CLI::App* leaders = app.add_subcommand("leaders", "Partition leadership");
    leaders->require_subcommand(1);
    add(*leaders, "elect", "Preferred or unclean leader election (ElectLeaders)", c.elect,
        admin::add_leaders_elect_options, admin::run_leaders_elect);
    add_group_commands(app);
}

std::optional<int> run_admin_command() {
    for (const auto& [cmd, run] : admin_registry().runners) {
        if (cmd->parsed()) {
            return run();
        }
    }
    return std::nullopt;
}

}  // namespace gregor::cli
