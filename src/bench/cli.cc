#include "bench/cli.h"

#include "bench/workloads.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace gregor::bench {
namespace {

constexpr int exit_bad_argument = 2;

// Where CLI11 writes options that have no value until given (the rest go straight into
// options): copied into the std::optional fields after the parse.
struct optional_values {
    std::int64_t records = 0;
    double duration_s = 0;
    int linger_ms = 0;
    int batch_size = 0;
    std::int64_t keys = 0;
    int partitions = 0;
    int replication_factor = 0;
    int join_members = 0;
    std::int64_t initial_delay_ms = 0;
    std::int64_t commits = 0;
    std::int64_t sync_commits = 0;
};

struct parser {
    CLI::App app{"Benchmarks a Kafka cluster with librdkafka, beside this machine's limits",
                 "gregor bench"};
    options o;
    optional_values v;
    std::vector<std::pair<CLI::App*, workload>> workloads;
    std::vector<CLI::Option*> records, duration, linger, batch, partitions, replication;
    CLI::Option* keys = nullptr;
    CLI::Option* join_members = nullptr;
    CLI::Option* initial_delay = nullptr;
    CLI::Option* commits = nullptr;
    CLI::Option* sync_commits = nullptr;
};

// `needs_cluster`: the Kafka options; `limits`: the limits pass and --broker-pid, which
// failover (a timing of the cluster, not of a data path) does not run.
void add_common(CLI::App* sub, options& o, bool needs_cluster, bool limits = true) {
    if (needs_cluster) {
        sub->add_option("--bootstrap,-b", o.bootstrap, "host:port[,host:port...]");
        sub->add_option("--topic,-t", o.topic, "Topic to use (default gregor-bench)");
        sub->add_option("--timeout", o.timeout_s,
                        "Seconds to wait for the cluster at each step (default 60)");
        sub->add_option("-X", o.client_settings, "librdkafka setting key=value (repeatable)")
            ->allow_extra_args(false);
        sub->add_flag("--verbose", o.verbose, "Show librdkafka's log");
    }
    sub->add_option("--format", o.format, "text or json");
    if (!limits) {
        return;
    }
    if (needs_cluster) {
        sub->add_option("--limits-from", o.limits_from,
                        "Machine limits from a `gregor bench limits --format json` file");
        sub->add_flag("--no-limits", o.no_limits, "Skip the limits pass and the ratios");
        sub->add_option("--broker-pid", o.broker_pid,
                        "Also report this local process's CPU time and RSS (the broker)");
    }
    sub->add_option("--dir", o.dir, "Directory for the disk limits test files");
    sub->add_option("--bytes", o.bytes, "Size of the disk limits test file");
}

void add_producer_options(parser& p, CLI::App* sub, bool rate) {
    p.records.push_back(sub->add_option("--records,-n", p.v.records, "Records to send"));
    p.duration.push_back(sub->add_option("--duration", p.v.duration_s, "Seconds to send for"));
    sub->add_option("--record-size", p.o.record_size, "Bytes per record value (default 100)");
    sub->add_option("--acks", p.o.acks, "0, 1 or all (default all, as librdkafka)");
    sub->add_option("--compression", p.o.compression, "none, gzip, snappy, lz4 or zstd");
    p.linger.push_back(sub->add_option("--linger-ms", p.v.linger_ms, "librdkafka linger.ms"));
    p.partitions.push_back(sub->add_option("--partitions", p.v.partitions,
                                           "Partitions of the topic if it has to be created"));
    p.replication.push_back(sub->add_option("--replication-factor", p.v.replication_factor,
                                            "Replicas per partition if it has to be created"));
    if (rate) {
        sub->add_option("--rate", p.o.rate, "Records per second (default 1000)");
    } else {
        sub->add_option("--producers", p.o.producers, "Producer threads, one client each");
        sub->add_flag("--idempotent", p.o.idempotent,
                      "Idempotent producers (enable.idempotence=true; needs --acks all)");
        p.batch.push_back(
            sub->add_option("--batch-size", p.v.batch_size, "librdkafka batch.size in bytes"));
        p.keys = sub->add_option("--keys", p.v.keys,
                                 "Key records with \"key-<i>\", i round-robin over 0..N-1 "
                                 "(default: no keys; a compacted topic needs them)");
    }
}

CLI::App* define_group(parser& p) {
    auto* g = p.app.add_subcommand(
        "group", "Consumer groups: group read vs assign, rebalance time, commit rate, takeover");
    add_common(g, p.o, true, false);
    p.records.push_back(g->add_option("--records,-n", p.v.records,
                                      "Records to read (and to write first if the topic is new)"));
    p.duration.push_back(
        g->add_option("--duration", p.v.duration_s, "Seconds to read for at most"));
    g->add_option("--record-size", p.o.record_size, "Bytes per record written first (default 100)");
    p.partitions.push_back(g->add_option("--partitions", p.v.partitions,
                                         "Partitions of the topic if it has to be created"));
    p.replication.push_back(g->add_option("--replication-factor", p.v.replication_factor,
                                          "Replicas per partition if it has to be created"));
    g->add_option("--members", p.o.members, "Members reading the topic together (default 3)");
    g->add_option("--group", p.o.group, "Group id (default: a fresh one per run)");
    p.join_members = g->add_option("--join-members", p.v.join_members,
                                   "Rebalance time: this many members join at once");
    p.initial_delay = g->add_option(
        "--initial-delay-ms", p.v.initial_delay_ms,
        "The brokers' group.initial.rebalance.delay.ms, subtracted from the rebalance time");
    p.commits = g->add_option("--commits", p.v.commits,
                              "Commit rate: pipelined OffsetCommits (with --takeover: offsets)");
    p.sync_commits =
        g->add_option("--sync-commits", p.v.sync_commits,
                      "Synchronous OffsetCommits first (default min(--commits, 10000))");
    g->add_option("--commit-window", p.o.commit_window, "Async commits in flight (default 256)");
    g->add_flag("--takeover", p.o.takeover,
                "Kill -9 the group's coordinator and time its successor's load");
    g->add_option("--cluster-dir", p.o.cluster_dir,
                  "The `gregor cluster up` directory (pids, broker.log)");
    return g;
}

void define(parser& p) {
    p.app.require_subcommand(1, 1);
    auto* produce = p.app.add_subcommand("produce", "Records/s, MB/s and ack latency");
    add_common(produce, p.o, true);
    add_producer_options(p, produce, false);
    auto* consume = p.app.add_subcommand("consume", "Read a topic from the beginning");
    add_common(consume, p.o, true);
    p.records.push_back(consume->add_option("--records,-n", p.v.records, "Records to read"));
    auto* e2e = p.app.add_subcommand("e2e", "End-to-end latency at a given rate");
    add_common(e2e, p.o, true);
    add_producer_options(p, e2e, true);
    auto* limits = p.app.add_subcommand("limits", "Disk, fsync and loopback limits");
    add_common(limits, p.o, false);
    auto* failover = p.app.add_subcommand("failover", "Failover phases after a broker is killed or stopped");
    add_common(failover, p.o, true, false);
    p.partitions.push_back(
        failover->add_option("--partitions", p.v.partitions, "Partitions to create (100)"));
    p.replication.push_back(failover->add_option("--replication-factor", p.v.replication_factor,
                                                 "Replicas per partition (min(3, brokers))"));
    failover->add_option("--rate", p.o.rate, "Records/s with --produce (default 1000)");
    failover->add_option("--acks", p.o.acks, "0, 1 or all (default all)");
    failover->add_option("--kill-cmd", p.o.kill_cmd, "Command that kills broker {id}");
    failover->add_option("--stop-cmd", p.o.stop_cmd,
                         "Command that stops broker {id} cleanly (instead of --kill-cmd)");
    failover->add_option("--victim", p.o.victim,
                         "controller (default), leader (the non-controller leading most "
                         "partitions) or a broker id");
    failover->add_flag("--produce", p.o.with_producer, "Measure unavailability per partition");
    failover->add_option("--cluster-dir", p.o.cluster_dir,
                         "The `gregor cluster up` directory: adds the controller's own phases "
                         "from its broker.log");
    auto* group = define_group(p);
    p.workloads = {{produce, workload::produce},   {consume, workload::consume},
                   {e2e, workload::e2e},           {limits, workload::limits},
                   {failover, workload::failover}, {group, workload::group}};
}

bool given(const std::vector<CLI::Option*>& opts) {
    return std::any_of(opts.begin(), opts.end(), [](CLI::Option* o) { return o->count() > 0; });
}

void copy_group_optionals(parser& p) {
    if (p.join_members->count() > 0) {
        p.o.join_members = p.v.join_members;
    }
    if (p.initial_delay->count() > 0) {
        p.o.initial_delay_ms = p.v.initial_delay_ms;
    }
    if (p.commits->count() > 0) {
        p.o.commits = p.v.commits;
    }
    if (p.sync_commits->count() > 0) {
        p.o.sync_commits = p.v.sync_commits;
    }
}

void copy_optionals(parser& p) {
    for (auto [sub, kind] : p.workloads) {
        if (sub->parsed()) {
            p.o.kind = kind;
        }
    }
    if (given(p.records)) {
        p.o.records = p.v.records;
    }
    if (given(p.duration)) {
        p.o.duration_s = p.v.duration_s;
    }
    if (given(p.linger)) {
        p.o.linger_ms = p.v.linger_ms;
    }
    if (given(p.batch)) {
        p.o.batch_size = p.v.batch_size;
    }
    if (p.keys != nullptr && p.keys->count() > 0) {
        p.o.keys = p.v.keys;
    }
    if (given(p.partitions)) {
        p.o.partitions = p.v.partitions;
    }
    if (given(p.replication)) {
        p.o.replication_factor = p.v.replication_factor;
    }
    copy_group_optionals(p);
}

}  // namespace

