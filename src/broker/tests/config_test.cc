// Goal: a Kafka server.properties configures a gregor broker: Kafka's key names and
// defaults, precedence rules (ms over minutes over hours), and one clear error naming the
// key for unknown keys, bad values and missing required keys; the storage keys (cleanup
// policy, log cleaner) read into the logs' defaults and the cleaner's settings at start-up.
#include "broker/config.h"

#include "broker/app.h"
#include "broker/errc.h"
#include "storage/errc.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

result<broker_config> from(const std::string& text, std::vector<std::string> overrides = {}) {
    auto props = parse_properties(text);
    if (!props) {
        return props.err();
    }
    for (const auto& o : overrides) {
        auto p = parse_override(o);
        if (!p) {
            return p.err();
        }
        props->push_back(*p);
    }
    return build_config(*props);
}

TEST(config, kafka_defaults_apply) {
    auto c = from("zookeeper.connect=127.0.0.1:2181\n");
    ASSERT_TRUE(c.has_value()) << c.err().to_string();
    EXPECT_EQ(c->broker_id, model::node_id(-1));
    EXPECT_EQ(c->zookeeper_session_timeout.count(), 18000);
    EXPECT_EQ(c->zookeeper_connection_timeout.count(), 18000);
    EXPECT_EQ(c->num_partitions, 1);
    EXPECT_EQ(c->default_replication_factor, 1);
    EXPECT_EQ(c->min_insync_replicas, 1);
    EXPECT_FALSE(c->unclean_leader_election_enable);
    EXPECT_EQ(c->replica_lag_time_max.count(), 30000);
    EXPECT_EQ(c->log_segment_bytes, 1073741824);
    EXPECT_EQ(c->log_retention.count(), 168LL * 3600 * 1000);
    EXPECT_EQ(c->message_max_bytes, 1048588);
    EXPECT_EQ(c->log_dirs, std::vector<std::string>{"/tmp/kafka-logs"});
    ASSERT_EQ(c->listeners.size(), 1U);
    EXPECT_EQ(c->listeners[0].listener, "PLAINTEXT");
    EXPECT_EQ(c->listeners[0].port, 9092);
    EXPECT_EQ(c->inter_broker_listener_name, "PLAINTEXT");
}

TEST(config, leader_rebalance_keys_have_kafkas_defaults_and_are_read) {
    auto d = from("zookeeper.connect=z:1\n");
    ASSERT_TRUE(d.has_value()) << d.err().to_string();
    EXPECT_TRUE(d->auto_leader_rebalance_enable);
    EXPECT_EQ(d->leader_imbalance_per_broker_percentage, 10);
    EXPECT_EQ(d->leader_imbalance_check_interval.count(), 300);
    auto c = from("zookeeper.connect=z:1\nauto.leader.rebalance.enable=false\n"
                  "leader.imbalance.per.broker.percentage=0\n"
                  "leader.imbalance.check.interval.seconds=1\n");
    ASSERT_TRUE(c.has_value()) << c.err().to_string();
    EXPECT_FALSE(c->auto_leader_rebalance_enable);
    EXPECT_EQ(c->leader_imbalance_per_broker_percentage, 0);
    EXPECT_EQ(c->leader_imbalance_check_interval.count(), 1);
}

TEST(config, kafka_sample_server_properties_is_accepted) {
    auto c = from(
        "broker.id=0\nnum.network.threads=3\nnum.io.threads=8\n"
        "socket.send.buffer.bytes=102400\nsocket.receive.buffer.bytes=102400\n"
        "socket.request.max.bytes=104857600\nlog.dirs=/tmp/kafka-logs\nnum.partitions=1\n"
        "num.recovery.threads.per.data.dir=1\noffsets.topic.replication.factor=1\n"
        "transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n"
        "log.retention.hours=168\nlog.segment.bytes=1073741824\n"
        "log.retention.check.interval.ms=300000\nzookeeper.connect=localhost:2181\n"
        "zookeeper.connection.timeout.ms=18000\ngroup.initial.rebalance.delay.ms=0\n");
    ASSERT_TRUE(c.has_value()) << c.err().to_string();
    EXPECT_EQ(c->broker_id, model::node_id(0));
    EXPECT_EQ(c->offsets_topic_replication_factor, 1);
    EXPECT_EQ(c->group_initial_rebalance_delay.count(), 0);
    EXPECT_EQ(c->num_recovery_threads_per_data_dir, 1);
    EXPECT_EQ(c->ignored_keys.size(), 6U);  // the thread pools, socket buffers, txn log keys
}

TEST(config, recovery_threads_per_data_dir_is_read_and_bounded) {
    auto c = from("zookeeper.connect=z:1\nnum.recovery.threads.per.data.dir=4\n");
    ASSERT_TRUE(c.has_value()) << c.err().to_string();
    EXPECT_EQ(c->num_recovery_threads_per_data_dir, 4);
    EXPECT_TRUE(c->ignored_keys.empty());
    EXPECT_FALSE(from("zookeeper.connect=z:1\nnum.recovery.threads.per.data.dir=0\n").has_value());
}

