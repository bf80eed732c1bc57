// Goal: the offset store follows Kafka 3.8's OffsetCommit/OffsetFetch/OffsetDelete/
// DeleteGroups rules (reference §9, §10, §11.4, §13), one test per rule.
// Method: drive offset_store directly as the broker would (prepare, then complete or fail
// the append) and assert on answers, stored offsets and the batch to append.
#include "group/offsets.h"
#include "group/tests/batch_contents.h"

#include <gtest/gtest.h>

namespace gregor::group {
namespace {

using model::kafka_error;
using testing::read_batch;

constexpr model::timestamp_ms now{1'000'000};

model::topic_partition tp(std::string topic, std::int32_t p) {
    return {std::move(topic), model::partition_id{p}};
}

commit_request request(std::string group, std::vector<commit_partition> partitions) {
    return commit_request{std::move(group), std::move(partitions), std::nullopt,
                          kafka_error::none};
}

commit_partition partition(model::topic_partition t, std::int64_t offset,
                           std::optional<std::string> metadata = "") {
    commit_partition p;
    p.tp = std::move(t);
    p.offset = model::offset{offset};
    p.metadata = std::move(metadata);
    return p;
}

// Commits and completes at `batch_offset`.
void commit(offset_store& store, const std::string& group, model::topic_partition t,
            std::int64_t offset, std::int64_t batch_offset,
            model::timestamp_ms at = now) {
    commit_plan plan = store.prepare_commit(request(group, {partition(std::move(t), offset)}), at);
    ASSERT_TRUE(plan.pending.has_value());
    (void)store.complete_commit(*plan.pending, model::offset{batch_offset});
}

// --- OffsetCommit --------------------------------------------------------------------

TEST(offset_commit, offsets_are_pending_until_the_append_completes) {
    offset_store store;
    commit_plan plan = store.prepare_commit(request("g", {partition(tp("t", 0), 5)}), now);
    ASSERT_TRUE(plan.pending.has_value());
    EXPECT_EQ(plan.results, (std::vector<partition_error>{{tp("t", 0), kafka_error::none}}));
    EXPECT_EQ(store.find("g", tp("t", 0)), nullptr);
    EXPECT_TRUE(store.has_pending_commit("g", tp("t", 0)));
    EXPECT_TRUE(store.has_offsets("g"));

    auto done = store.complete_commit(*plan.pending, model::offset{100});
    EXPECT_EQ(done, (std::vector<partition_error>{{tp("t", 0), kafka_error::none}}));
    const committed_offset* c = store.find("g", tp("t", 0));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->value.offset, model::offset{5});
    EXPECT_EQ(c->batch_offset, model::offset{100});
    EXPECT_FALSE(store.has_pending_commit("g", tp("t", 0)));
    EXPECT_EQ(store.pending_commit_count(), 0u);
}

TEST(offset_commit, the_batch_holds_one_record_per_written_partition) {
    offset_store store;
    commit_request r = request("g", {partition(tp("t", 0), 5), partition(tp("u", 1), 6)});
    r.partitions[0].leader_epoch = model::leader_epoch{3};
    commit_plan plan = store.prepare_commit(r, now);
    auto contents = read_batch(plan.batch);
    ASSERT_EQ(contents.records.size(), 2u);
    EXPECT_EQ(contents.header.max_timestamp, now);
    auto key = decode_record_key(contents.records[0].key);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(std::get<offset_commit_key>(*key), (offset_commit_key{"g", tp("t", 0)}));
    auto value = decode_offset_commit_value(*contents.records[0].value);
    ASSERT_TRUE(value.has_value());
    EXPECT_EQ(value->offset, model::offset{5});
    EXPECT_EQ(value->leader_epoch, model::leader_epoch{3});
    EXPECT_EQ(value->commit_timestamp, now);
    EXPECT_FALSE(value->expire_timestamp.has_value());
}

TEST(offset_commit, a_membership_error_rejects_every_partition_and_writes_nothing) {
    offset_store store;
    commit_request r = request("g", {partition(tp("t", 0), 5), partition(tp("t", 1), 5)});
    r.membership_error = kafka_error::illegal_generation;
    commit_plan plan = store.prepare_commit(r, now);
    EXPECT_FALSE(plan.pending.has_value());
    EXPECT_TRUE(plan.batch.empty());
    EXPECT_EQ(plan.results, (std::vector<partition_error>{
                                {tp("t", 0), kafka_error::illegal_generation},
                                {tp("t", 1), kafka_error::illegal_generation}}));
    EXPECT_FALSE(store.has_offsets("g"));
}

TEST(offset_commit, metadata_over_the_limit_in_utf16_units_fails_only_that_partition) {
    offset_store store(offsets_config{.metadata_max_chars = 4});
    // "éééé" is 8 UTF-8 bytes but 4 UTF-16 units: accepted. Five are too many.
    commit_request r = request("g", {partition(tp("t", 0), 1, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"),
                                     partition(tp("t", 1), 1, "abcde")});
    commit_plan plan = store.prepare_commit(r, now);
    EXPECT_EQ(plan.results, (std::vector<partition_error>{
                                {tp("t", 0), kafka_error::none},
                                {tp("t", 1), kafka_error::offset_metadata_too_large}}));
    ASSERT_TRUE(plan.pending.has_value());
    EXPECT_EQ(read_batch(plan.batch).records.size(), 1u);
    EXPECT_FALSE(store.has_pending_commit("g", tp("t", 1)));
}

TEST(offset_commit, nothing_left_to_write_leaves_nothing_pending) {
    // KAFKA-16371: a commit whose every partition failed validation must not linger as a
    // pending commit (RequireStable fetches would wait on it forever).
    offset_store store(offsets_config{.metadata_max_chars = 1});
    commit_plan plan = store.prepare_commit(request("g", {partition(tp("t", 0), 1, "ab")}), now);
    EXPECT_FALSE(plan.pending.has_value());
    EXPECT_FALSE(store.has_pending_commit("g", tp("t", 0)));
    auto fetched = store.fetch("g", std::vector{tp("t", 0)}, true);
    EXPECT_EQ(fetched[0].error, kafka_error::none);
}

TEST(offset_commit, null_metadata_is_stored_as_empty) {
    offset_store store;
    commit_plan plan = store.prepare_commit(request("g", {partition(tp("t", 0), 1, std::nullopt)}),
                                            now);
    (void)store.complete_commit(*plan.pending, model::offset{0});
    EXPECT_EQ(store.find("g", tp("t", 0))->value.metadata, "");
}

TEST(offset_commit, commit_time_is_now_unless_a_v1_request_gives_one) {
    offset_store store;
    commit_request r = request("g", {partition(tp("t", 0), 1), partition(tp("t", 1), 1),
                                     partition(tp("t", 2), 1)});
    r.partitions[1].commit_timestamp = model::timestamp_ms{-1};
    r.partitions[2].commit_timestamp = model::timestamp_ms{77};
    commit_plan plan = store.prepare_commit(r, now);
    (void)store.complete_commit(*plan.pending, model::offset{0});
    EXPECT_EQ(store.find("g", tp("t", 0))->value.commit_timestamp, now);
    EXPECT_EQ(store.find("g", tp("t", 1))->value.commit_timestamp, now);
    EXPECT_EQ(store.find("g", tp("t", 2))->value.commit_timestamp, model::timestamp_ms{77});
}

TEST(offset_commit, a_retention_time_sets_an_expire_timestamp_written_as_value_v1) {
    offset_store store;
    commit_request r = request("g", {partition(tp("t", 0), 1)});
    r.retention_ms = 5000;
    commit_plan plan = store.prepare_commit(r, now);
    auto contents = read_batch(plan.batch);
    ASSERT_EQ(contents.records.size(), 1u);
    EXPECT_EQ((*contents.records[0].value)[1], 1);  // value version 1
    (void)store.complete_commit(*plan.pending, model::offset{0});
    EXPECT_EQ(store.find("g", tp("t", 0))->value.expire_timestamp, now + 5000);
}

TEST(offset_commit, a_retention_of_minus_one_means_the_broker_default) {
    offset_store store;
    commit_request r = request("g", {partition(tp("t", 0), 1)});
    r.retention_ms = -1;
    commit_plan plan = store.prepare_commit(r, now);
    (void)store.complete_commit(*plan.pending, model::offset{0});
    EXPECT_FALSE(store.find("g", tp("t", 0))->value.expire_timestamp.has_value());
}

TEST(offset_commit, a_failed_append_maps_the_error_per_partition_and_stores_nothing) {
    offset_store store;
    commit_plan plan = store.prepare_commit(request("g", {partition(tp("t", 0), 1)}), now);
    auto failed = store.fail_commit(*plan.pending, kafka_error::not_enough_replicas);
    EXPECT_EQ(failed, (std::vector<partition_error>{
                          {tp("t", 0), kafka_error::coordinator_not_available}}));
    EXPECT_EQ(store.find("g", tp("t", 0)), nullptr);
    EXPECT_FALSE(store.has_offsets("g"));
}

TEST(offset_commit, the_later_batch_in_the_log_wins_whatever_the_completion_order) {
    offset_store store;
    commit_plan first = store.prepare_commit(request("g", {partition(tp("t", 0), 10)}), now);
    commit_plan second = store.prepare_commit(request("g", {partition(tp("t", 0), 20)}), now);
    (void)store.complete_commit(*second.pending, model::offset{200});
    EXPECT_TRUE(store.has_pending_commit("g", tp("t", 0)));
    (void)store.complete_commit(*first.pending, model::offset{100});
    EXPECT_EQ(store.find("g", tp("t", 0))->value.offset, model::offset{20});
    EXPECT_FALSE(store.has_pending_commit("g", tp("t", 0)));
}

TEST(offset_commit, a_group_id_too_long_to_encode_fails_the_written_partitions) {
    offset_store store;
    commit_plan plan =
        store.prepare_commit(request(std::string(40000, 'g'), {partition(tp("t", 0), 1)}), now);
    EXPECT_FALSE(plan.pending.has_value());
    EXPECT_EQ(plan.results[0].error, kafka_error::unknown_server_error);
}

// --- OffsetFetch ---------------------------------------------------------------------

TEST(offset_fetch, unknown_group_answers_minus_one_for_each_requested_partition) {
    offset_store store;
    auto fetched = store.fetch("nobody", std::vector{tp("t", 0), tp("t", 1)}, false);
    ASSERT_EQ(fetched.size(), 2u);
    EXPECT_EQ(fetched[1], (fetched_offset{tp("t", 1), model::no_offset, model::no_leader_epoch,
                                          "", kafka_error::none}));
}

TEST(offset_fetch, all_partitions_of_an_unknown_group_is_an_empty_answer) {
    offset_store store;
    EXPECT_TRUE(store.fetch("nobody", std::nullopt, false).empty());
}

TEST(offset_fetch, all_partitions_lists_every_committed_offset_sorted) {
    offset_store store;
    commit(store, "g", tp("b", 0), 7, 1);
    commit(store, "g", tp("a", 1), 8, 2);
    commit(store, "other", tp("a", 0), 9, 3);
    auto fetched = store.fetch("g", std::nullopt, false);
    ASSERT_EQ(fetched.size(), 2u);
    EXPECT_EQ(fetched[0].tp, tp("a", 1));
    EXPECT_EQ(fetched[0].offset, model::offset{8});
    EXPECT_EQ(fetched[1].tp, tp("b", 0));
}

TEST(offset_fetch, a_partition_without_offset_answers_minus_one_empty_metadata_none) {
    offset_store store;
    commit(store, "g", tp("t", 0), 7, 1);
    auto fetched = store.fetch("g", std::vector{tp("t", 0), tp("t", 9)}, false);
    EXPECT_EQ(fetched[0].offset, model::offset{7});
    EXPECT_EQ(fetched[1], (fetched_offset{tp("t", 9), model::no_offset, model::no_leader_epoch,
                                          "", kafka_error::none}));
}

TEST(offset_fetch, returns_leader_epoch_and_metadata) {
    offset_store store;
    commit_request r = request("g", {partition(tp("t", 0), 5, "meta")});
    r.partitions[0].leader_epoch = model::leader_epoch{4};
    commit_plan plan = store.prepare_commit(r, now);
    (void)store.complete_commit(*plan.pending, model::offset{0});
    auto fetched = store.fetch("g", std::vector{tp("t", 0)}, false);
    EXPECT_EQ(fetched[0], (fetched_offset{tp("t", 0), model::offset{5}, model::leader_epoch{4},
                                          "meta", kafka_error::none}));
}

TEST(offset_fetch, require_stable_with_a_pending_commit_is_unstable) {
    offset_store store;
    commit(store, "g", tp("t", 0), 5, 1);
    commit_plan plan = store.prepare_commit(request("g", {partition(tp("t", 0), 6)}), now);
    auto stable = store.fetch("g", std::vector{tp("t", 0)}, true);
    EXPECT_EQ(stable[0].error, kafka_error::unstable_offset_commit);
    EXPECT_EQ(stable[0].offset, model::no_offset);
    auto all = store.fetch("g", std::nullopt, true);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].error, kafka_error::unstable_offset_commit);
    // Without RequireStable the committed offset is answered.
    EXPECT_EQ(store.fetch("g", std::vector{tp("t", 0)}, false)[0].offset, model::offset{5});
    (void)store.complete_commit(*plan.pending, model::offset{2});
    EXPECT_EQ(store.fetch("g", std::vector{tp("t", 0)}, true)[0].offset, model::offset{6});
}

