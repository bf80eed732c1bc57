// Goal: offsets leave the store exactly when Kafka 3.8 removes them: OffsetDelete (KIP-496,
// KAFKA-13636), DeleteGroups, and expiry (KIP-211, reference §11.5), with the tombstones
// and the "group is now dead" verdict the state machine acts on. One test per rule.
// Method: fill an offset_store through prepare/complete, then call the removal with a
// group_view describing the group's state.
#include "group/offsets.h"
#include "group/tests/batch_contents.h"

#include <gtest/gtest.h>

namespace gregor::group {
namespace {

using model::kafka_error;

constexpr std::int64_t day_ms = 24 * 60 * 60 * 1000;
constexpr std::int64_t retention_ms = 7 * day_ms;

model::topic_partition tp(std::string topic, std::int32_t p) {
    return {std::move(topic), model::partition_id{p}};
}

struct fixture {
    offset_store store{offsets_config{.retention_ms = retention_ms}};
    std::int64_t next_batch = 0;

    // Commits `offset` at time `at` and completes it. Optional retention (v2..v4).
    void commit(const std::string& group, model::topic_partition t, std::int64_t offset,
                model::timestamp_ms at, std::optional<std::int64_t> retention = std::nullopt) {
        commit_partition p;
        p.tp = std::move(t);
        p.offset = model::offset{offset};
        commit_plan plan = store.prepare_commit(
            commit_request{group, {p}, retention, kafka_error::none}, at);
        ASSERT_TRUE(plan.pending.has_value());
        (void)store.complete_commit(*plan.pending, model::offset{next_batch++});
    }
    pending_commit_id start_commit(const std::string& group, model::topic_partition t) {
        commit_partition p;
        p.tp = std::move(t);
        commit_plan plan = store.prepare_commit(
            commit_request{group, {p}, std::nullopt, kafka_error::none}, model::timestamp_ms{0});
        return *plan.pending;
    }
};

group_view view(group_state state, std::string protocol_type = "consumer",
                std::int32_t generation = 1) {
    group_view v;
    v.state = state;
    v.protocol_type = std::move(protocol_type);
    v.generation = generation;
    return v;
}

std::vector<offset_commit_key> keys(const std::string& group,
                                    std::vector<model::topic_partition> tps) {
    std::vector<offset_commit_key> out;
    for (auto& t : tps) {
        out.push_back({group, std::move(t)});
    }
    return out;
}

// --- OffsetDelete --------------------------------------------------------------------

TEST(offset_delete, unknown_or_dead_group_is_group_id_not_found) {
    fixture f;
    const model::topic_partition parts[] = {tp("t", 0)};
    EXPECT_EQ(f.store.delete_offsets("g", parts, std::nullopt).error,
              kafka_error::group_id_not_found);
    EXPECT_EQ(f.store.delete_offsets("g", parts, view(group_state::dead)).error,
              kafka_error::group_id_not_found);
}

TEST(offset_delete, an_empty_group_loses_every_requested_partition) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("t", 1), 1, model::timestamp_ms{0});
    const model::topic_partition parts[] = {tp("t", 0), tp("t", 5)};
    auto out = f.store.delete_offsets("g", parts, view(group_state::empty));
    EXPECT_EQ(out.error, kafka_error::none);
    EXPECT_EQ(out.partitions, (std::vector<partition_error>{{tp("t", 0), kafka_error::none},
                                                            {tp("t", 5), kafka_error::none}}));
    // Tombstones only for offsets that existed.
    EXPECT_EQ(out.cleanup.removed, keys("g", {tp("t", 0)}));
    EXPECT_FALSE(out.cleanup.group_dead);
    EXPECT_EQ(f.store.find("g", tp("t", 0)), nullptr);
    EXPECT_NE(f.store.find("g", tp("t", 1)), nullptr);
}