TEST(config, retention_precedence_ms_over_minutes_over_hours) {
    auto hours = from("zookeeper.connect=z:1\nlog.retention.hours=1\n");
    ASSERT_TRUE(hours.has_value());
    EXPECT_EQ(hours->log_retention.count(), 3600000);
    auto minutes = from("zookeeper.connect=z:1\nlog.retention.hours=1\nlog.retention.minutes=2\n");
    ASSERT_TRUE(minutes.has_value());
    EXPECT_EQ(minutes->log_retention.count(), 120000);
    auto ms = from("zookeeper.connect=z:1\nlog.retention.minutes=2\nlog.retention.ms=5\n");
    ASSERT_TRUE(ms.has_value());
    EXPECT_EQ(ms->log_retention.count(), 5);
    auto forever = from("zookeeper.connect=z:1\nlog.retention.ms=-1\n");
    ASSERT_TRUE(forever.has_value());
    EXPECT_EQ(forever->log_retention.count(), -1);
}

TEST(config, overrides_win_over_the_file) {
    auto c = from("zookeeper.connect=z:1\nnum.partitions=2\n", {"num.partitions=4"});
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->num_partitions, 4);
}

TEST(config, listeners_advertised_and_inter_broker) {
    auto c = from(
        "zookeeper.connect=z:1\n"
        "listeners=PLAINTEXT://0.0.0.0:9092,INTERNAL://127.0.0.1:9093\n"
        "advertised.listeners=PLAINTEXT://kafka1:9092,INTERNAL://[::1]:9093\n"
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT\n"
        "inter.broker.listener.name=INTERNAL\n");
    ASSERT_TRUE(c.has_value()) << c.err().to_string();
    ASSERT_EQ(c->advertised_listeners.size(), 2U);
    EXPECT_EQ(c->advertised_listeners[0].host, "kafka1");
    EXPECT_EQ(c->advertised_listeners[1].host, "::1");
    EXPECT_EQ(c->advertised_listeners[1].port, 9093);
    EXPECT_EQ(c->inter_broker_listener_name, "INTERNAL");
}

TEST(config, unknown_key_names_key_line_and_suggestion) {
    auto c = from("zookeeper.connect=z:1\nnum.partition=3\n");
    ASSERT_TRUE(c.has_error());
    EXPECT_EQ(c.code(), errc::config_unknown_key);
    EXPECT_NE(c.err().detail.find("'num.partition'"), std::string::npos);
    EXPECT_NE(c.err().detail.find("line 2"), std::string::npos);
    EXPECT_NE(c.err().detail.find("num.partitions"), std::string::npos) << c.err().detail;
}

TEST(config, bad_values_name_the_key) {
    struct bad_case {
        const char* line;
        const char* key;
    };
    for (auto [line, key] :
         {bad_case{"num.partitions=abc", "num.partitions"},
          bad_case{"num.partitions=0", "num.partitions"},
          bad_case{"default.replication.factor=40000", "default.replication.factor"},
          bad_case{"auto.create.topics.enable=yes", "auto.create.topics.enable"},
          bad_case{"listeners=PLAINTEXT://:99999", "listeners"},
          bad_case{"listeners=localhost:9092", "listeners"},
          bad_case{"log.message.timestamp.type=Now", "log.message.timestamp.type"},
          bad_case{"leader.imbalance.per.broker.percentage=101",
                   "leader.imbalance.per.broker.percentage"},
          bad_case{"leader.imbalance.per.broker.percentage=-1",
                   "leader.imbalance.per.broker.percentage"},
          bad_case{"leader.imbalance.check.interval.seconds=0",
                   "leader.imbalance.check.interval.seconds"},
          bad_case{"leader.imbalance.check.interval.seconds=5s",
                   "leader.imbalance.check.interval.seconds"},
          bad_case{"auto.leader.rebalance.enable=sometimes", "auto.leader.rebalance.enable"}}) {
        auto c = from(std::string("zookeeper.connect=z:1\n") + line + "\n");
        ASSERT_TRUE(c.has_error()) << line;
        EXPECT_EQ(c.code(), errc::config_bad_value) << line;
        EXPECT_NE(c.err().detail.find(key), std::string::npos) << c.err().detail;
    }
}

TEST(config, missing_zookeeper_connect_is_a_clear_error) {
    auto c = from("broker.id=1\n");
    ASSERT_TRUE(c.has_error());
    EXPECT_EQ(c.code(), errc::config_missing_key);
    EXPECT_NE(c.err().detail.find("zookeeper.connect"), std::string::npos);
}

TEST(config, ssl_listener_is_reported_as_unsupported) {
    auto c = from("zookeeper.connect=z:1\nlisteners=SSL://:9093\n");
    ASSERT_TRUE(c.has_error());
    EXPECT_EQ(c.code(), errc::config_unsupported);
    EXPECT_NE(c.err().detail.find("SSL"), std::string::npos);
}

