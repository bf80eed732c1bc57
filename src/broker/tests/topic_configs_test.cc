// Goal: a topic's overrides from /config/topics/<t> decide its partitions' min.insync.replicas
// and its logs' configs; topics without overrides, and malformed values, use the broker's.
// Method: topic_configs on plain values.
#include "broker/topic_configs.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

topic_configs make() {
    storage::log_config logs;
    logs.segment_bytes = 1 << 20;
    return topic_configs(logs, replication::replication_config{1, std::chrono::milliseconds(30000)});
}

TEST(topic_configs, overrides_apply_to_their_topic_only) {
    topic_configs c = make();
    EXPECT_FALSE(c.known("t"));
    c.set("t", {{"min.insync.replicas", "2"}, {"segment.bytes", "4096"}});
    EXPECT_TRUE(c.known("t"));
    EXPECT_EQ(c.replication("t").min_insync_replicas, 2);
    EXPECT_EQ(c.log_config("t").segment_bytes, 4096u);
    EXPECT_EQ(c.replication("other").min_insync_replicas, 1);
    EXPECT_EQ(c.log_config("other").segment_bytes, 1u << 20);
}

TEST(topic_configs, malformed_values_keep_the_broker_defaults) {
    topic_configs c = make();
    c.set("t", {{"min.insync.replicas", "two"}});
    EXPECT_EQ(c.replication("t").min_insync_replicas, 1);
    c.set("t", {{"min.insync.replicas", "0"}});
    EXPECT_EQ(c.replication("t").min_insync_replicas, 1);
    c.set("t", {{"segment.bytes", "-5"}});
    EXPECT_EQ(c.log_config("t").segment_bytes, 1u << 20);
}

TEST(topic_configs, a_forgotten_topic_starts_afresh) {
    topic_configs c = make();
    c.set("t", {{"min.insync.replicas", "3"}});
    c.forget("t");
    EXPECT_FALSE(c.known("t"));
    EXPECT_EQ(c.replication("t").min_insync_replicas, 1);
}

}  // namespace
}  // namespace gregor::broker