TEST(offset_delete, an_active_consumer_group_keeps_subscribed_topics) {
    fixture f;
    f.commit("g", tp("sub", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("old", 0), 1, model::timestamp_ms{0});
    group_view v = view(group_state::stable);
    v.subscribed_topics.emplace();
    v.subscribed_topics->insert("sub");
    const model::topic_partition parts[] = {tp("sub", 0), tp("old", 0)};
    auto out = f.store.delete_offsets("g", parts, v);
    EXPECT_EQ(out.error, kafka_error::none);
    EXPECT_EQ(out.partitions,
              (std::vector<partition_error>{{tp("sub", 0), kafka_error::group_subscribed_to_topic},
                                            {tp("old", 0), kafka_error::none}}));
    EXPECT_EQ(out.cleanup.removed, keys("g", {tp("old", 0)}));
    EXPECT_NE(f.store.find("g", tp("sub", 0)), nullptr);
}

TEST(offset_delete, unknown_subscriptions_count_as_subscribed_to_every_topic) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    const model::topic_partition parts[] = {tp("t", 0)};
    auto out = f.store.delete_offsets("g", parts, view(group_state::preparing_rebalance));
    EXPECT_EQ(out.partitions[0].error, kafka_error::group_subscribed_to_topic);
    EXPECT_TRUE(out.cleanup.removed.empty());
}

TEST(offset_delete, an_active_group_of_another_protocol_is_non_empty) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    const model::topic_partition parts[] = {tp("t", 0)};
    auto out = f.store.delete_offsets("g", parts, view(group_state::stable, "connect"));
    EXPECT_EQ(out.error, kafka_error::non_empty_group);
    EXPECT_TRUE(out.partitions.empty());
    EXPECT_NE(f.store.find("g", tp("t", 0)), nullptr);
}

TEST(offset_delete, deleting_the_last_offset_of_an_empty_group_kills_it) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    const model::topic_partition parts[] = {tp("t", 0)};
    auto out = f.store.delete_offsets("g", parts, view(group_state::empty, "consumer", 3));
    EXPECT_TRUE(out.cleanup.group_dead);
    EXPECT_TRUE(out.cleanup.group_tombstone);
    EXPECT_FALSE(f.store.has_offsets("g"));
}

TEST(offset_delete, cancels_a_pending_commit_of_a_deleted_partition) {
    fixture f;
    pending_commit_id id = f.start_commit("g", tp("t", 0));
    const model::topic_partition parts[] = {tp("t", 0)};
    auto out = f.store.delete_offsets("g", parts, view(group_state::empty));
    // The commit's record is already in the log: tombstone it.
    EXPECT_EQ(out.cleanup.removed, keys("g", {tp("t", 0)}));
    EXPECT_FALSE(f.store.has_pending_commit("g", tp("t", 0)));
    auto done = f.store.complete_commit(id, model::offset{9});
    EXPECT_EQ(done[0].error, kafka_error::none);
    EXPECT_EQ(f.store.find("g", tp("t", 0)), nullptr);
}

// --- DeleteGroups --------------------------------------------------------------------

TEST(delete_group, an_empty_group_loses_every_offset_and_dies) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("t", 1), 1, model::timestamp_ms{0});
    auto out = f.store.delete_group("g", view(group_state::empty, "consumer", 2));
    EXPECT_EQ(out.error, kafka_error::none);
    EXPECT_EQ(out.cleanup.removed, keys("g", {tp("t", 0), tp("t", 1)}));
    EXPECT_TRUE(out.cleanup.group_dead);
    EXPECT_TRUE(out.cleanup.group_tombstone);
    EXPECT_FALSE(f.store.has_offsets("g"));
}

TEST(delete_group, an_offsets_only_group_gets_no_group_tombstone) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    auto out = f.store.delete_group("g", view(group_state::empty, "", 0));
    EXPECT_TRUE(out.cleanup.group_dead);
    EXPECT_FALSE(out.cleanup.group_tombstone);
}

