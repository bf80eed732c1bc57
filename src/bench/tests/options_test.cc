// Goal: every bad command line is refused with exit code 2 and a message naming the option,
// before anything connects; good ones reach the workload with the values given.
// Method: parse_command_line on argument vectors, as `gregor bench` gets them.
#include "bench/cli.h"

#include <gtest/gtest.h>

namespace gregor::bench {
namespace {

using args = std::vector<std::string>;

parse_outcome parse(const args& a) {
    return parse_command_line(a);
}

void expect_refused(const args& a, const std::string& mentions) {
    parse_outcome p = parse(a);
    EXPECT_FALSE(p.parsed.has_value());
    EXPECT_EQ(p.exit_code, 2);
    EXPECT_NE(p.message.find(mentions), std::string::npos) << p.message;
}

TEST(bench_options, produce_takes_every_option) {
    parse_outcome p = parse({"produce",
                             "--bootstrap",
                             "127.0.0.1:9092,h2:9093",
                             "--topic",
                             "t1",
                             "--records",
                             "5000",
                             "--record-size",
                             "200",
                             "--acks",
                             "1",
                             "--producers",
                             "3",
                             "--linger-ms",
                             "7",
                             "--batch-size",
                             "65536",
                             "--compression",
                             "lz4",
                             "--partitions",
                             "6",
                             "--format",
                             "json"});
    ASSERT_TRUE(p.parsed) << p.message;
    const options& o = *p.parsed;
    EXPECT_EQ(o.kind, workload::produce);
    EXPECT_EQ(o.bootstrap, "127.0.0.1:9092,h2:9093");
    EXPECT_EQ(o.topic, "t1");
    EXPECT_EQ(o.records, 5000);
    EXPECT_FALSE(o.duration_s);
    EXPECT_EQ(o.record_size, 200);
    EXPECT_EQ(o.acks, "1");
    EXPECT_EQ(o.producers, 3);
    EXPECT_EQ(o.linger_ms, 7);
    EXPECT_EQ(o.batch_size, 65536);
    EXPECT_EQ(o.compression, "lz4");
    EXPECT_EQ(o.partitions, 6);
    EXPECT_EQ(o.format, "json");
}

TEST(bench_options, defaults_leave_librdkafka_batching_alone) {
    parse_outcome p = parse({"produce", "-b", "h:1"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_FALSE(p.parsed->linger_ms);
    EXPECT_FALSE(p.parsed->batch_size);
    EXPECT_FALSE(p.parsed->partitions);
    EXPECT_EQ(p.parsed->record_size, 100);
    EXPECT_EQ(acks_setting(p.parsed->acks), "-1");
}

TEST(bench_options, idempotent_producers_need_acks_all) {
    parse_outcome p = parse({"produce", "-b", "h:1", "--idempotent"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_TRUE(p.parsed->idempotent);
    EXPECT_FALSE(parse({"produce", "-b", "h:1"}).parsed->idempotent);
    expect_refused({"produce", "-b", "h:1", "--idempotent", "--acks", "1"}, "--idempotent");
    expect_refused({"e2e", "-b", "h:1", "--idempotent"}, "--idempotent");  // produce only
}

TEST(bench_options, keys_are_for_produce_and_off_by_default) {
    parse_outcome p = parse({"produce", "-b", "h:1", "--keys", "10000"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_EQ(p.parsed->keys, 10000);
    EXPECT_FALSE(parse({"produce", "-b", "h:1"}).parsed->keys);
    expect_refused({"produce", "-b", "h:1", "--keys", "0"}, "--keys");
    expect_refused({"produce", "-b", "h:1", "--keys", "-3"}, "--keys");
    expect_refused({"e2e", "-b", "h:1", "--keys", "10"}, "--keys");  // produce only
}

TEST(bench_options, bootstrap_is_required_and_checked) {
    expect_refused({"produce"}, "--bootstrap");
    expect_refused({"consume", "-b", "localhost"}, "--bootstrap");
    expect_refused({"consume", "-b", "h:0"}, "--bootstrap");
    expect_refused({"consume", "-b", "h:70000"}, "--bootstrap");
    expect_refused({"consume", "-b", "h:1,"}, "--bootstrap");
    expect_refused({"consume", "-b", "h:1x"}, "--bootstrap");
}

TEST(bench_options, producer_values_are_range_checked) {
    expect_refused({"produce", "-b", "h:1", "--acks", "2"}, "--acks");
    expect_refused({"produce", "-b", "h:1", "--compression", "brotli"}, "--compression");
    expect_refused({"produce", "-b", "h:1", "--producers", "0"}, "--producers");
    expect_refused({"produce", "-b", "h:1", "--record-size", "0"}, "--record-size");
    expect_refused({"produce", "-b", "h:1", "--records", "0"}, "--records");
    expect_refused({"produce", "-b", "h:1", "--duration", "-1"}, "--duration");
    expect_refused({"produce", "-b", "h:1", "--partitions", "0"}, "--partitions");
    expect_refused({"produce", "-b", "h:1", "--linger-ms", "-5"}, "--linger-ms");
    expect_refused({"produce", "-b", "h:1", "--batch-size", "0"}, "--batch-size");
    expect_refused({"produce", "-b", "h:1", "--replication-factor", "0"}, "--replication-factor");
    expect_refused({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--rate", "0"}, "--rate");
    expect_refused({"e2e", "-b", "h:1", "--rate", "0"}, "--rate");
    expect_refused({"e2e", "-b", "h:1", "--record-size", "8"}, "--record-size");
}

TEST(bench_options, records_and_duration_exclude_each_other) {
    expect_refused({"produce", "-b", "h:1", "--records", "10", "--duration", "5"}, "--duration");
}

TEST(bench_options, types_and_unknown_words_are_refused_by_the_parser) {
    expect_refused({"produce", "-b", "h:1", "--records", "many"}, "--records");
    expect_refused({"produce", "-b", "h:1", "--no-such-option"}, "--no-such-option");
    expect_refused({"teleport", "-b", "h:1"}, "teleport");
    expect_refused({}, "subcommand");
    expect_refused({"consume", "-b", "h:1", "--rate", "5"}, "--rate");  // not a consume option
}

TEST(bench_options, common_options_are_checked) {
    expect_refused({"consume", "-b", "h:1", "--format", "xml"}, "--format");
    expect_refused({"consume", "-b", "h:1", "--topic", "bad topic"}, "--topic");
    expect_refused({"consume", "-b", "h:1", "-X", "novalue"}, "-X");
    expect_refused({"consume", "-b", "h:1", "--timeout", "0"}, "--timeout");
    expect_refused({"consume", "-b", "h:1", "--limits-from", "f.json", "--no-limits"},
                   "--no-limits");
    expect_refused({"limits", "--bytes", "1000"}, "--bytes");
}

TEST(bench_options, limits_needs_no_cluster) {
    parse_outcome p = parse({"limits", "--dir", "/tmp", "--bytes", "1048576"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_EQ(p.parsed->kind, workload::limits);
    EXPECT_EQ(p.parsed->dir, "/tmp");
    EXPECT_EQ(p.parsed->bytes, 1048576);
}

TEST(bench_options, failover_needs_a_kill_command_with_the_broker_id) {
    expect_refused({"failover", "-b", "h:1"}, "--kill-cmd");
    expect_refused({"failover", "-b", "h:1", "--kill-cmd", "kill -9 1234"}, "{id}");
    // failover times the cluster: no limits pass to skip or load.
    expect_refused({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--no-limits"},
                   "--no-limits");
    parse_outcome p = parse({"failover", "-b", "h:1", "--kill-cmd", "kill -9 $(cat b{id}.pid)",
                             "--partitions", "100", "--produce"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_TRUE(p.parsed->with_producer);
    EXPECT_EQ(p.parsed->partitions, 100);
}

TEST(bench_options, failover_takes_a_victim_and_a_kill_or_a_clean_stop) {
    expect_refused({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--stop-cmd",
                    "kill -TERM {id}"},
                   "exclude");
    expect_refused({"failover", "-b", "h:1", "--stop-cmd", "kill -TERM 1234"}, "--stop-cmd");
    expect_refused({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--victim", "follower"},
                   "--victim");
    expect_refused({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--victim", "2x"},
                   "--victim");
    parse_outcome p = parse({"failover", "-b", "h:1", "--stop-cmd", "kill -TERM {id}"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_EQ(p.parsed->victim, "controller");
    p = parse({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--victim", "leader"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_EQ(p.parsed->victim, "leader");
    p = parse({"failover", "-b", "h:1", "--kill-cmd", "kill {id}", "--victim", "2"});
    ASSERT_TRUE(p.parsed) << p.message;
    EXPECT_EQ(p.parsed->victim, "2");
}

TEST(bench_options, help_exits_zero_with_the_workloads_listed) {
    parse_outcome p = parse({"--help"});
    EXPECT_FALSE(p.parsed);
    EXPECT_EQ(p.exit_code, 0);
    EXPECT_NE(p.message.find("produce"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("limits"), std::string::npos) << p.message;
}

TEST(bench_options, bootstrap_lists_split_into_hosts_and_ports) {
    auto b = parse_bootstrap("a:1,b.example:65535,[::1]:9092");
    ASSERT_TRUE(b);
    ASSERT_EQ(b->size(), 3u);
    EXPECT_EQ((*b)[0], std::make_pair(std::string("a"), 1));
    EXPECT_EQ((*b)[1], std::make_pair(std::string("b.example"), 65535));
    EXPECT_EQ((*b)[2], std::make_pair(std::string("[::1]"), 9092));
}

}  // namespace
}  // namespace gregor::bench