parse_outcome parse_command_line(const std::vector<std::string>& args) {
    parser p;
    define(p);
    parse_outcome out;
    bool known = std::any_of(p.workloads.begin(), p.workloads.end(), [&](const auto& w) {
        return !args.empty() && w.first->get_name() == args[0];
    });
    if (!args.empty() && !args[0].empty() && args[0][0] != '-' && !known) {
        out.exit_code = exit_bad_argument;
        out.message = "gregor bench: unknown workload '" + args[0] +
                      "': expected produce, consume, e2e, limits, failover or group\n";
        return out;
    }
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
    try {
        p.app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        std::ostringstream text;
        std::ostringstream err;
        int code = p.app.exit(e, text, err);
        out.exit_code = code == 0 ? 0 : exit_bad_argument;
        out.message = code == 0 ? text.str() : err.str();
        return out;
    }
    copy_optionals(p);
    auto valid = validate(p.o);
    if (!valid) {
        out.exit_code = exit_bad_argument;
        out.message = "gregor bench: " + valid.err().detail + "\n";
        return out;
    }
    out.parsed = p.o;
    return out;
}

int bench_main(const std::vector<std::string>& args) {
    parse_outcome p = parse_command_line(args);
    if (!p.parsed) {
        std::fputs(p.message.c_str(), p.exit_code == 0 ? stdout : stderr);
        return p.exit_code;
    }
    return run(*p.parsed);
}

}  // namespace gregor::bench