TEST(delete_group, an_active_group_is_non_empty_and_an_unknown_one_not_found) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    EXPECT_EQ(f.store.delete_group("g", view(group_state::stable)).error,
              kafka_error::non_empty_group);
    EXPECT_EQ(f.store.delete_group("g", std::nullopt).error, kafka_error::group_id_not_found);
    EXPECT_EQ(f.store.delete_group("g", view(group_state::dead)).error,
              kafka_error::group_id_not_found);
    EXPECT_NE(f.store.find("g", tp("t", 0)), nullptr);
}

// --- expiry (KIP-211) ----------------------------------------------------------------

TEST(offset_expiry, an_empty_group_expires_everything_retention_after_it_became_empty) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    group_view v = view(group_state::empty);
    v.current_state_timestamp = model::timestamp_ms{10 * day_ms};
    // Committed 17 days ago, but Empty only for 7 days minus 1 ms.
    auto early = f.store.expire("g", v, model::timestamp_ms{17 * day_ms - 1});
    EXPECT_TRUE(early.removed.empty());
    EXPECT_FALSE(early.group_dead);
    auto due = f.store.expire("g", v, model::timestamp_ms{17 * day_ms});
    EXPECT_EQ(due.removed, keys("g", {tp("t", 0)}));
    EXPECT_TRUE(due.group_dead);
    EXPECT_TRUE(due.group_tombstone);
}

TEST(offset_expiry, an_empty_group_without_state_time_uses_each_commit_time) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("t", 1), 1, model::timestamp_ms{day_ms});
    auto out = f.store.expire("g", view(group_state::empty), model::timestamp_ms{retention_ms});
    EXPECT_EQ(out.removed, keys("g", {tp("t", 0)}));
    EXPECT_FALSE(out.group_dead);
}

TEST(offset_expiry, a_stable_consumer_group_expires_only_unsubscribed_topics) {
    fixture f;
    f.commit("g", tp("sub", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("old", 0), 1, model::timestamp_ms{0});
    group_view v = view(group_state::stable);
    v.subscribed_topics.emplace();
    v.subscribed_topics->insert("sub");
    auto out = f.store.expire("g", v, model::timestamp_ms{retention_ms});
    EXPECT_EQ(out.removed, keys("g", {tp("old", 0)}));
    EXPECT_FALSE(out.group_dead);
}

TEST(offset_expiry, a_stable_consumer_group_with_unknown_subscriptions_keeps_everything) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    auto out = f.store.expire("g", view(group_state::stable), model::timestamp_ms{30 * day_ms});
    EXPECT_TRUE(out.removed.empty());
}

TEST(offset_expiry, a_group_without_protocol_type_expires_by_commit_time) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("t", 1), 1, model::timestamp_ms{1});
    auto out = f.store.expire("g", view(group_state::empty, "", 0), model::timestamp_ms{retention_ms});
    EXPECT_EQ(out.removed, keys("g", {tp("t", 0)}));
    auto rest = f.store.expire("g", view(group_state::empty, "", 0),
                               model::timestamp_ms{retention_ms + 1});
    EXPECT_EQ(rest.removed, keys("g", {tp("t", 1)}));
    // An offsets-only group (generation 0) dies without a group tombstone.
    EXPECT_TRUE(rest.group_dead);
    EXPECT_FALSE(rest.group_tombstone);
}

TEST(offset_expiry, a_rebalancing_group_expires_nothing) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    for (group_state s : {group_state::preparing_rebalance, group_state::completing_rebalance}) {
        auto out = f.store.expire("g", view(s), model::timestamp_ms{30 * day_ms});
        EXPECT_TRUE(out.removed.empty()) << to_string(s);
    }
    auto connect = f.store.expire("g", view(group_state::stable, "connect"),
                                  model::timestamp_ms{30 * day_ms});
    EXPECT_TRUE(connect.removed.empty());
}

