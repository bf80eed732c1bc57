#include "admin/options.h"

namespace gregor::admin {

void add_common_options(CLI::App& cmd, common_options& o) {
    // --bootstrap-server is Kafka's spelling (kafka-topics.sh, kafka-consumer-groups.sh);
    // --bootstrap and -b are gregor's older names, kept so that scripts keep working.
    cmd.add_option("--bootstrap-server,--bootstrap,-b", o.bootstrap,
                   "host:port[,host:port...] (default: --dir's cluster, else 127.0.0.1:9092)");
    cmd.add_option("--dir,-d", o.dir, "A `gregor cluster up` directory to read addresses from");
    cmd.add_option("--format", o.format, "Output: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    cmd.add_option("--request-timeout", o.request_timeout_s, "Seconds per request")
        ->check(CLI::Range(1, 3600));
}

void add_journal_options(CLI::App& cmd, journal_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("--http", o.http,
                   "host:port[,...] of brokers' gregor.http.listener (default: --dir's brokers)");
    cmd.add_option("--topic", o.topic, "Only this topic's decisions");
    cmd.add_option("--partition", o.partition, "Only this partition (with --topic)")
        ->check(CLI::Range(0, INT32_MAX));
    cmd.add_option("--since-minutes", o.since_minutes, "Only the last N minutes")
        ->check(CLI::Range(1, INT32_MAX));
    cmd.add_option("--limit", o.limit, "At most the newest N decisions")
        ->check(CLI::Range(1, 10'000'000));
}

void add_can_stop_options(CLI::App& cmd, can_stop_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("broker", o.broker, "The broker id to ask about")
        ->required()
        ->check(CLI::Range(0, INT32_MAX));
    cmd.add_option("--http", o.http,
                   "host:port[,...] of brokers' gregor.http.listener (default: --dir's brokers)");
}

void add_describe_cluster_options(CLI::App& cmd, describe_cluster_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("--zookeeper", o.zookeeper,
                   "ZooKeeper host:port, to show the controller epoch (default: from --dir)");
}

void add_health_options(CLI::App& cmd, health_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("--brokers,-n", o.brokers, "Expected number of brokers (default: --dir's)")
        ->check(CLI::Range(1, 10000));
    cmd.add_flag("--watch", o.watch, "Print the verdict every --interval seconds");
    cmd.add_flag("--exit-when-healthy", o.exit_when_healthy,
                 "Poll until healthy, then exit 0 (exit 1 when --timeout passes first)");
    cmd.add_option("--timeout", o.timeout_s, "Seconds to keep polling (0: no limit)")
        ->check(CLI::Range(0, 86400));
    cmd.add_option("--interval", o.interval_s, "Seconds between polls")->check(CLI::Range(1, 3600));
}

void add_topics_list_options(CLI::App& cmd, topics_list_options& o) {
    add_common_options(cmd, o.common);
}

void add_topics_describe_options(CLI::App& cmd, topics_describe_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("topic", o.topics, "Topics to describe (default: all)");
    auto* ur = cmd.add_flag("--under-replicated", o.under_replicated,
                            "Only partitions whose ISR is smaller than their replicas");
    auto* um = cmd.add_flag("--under-min-isr", o.under_min_isr,
                            "Only partitions whose ISR is below min.insync.replicas");
    auto* un =
        cmd.add_flag("--unavailable", o.unavailable, "Only partitions without a live leader");
    ur->excludes(um)->excludes(un);
    um->excludes(un);
    auto* cf = cmd.add_flag("--configs", o.configs,
                            "Every topic config with its value and source (overrides are "
                            "always shown)");
    auto* pr = cmd.add_flag("--producers", o.producers,
                            "Each partition's active idempotent producers, asked of its leader "
                            "(DescribeProducers), instead of the partition lines");
    pr->excludes(cf)->excludes(ur)->excludes(um)->excludes(un);
}

void add_topics_create_options(CLI::App& cmd, topics_create_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("topic", o.topic, "Topic name")->required();
    cmd.add_option("--partitions,-p", o.partitions, "Partitions (default: the broker's)")
        ->check(CLI::Range(1, 1000000));
    cmd.add_option("--replication-factor,-r", o.replication_factor,
                   "Replicas per partition (default: the broker's)")
        ->check(CLI::Range(1, 32767));
    cmd.add_option("--config,-c", o.configs, "Topic config key=value (repeatable)");
    cmd.add_flag("--validate-only", o.validate_only, "Check the request without creating");
}

void add_topics_delete_options(CLI::App& cmd, topics_delete_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("topic", o.topics, "Topics to delete")->required();
}

void add_topics_alter_options(CLI::App& cmd, topics_alter_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("topic", o.topic, "Topic name")->required();
    cmd.add_option("--partitions,-p", o.partitions, "New (larger) partition count")
        ->check(CLI::Range(1, 1000000));
    cmd.add_option("--config,-c", o.configs, "Set a topic config key=value (repeatable)");
    cmd.add_option("--delete-config", o.delete_configs, "Remove a topic config (repeatable)");
    auto* rf = cmd.add_option(
        "--replication-factor,-r", o.replication_factor,
        "New replication factor, reached by reassignment (AlterPartitionReassignments). "
        "Growing keeps each partition's replicas in order and adds the brokers holding the "
        "fewest replicas of the topic (ties: lower id); shrinking keeps the first (preferred) "
        "replica and removes those on the brokers holding the most (ties: later in the list)");
    rf->check(CLI::Range(1, 32767));
    auto* w = cmd.add_flag("--wait", o.wait,
                           "With --replication-factor: poll until the reassignment completes");
    w->needs(rf);
    cmd.add_option("--wait-timeout", o.wait_timeout_s, "Seconds --wait polls at most")
        ->check(CLI::Range(1, 86400));
}

void add_topics_reassignments_options(CLI::App& cmd, topics_reassignments_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("topic", o.topics, "Topics (default: all)");
}

void add_leaders_elect_options(CLI::App& cmd, leaders_elect_options& o) {
    add_common_options(cmd, o.common);
    auto* p = cmd.add_flag("--preferred", o.preferred, "Move leaders to the preferred replica");
    auto* u = cmd.add_flag("--unclean", o.unclean,
                           "Elect a leader outside the ISR where none is left (may lose data)");
    p->excludes(u);
    cmd.add_option("partitions", o.partitions, "topic or topic:partition (default: all)");
}

}  // namespace gregor::admin