TEST(offset_fetch, require_stable_with_a_staged_transactional_offset_is_unstable) {
    offset_store store;
    store.stage_txn_offset(model::producer_id{1}, "g", tp("t", 0), committed_offset{});
    EXPECT_EQ(store.fetch("g", std::vector{tp("t", 0)}, true)[0].error,
              kafka_error::unstable_offset_commit);
    store.complete_txn(model::producer_id{1}, false);
    EXPECT_EQ(store.fetch("g", std::vector{tp("t", 0)}, true)[0].error, kafka_error::none);
}

// --- transactional offsets -----------------------------------------------------------

TEST(txn_offsets, commit_applies_staged_offsets_only_where_newer_by_batch_offset) {
    offset_store store;
    commit(store, "g", tp("t", 0), 50, 500);
    committed_offset staged;
    staged.value.offset = model::offset{40};
    staged.batch_offset = model::offset{400};
    store.stage_txn_offset(model::producer_id{1}, "g", tp("t", 0), staged);
    staged.value.offset = model::offset{60};
    staged.batch_offset = model::offset{600};
    store.stage_txn_offset(model::producer_id{1}, "g", tp("t", 1), staged);
    store.complete_txn(model::producer_id{1}, true);
    EXPECT_EQ(store.find("g", tp("t", 0))->value.offset, model::offset{50});
    EXPECT_EQ(store.find("g", tp("t", 1))->value.offset, model::offset{60});
}

TEST(txn_offsets, abort_drops_the_stage) {
    offset_store store;
    store.stage_txn_offset(model::producer_id{1}, "g", tp("t", 0), committed_offset{});
    store.complete_txn(model::producer_id{1}, false);
    EXPECT_EQ(store.find("g", tp("t", 0)), nullptr);
    EXPECT_FALSE(store.has_offsets("g"));
}

}  // namespace
}  // namespace gregor::group
