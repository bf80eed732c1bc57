// Options of the admin commands and their CLI11 wiring: `gregor topics ...`,
// `gregor cluster describe|health`, `gregor leaders elect`. The CLI module creates the
// parent subcommands; the flags are declared (and unit-tested) here. Main thread only.
#pragma once

#include "admin/report.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace gregor::admin {

// Exit codes every admin command uses.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;  // a request failed, or the cluster is unhealthy
inline constexpr int exit_usage = 2;

struct common_options {
    std::string bootstrap;  // empty: from --dir's state file, else 127.0.0.1:9092
    std::string dir;        // a `gregor cluster up` directory
    std::string format = "text";
    std::int32_t request_timeout_s = 30;

    output_format output() const {
        return format == "json" ? output_format::json : output_format::text;
    }
};

struct describe_cluster_options {
    common_options common;
    std::string zookeeper;  // for the controller epoch; default from --dir
};

struct health_options {
    common_options common;
    std::int32_t brokers = 0;  // 0: from --dir's state file, else no expectation
    bool watch = false;
    bool exit_when_healthy = false;
    std::int32_t timeout_s = 0;  // 0: none
    std::int32_t interval_s = 2;
};

struct topics_list_options {
    common_options common;
};

struct topics_describe_options {
    common_options common;
    std::vector<std::string> topics;
    bool under_replicated = false;
    bool under_min_isr = false;
    bool unavailable = false;
    bool configs = false;  // every config with its value and source, not only overrides
    bool producers = false;  // each partition's active producers (DescribeProducers) instead
};

struct topics_create_options {
    common_options common;
    std::string topic;
    std::int32_t partitions = -1;          // -1: the broker's num.partitions
    std::int32_t replication_factor = -1;  // -1: the broker's default.replication.factor
    std::vector<std::string> configs;      // k=v
    bool validate_only = false;
};

struct topics_delete_options {
    common_options common;
    std::vector<std::string> topics;
};

struct topics_alter_options {
    common_options common;
    std::string topic;
    std::int32_t partitions = 0;  // 0: unchanged
    std::vector<std::string> configs;
    std::vector<std::string> delete_configs;
    std::int32_t replication_factor = 0;  // 0: unchanged (else a reassignment, KIP-455)
    bool wait = false;                    // with --replication-factor: until it completes
    std::int32_t wait_timeout_s = 600;
};

struct topics_reassignments_options {
    common_options common;
    std::vector<std::string> topics;  // empty: every topic
};

struct leaders_elect_options {
    common_options common;
    bool preferred = false;
    bool unclean = false;
    std::vector<std::string> partitions;  // topic or topic:partition
};

struct journal_options {
    common_options common;
    std::string http;  // host:port[,...] of brokers' gregor.http.listener; default from --dir
    std::string topic;
    std::int32_t partition = -1;     // -1: every partition
    std::int32_t since_minutes = 0;  // 0: the whole journal
    std::int32_t limit = 1000;       // the newest this many
};

struct can_stop_options {
    common_options common;
    std::string http;  // as journal_options
    std::int32_t broker = -1;
};
// `gregor cluster can-stop N`: exit 0 = it can, exit_cannot_stop = it cannot (listed).
inline constexpr int exit_cannot_stop = 3;

void add_common_options(CLI::App& cmd, common_options& o);
void add_journal_options(CLI::App& cmd, journal_options& o);
void add_can_stop_options(CLI::App& cmd, can_stop_options& o);
void add_describe_cluster_options(CLI::App& cmd, describe_cluster_options& o);
void add_health_options(CLI::App& cmd, health_options& o);
void add_topics_list_options(CLI::App& cmd, topics_list_options& o);
void add_topics_describe_options(CLI::App& cmd, topics_describe_options& o);
void add_topics_create_options(CLI::App& cmd, topics_create_options& o);
void add_topics_delete_options(CLI::App& cmd, topics_delete_options& o);
void add_topics_alter_options(CLI::App& cmd, topics_alter_options& o);
void add_topics_reassignments_options(CLI::App& cmd, topics_reassignments_options& o);
void add_leaders_elect_options(CLI::App& cmd, leaders_elect_options& o);

}  // namespace gregor::admin
