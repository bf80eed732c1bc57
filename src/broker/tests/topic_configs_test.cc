// Goal: a topic's overrides from /config/topics/<t> decide its partitions' min.insync.replicas
// and its logs' configs (cleanup.policy and the compaction keys included, reaching open logs
// when the broker reloads them after a change); topics without overrides, and malformed
// values, use the broker's.
// Method: topic_configs on plain values, and a log manager on the memory file system whose
// configs come from it, as in broker::app.
#include "broker/topic_configs.h"

#include "storage/log_manager.h"
#include "storage/tests/test_batches.h"

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

TEST(topic_configs, one_bad_value_does_not_drop_the_others) {
    storage::log_config logs;
    logs.max_compaction_lag_ms = 1000;  // the broker's log.cleaner.max.compaction.lag.ms
    topic_configs c(logs, replication::replication_config{1, std::chrono::milliseconds(30000)});
    // Valid against Kafka's defaults (the controller's check), not against this broker's max.
    c.set("t", {{"cleanup.policy", "compact"},
                {"min.compaction.lag.ms", "5000"},
                {"segment.bytes", "4096"}});
    auto cfg = c.log_config("t");
    EXPECT_TRUE(cfg.compact) << "a compacted topic stays compacted";
    EXPECT_FALSE(cfg.delete_) << "and retention never deletes its data";
    EXPECT_EQ(cfg.segment_bytes, 4096u);
    EXPECT_EQ(cfg.min_compaction_lag_ms, 0) << "the bad key alone falls back";
}

TEST(topic_configs, a_forgotten_topic_starts_afresh) {
    topic_configs c = make();
    c.set("t", {{"min.insync.replicas", "3"}});
    c.forget("t");
    EXPECT_FALSE(c.known("t"));
    EXPECT_EQ(c.replication("t").min_insync_replicas, 1);
}

TEST(topic_configs, cleanup_policy_and_compaction_keys_reach_open_logs_on_reload) {
    topic_configs c = make();
    storage::test::memory_env env;
    storage::log_manager logs(env.ctx(), {"/data"},
                              [&c](const std::string& topic) { return c.log_config(topic); });
    ASSERT_TRUE(logs.load(model::timestamp_ms(0)));
    auto lg = logs.get_or_create({"t", model::partition_id(0)}, model::timestamp_ms(0));
    ASSERT_TRUE(lg);
    EXPECT_FALSE((*lg)->config().compact);
    EXPECT_TRUE((*lg)->config().delete_);

    // What the /config/changes follower does on an altered topic (app.cc).
    c.set("t", {{"cleanup.policy", "compact"},
                {"min.cleanable.dirty.ratio", "0.1"},
                {"min.compaction.lag.ms", "1000"},
                {"max.compaction.lag.ms", "60000"},
                {"delete.retention.ms", "5000"}});
    logs.reload_configs();
    const storage::log_config& cfg = (*lg)->config();
    EXPECT_TRUE(cfg.compact);
    EXPECT_FALSE(cfg.delete_);
    EXPECT_EQ(cfg.min_cleanable_dirty_ratio, 0.1);
    EXPECT_EQ(cfg.min_compaction_lag_ms, 1000);
    EXPECT_EQ(cfg.max_compaction_lag_ms, 60000);
    EXPECT_EQ(cfg.delete_retention_ms, 5000);
    EXPECT_EQ(cfg.roll_ms(), 60000) << "max.compaction.lag.ms bounds the active segment's age";
    // The new policy governs the next append at once: keyless records are refused now.
    bytes keyless = storage::test::make_batch({});
    auto refused = (*lg)->append_as_leader(keyless, model::leader_epoch(0), model::timestamp_ms(0));
    EXPECT_FALSE(refused);

    c.set("t", {{"cleanup.policy", "compact,delete"}});
    logs.reload_configs();
    EXPECT_TRUE((*lg)->config().compact);
    EXPECT_TRUE((*lg)->config().delete_);
    c.set("t", {});
    logs.reload_configs();
    EXPECT_FALSE((*lg)->config().compact);
    EXPECT_TRUE((*lg)->config().delete_);
    ASSERT_TRUE(logs.shutdown());
}

}  // namespace
}  // namespace gregor::broker