TEST(offset_expiry, an_explicit_expire_timestamp_wins_over_retention) {
    fixture f;
    // OffsetCommit v2..v4 with RetentionTimeMs = 1 hour.
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0}, 3'600'000);
    auto early = f.store.expire("g", view(group_state::empty, "", 0),
                                model::timestamp_ms{3'600'000 - 1});
    EXPECT_TRUE(early.removed.empty());
    auto due = f.store.expire("g", view(group_state::empty, "", 0), model::timestamp_ms{3'600'000});
    EXPECT_EQ(due.removed, keys("g", {tp("t", 0)}));
}

TEST(offset_expiry, an_explicit_expire_timestamp_does_not_apply_to_a_rebalancing_group) {
    // Kafka 3.8's removeExpiredOffsets only looks at offsets in the three cases above; an
    // active group keeps them whatever their expire timestamp.
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0}, 1);
    auto out = f.store.expire("g", view(group_state::preparing_rebalance),
                              model::timestamp_ms{day_ms});
    EXPECT_TRUE(out.removed.empty());
}

TEST(offset_expiry, a_partition_with_a_pending_commit_does_not_expire) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    pending_commit_id id = f.start_commit("g", tp("t", 0));
    auto out = f.store.expire("g", view(group_state::empty, "", 0), model::timestamp_ms{30 * day_ms});
    EXPECT_TRUE(out.removed.empty());
    EXPECT_FALSE(out.group_dead);
    (void)f.store.complete_commit(id, model::offset{50});
}

TEST(offset_expiry, an_empty_group_without_offsets_is_dead) {
    fixture f;
    auto out = f.store.expire("g", view(group_state::empty, "consumer", 5), model::timestamp_ms{0});
    EXPECT_TRUE(out.removed.empty());
    EXPECT_TRUE(out.group_dead);
    EXPECT_TRUE(out.group_tombstone);
    EXPECT_FALSE(out.nothing_to_write());
}

TEST(offset_expiry, hostile_timestamps_do_not_overflow) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{std::numeric_limits<std::int64_t>::min()});
    f.commit("g", tp("t", 1), 1, model::timestamp_ms{std::numeric_limits<std::int64_t>::max()});
    auto out = f.store.expire("g", view(group_state::empty, "", 0), model::timestamp_ms{day_ms});
    EXPECT_EQ(out.removed, keys("g", {tp("t", 0)}));
    fixture g;
    g.commit("g", tp("t", 0), 1, model::timestamp_ms{1},
             std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(g.store.find("g", tp("t", 0))->value.expire_timestamp,
              model::timestamp_ms{std::numeric_limits<std::int64_t>::max()});
}

TEST(remove_partitions, topic_deletion_drops_offsets_of_those_partitions) {
    fixture f;
    f.commit("g", tp("gone", 0), 1, model::timestamp_ms{0});
    f.commit("g", tp("kept", 0), 1, model::timestamp_ms{0});
    const model::topic_partition parts[] = {tp("gone", 0)};
    auto out = f.store.remove_partitions("g", parts, view(group_state::stable));
    EXPECT_EQ(out.removed, keys("g", {tp("gone", 0)}));
    EXPECT_FALSE(out.group_dead);
}

TEST(cleanup_batch, holds_the_offset_tombstones_then_the_group_key) {
    fixture f;
    f.commit("g", tp("t", 0), 1, model::timestamp_ms{0});
    auto out = f.store.delete_group("g", view(group_state::empty, "consumer", 2));
    auto batch = build_cleanup_batch("g", out.cleanup, model::timestamp_ms{5}, f.store.config());
    ASSERT_TRUE(batch.has_value());
    auto contents = testing::read_batch(*batch);
    ASSERT_EQ(contents.records.size(), 2u);
    EXPECT_FALSE(contents.records[0].value.has_value());
    EXPECT_EQ(contents.records[1].key, *encode_group_metadata_key({"g"}));
    EXPECT_FALSE(contents.records[1].value.has_value());
    EXPECT_EQ(contents.records[1].timestamp, model::timestamp_ms{5});
}

}  // namespace
}  // namespace gregor::group