TEST(config, inter_broker_listener_must_be_advertised) {
    auto c = from("zookeeper.connect=z:1\ninter.broker.listener.name=INTERNAL\n");
    ASSERT_TRUE(c.has_error());
    EXPECT_NE(c.err().detail.find("INTERNAL"), std::string::npos);
}

TEST(config, broker_id_range_follows_id_generation) {
    EXPECT_TRUE(from("zookeeper.connect=z:1\nbroker.id=1001\n").has_error());
    EXPECT_TRUE(from("zookeeper.connect=z:1\nbroker.id=1001\nbroker.id.generation.enable=false\n")
                    .has_value());
    EXPECT_TRUE(from("zookeeper.connect=z:1\nbroker.id.generation.enable=false\n").has_error());
}

TEST(config, load_config_reports_missing_file) {
    auto c = load_config("/nonexistent/server.properties", {});
    ASSERT_TRUE(c.has_error());
    EXPECT_EQ(c.code(), errc::config_io);
}

TEST(config, cleanup_policy_and_log_cleaner_keys_reach_storage) {
    auto c = from(
        "zookeeper.connect=z:1\nlog.cleanup.policy=compact,delete\nlog.cleaner.enable=true\n"
        "log.cleaner.threads=2\nlog.cleaner.dedupe.buffer.size=1048576\n"
        "log.cleaner.io.buffer.load.factor=0.5\nlog.cleaner.io.buffer.size=65536\n"
        "log.cleaner.io.max.bytes.per.second=1000000\nlog.cleaner.backoff.ms=100\n"
        "log.cleaner.min.cleanable.ratio=0.25\nlog.cleaner.min.compaction.lag.ms=5\n"
        "log.cleaner.max.compaction.lag.ms=600000\nlog.cleaner.delete.retention.ms=7\n");
    ASSERT_TRUE(c.has_value()) << c.err().to_string();
    EXPECT_TRUE(c->ignored_keys.empty());
    auto s = read_storage_settings(*c);
    ASSERT_TRUE(s) << s.err().to_string();
    EXPECT_TRUE(s->log_defaults.compact);
    EXPECT_TRUE(s->log_defaults.delete_);
    EXPECT_EQ(s->log_defaults.min_cleanable_dirty_ratio, 0.25);
    EXPECT_EQ(s->log_defaults.min_compaction_lag_ms, 5);
    EXPECT_EQ(s->log_defaults.max_compaction_lag_ms, 600000);
    EXPECT_EQ(s->log_defaults.delete_retention_ms, 7);
    EXPECT_TRUE(s->cleaner.enable);
    EXPECT_EQ(s->cleaner.threads, 2);
    EXPECT_EQ(s->cleaner.dedupe_buffer_size, 1048576);
    EXPECT_EQ(s->cleaner.load_factor, 0.5);
    EXPECT_EQ(s->cleaner.io_buffer_size, 65536);
    EXPECT_EQ(s->cleaner.io_max_bytes_per_second, 1e6);
    EXPECT_EQ(s->cleaner.backoff_ms, 100);

    auto defaults = read_storage_settings(*from("zookeeper.connect=z:1\n"));
    ASSERT_TRUE(defaults);
    EXPECT_FALSE(defaults->log_defaults.compact);
    EXPECT_TRUE(defaults->log_defaults.delete_);
    EXPECT_EQ(defaults->cleaner.threads, 1);
}

TEST(config, a_bad_storage_value_is_an_error_naming_the_key) {
    struct bad_case {
        std::string line;
        std::string expected;
    };
    const bad_case cases[] = {
        {"log.cleaner.threads=two", "log.cleaner.threads=two is not valid"},
        {"log.cleaner.enable=yes", "log.cleaner.enable=yes is not valid"},
        {"log.cleaner.io.buffer.load.factor=1.5", "log.cleaner.io.buffer.load.factor=1.5"},
        {"log.cleaner.dedupe.buffer.size=16", "log.cleaner.dedupe.buffer.size=16 holds no key"},
        {"log.cleanup.policy=compress", "log.cleanup.policy=compress is not valid"},
        {"log.cleaner.min.cleanable.ratio=2", "log.cleaner.min.cleanable.ratio=2 is not valid"},
        {"log.cleaner.max.compaction.lag.ms=0", "log.cleaner.max.compaction.lag.ms=0"},
        {"log.cleaner.min.compaction.lag.ms=10\nlog.cleaner.max.compaction.lag.ms=5",
         "log.cleaner.min.compaction.lag.ms=10 is greater than "
         "log.cleaner.max.compaction.lag.ms=5"},
    };
    for (const auto& bad : cases) {
        auto c = from("zookeeper.connect=z:1\n" + bad.line + "\n");
        ASSERT_TRUE(c.has_value()) << bad.line << ": " << c.err().to_string();
        auto s = read_storage_settings(*c);
        ASSERT_FALSE(s) << bad.line;
        EXPECT_EQ(s.err().code, make_error_code(storage::errc::invalid_config)) << bad.line;
        EXPECT_NE(s.err().detail.find(bad.expected), std::string::npos) << s.err().detail;
    }
}

}  // namespace
}  // namespace gregor::broker
