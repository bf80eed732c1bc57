// Goal: loading a `__consumer_offsets` partition rebuilds exactly the state Kafka 3.8's
// loader rebuilds (reference §11.2): latest by log position wins, tombstones remove,
// transactional offsets wait for their marker, unknown key versions and corrupt records are
// skipped and counted, a corrupt batch stops the load with an error and never a crash.
// Method: build logs batch by batch with the coordinator's own batch builders (and raw
// records for malformed cases), load them, assert on the result.
#include "group/loader.h"
#include "group/tests/log_builder.h"
#include "group/tests/test_bytes.h"

#include <gtest/gtest.h>

namespace gregor::group {
namespace {

using model::kafka_error;
using testing::hex;
using testing::log_builder;

constexpr std::size_t batch_max = 1 << 20;
constexpr std::size_t decompressed_max = 1 << 20;

load_result load(const log_builder& log) {
    return load_offsets_partition(log.bytes_of(), offsets_config{}, batch_max, decompressed_max);
}

model::topic_partition tp(std::string topic, std::int32_t p) {
    return {std::move(topic), model::partition_id{p}};
}

bytes group_key(const std::string& group) {
    return *encode_group_metadata_key({group});
}

bytes group_value(std::int32_t generation) {
    group_metadata_value v;
    v.protocol_type = "consumer";
    v.generation = generation;
    return *encode_group_metadata_value(v);
}

TEST(loader, the_latest_commit_by_log_position_wins) {
    log_builder log;
    log.commit("g", "t", 0, 10);
    const model::offset second = log.commit("g", "t", 0, 20);
    load_result r = load(log);
    ASSERT_FALSE(r.error.has_value());
    const committed_offset* c = r.offsets.find("g", tp("t", 0));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->value.offset, model::offset{20});
    EXPECT_EQ(c->batch_offset, second);
    EXPECT_EQ(r.next_offset, log.next());
    EXPECT_EQ(r.stats.offset_records, 2u);
}

TEST(loader, a_tombstone_removes_the_offset) {
    log_builder log;
    log.commit("g", "t", 0, 10);
    log.commit("g", "t", 1, 11);
    log.tombstone("g", "t", 0);
    load_result r = load(log);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0)), nullptr);
    EXPECT_NE(r.offsets.find("g", tp("t", 1)), nullptr);
    EXPECT_EQ(r.stats.offset_tombstones, 1u);
}

TEST(loader, the_latest_group_record_wins_and_a_tombstone_removes_the_group) {
    log_builder log;
    log.raw({{group_key("a"), group_value(1)}, {group_key("b"), group_value(1)}});
    log.raw({{group_key("a"), group_value(2)}, {group_key("b"), std::nullopt}});
    load_result r = load(log);
    ASSERT_EQ(r.groups.size(), 1u);
    EXPECT_EQ(r.groups.at("a").generation, 2);
    EXPECT_TRUE(r.removed_groups.contains("b"));
    EXPECT_EQ(r.stats.group_records, 3u);
    EXPECT_EQ(r.stats.group_tombstones, 1u);
}

TEST(loader, a_group_recreated_after_its_tombstone_is_loaded) {
    log_builder log;
    log.raw({{group_key("a"), group_value(1)}});
    log.raw({{group_key("a"), std::nullopt}});
    log.raw({{group_key("a"), group_value(1)}});
    load_result r = load(log);
    EXPECT_TRUE(r.groups.contains("a"));
    EXPECT_FALSE(r.removed_groups.contains("a"));
}

TEST(loader, offsets_without_a_group_record_form_offsets_only_groups) {
    log_builder log;
    log.raw({{group_key("with-record"), group_value(1)}});
    log.commit("with-record", "t", 0, 1);
    log.commit("simple", "t", 0, 1);
    load_result r = load(log);
    EXPECT_EQ(r.offsets_only_groups(), std::vector<std::string>{"simple"});
}

TEST(loader, the_batch_offset_is_the_offset_of_the_batch_s_first_record) {
    log_builder log;
    log.commit("g", "t", 0, 1);
    offset_commit_value v;
    const offset_record two[] = {{tp("t", 1), v}, {tp("t", 2), v}};
    const model::offset base =
        log.append(*build_offset_commit_batch("g", two, model::timestamp_ms{1}, {}));
    load_result r = load(log);
    EXPECT_EQ(r.offsets.find("g", tp("t", 2))->batch_offset, base);
}

TEST(loader, a_committed_transaction_applies_offsets_newer_by_batch_offset) {
    log_builder log;
    const txn_producer p{model::producer_id{7}, 0};
    log.commit("g", "t", 0, 1);                 // plain, older than the transaction
    log.commit("g", "t", 0, 100, p);            // staged
    log.commit("g", "t", 1, 200, p);            // staged
    log.commit("g", "t", 1, 300);               // plain, newer than the staged offset
    log.marker(p.id, true);
    load_result r = load(log);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0))->value.offset, model::offset{100});
    EXPECT_EQ(r.offsets.find("g", tp("t", 1))->value.offset, model::offset{300});
    EXPECT_EQ(r.stats.control_batches, 1u);
}

TEST(loader, an_aborted_transaction_is_dropped) {
    log_builder log;
    const txn_producer p{model::producer_id{7}, 0};
    log.commit("g", "t", 0, 1);
    log.commit("g", "t", 0, 100, p);
    log.marker(p.id, false);
    log.marker(p.id, true);  // a later COMMIT finds nothing staged
    load_result r = load(log);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0))->value.offset, model::offset{1});
}

TEST(loader, an_open_transaction_stays_staged_and_makes_fetches_unstable) {
    log_builder log;
    const txn_producer p{model::producer_id{7}, 0};
    log.commit("g", "t", 0, 100, p);
    load_result r = load(log);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0)), nullptr);
    EXPECT_TRUE(r.offsets.has_offsets("g"));
    EXPECT_EQ(r.offsets_only_groups(), std::vector<std::string>{"g"});
    EXPECT_EQ(r.offsets.fetch("g", std::vector{tp("t", 0)}, true)[0].error,
              kafka_error::unstable_offset_commit);
    r.offsets.complete_txn(p.id, true);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0))->value.offset, model::offset{100});
}

TEST(loader, a_transactional_tombstone_removes_the_staged_offset) {
    log_builder log;
    const txn_producer p{model::producer_id{7}, 0};
    log.commit("g", "t", 0, 100, p);
    const offset_commit_key k[] = {{"g", tp("t", 0)}};
    // Rebuild it as a transactional batch of the same producer.
    protocol::record_input rec;
    bytes key = *encode_offset_commit_key(k[0]);
    rec.key = bytes_view(key);
    protocol::batch_options o;
    o.producer = p.id;
    o.producer_epoch = 0;
    o.transactional = true;
    log.append(*protocol::build_batch(std::span(&rec, 1), o));
    log.marker(p.id, true);
    load_result r = load(log);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0)), nullptr);
    EXPECT_FALSE(r.offsets.has_offsets("g"));
}

TEST(loader, kip848_and_unknown_key_versions_are_skipped_and_counted) {
    log_builder log;
    log.raw({{hex("00 03 | 00 01 67"), hex("00 00")},
             {hex("00 08 | 00 01 67"), std::nullopt},
             {hex("00 2A"), hex("00")}});
    log.commit("g", "t", 0, 5);
    load_result r = load(log);
    EXPECT_FALSE(r.error.has_value());
    EXPECT_EQ(r.stats.unknown_key_records, 3u);
    EXPECT_EQ(r.stats.corrupt_records, 0u);
    EXPECT_NE(r.offsets.find("g", tp("t", 0)), nullptr);
}

TEST(loader, corrupt_records_are_skipped_and_counted) {
    log_builder log;
    bytes good_key = *encode_offset_commit_key({"g", tp("t", 0)});
    log.raw({{hex("00 01 | 00 05 67"), hex("00 03")},                  // key cut short
             {good_key, hex("00 03 | 00 00")},                           // value cut short
             {group_key("g"), hex("00 09 | 00 00")},                     // value version 9
             {std::nullopt, hex("00 03")},                               // no key
             {hex("00"), std::nullopt}});                                // one-byte key
    log.commit("g", "t", 1, 5);
    load_result r = load(log);
    EXPECT_FALSE(r.error.has_value());
    EXPECT_EQ(r.stats.corrupt_records, 5u);
    EXPECT_EQ(r.offsets.find("g", tp("t", 0)), nullptr);
    EXPECT_NE(r.offsets.find("g", tp("t", 1)), nullptr);
    EXPECT_TRUE(r.groups.empty());
}

TEST(loader, a_crc_mismatch_stops_the_load_at_that_batch) {
    log_builder log;
    log.commit("g", "t", 0, 1);
    const model::offset bad = log.commit("g", "t", 1, 2);
    log.commit("g", "t", 2, 3);
    // Flip a byte inside the second batch's records.
    const std::size_t first_size = log.bytes_of().size() / 3;
    log.mutable_bytes()[first_size + model::batch_header_bytes + 5] ^= 0xFF;
    load_result r = load(log);
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->code, model::batch_errc::bad_crc);
    EXPECT_EQ(r.next_offset, bad);
    EXPECT_NE(r.offsets.find("g", tp("t", 0)), nullptr);
    EXPECT_EQ(r.offsets.find("g", tp("t", 1)), nullptr);
    EXPECT_EQ(r.offsets.find("g", tp("t", 2)), nullptr);
}

TEST(loader, a_stopped_loader_keeps_failing) {
    log_builder log;
    log.commit("g", "t", 0, 1);
    log.mutable_bytes()[model::batch_header_bytes + 2] ^= 0x01;
    offsets_loader loader(offsets_config{}, batch_max, decompressed_max);
    EXPECT_TRUE(loader.feed(log.bytes_of()).has_error());
    EXPECT_TRUE(loader.stopped());
    EXPECT_TRUE(loader.feed(log.bytes_of()).has_error());
}

TEST(loader, a_batch_cut_at_the_end_of_a_chunk_waits_for_the_rest) {
    log_builder log;
    log.commit("g", "t", 0, 1);
    log.commit("g", "t", 1, 2);
    const bytes& all = log.bytes_of();
    const std::size_t cut = all.size() - 10;
    offsets_loader loader(offsets_config{}, batch_max, decompressed_max);
    auto first = loader.feed(bytes_view(all).subspan(0, cut));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, all.size() / 2);
    EXPECT_EQ(loader.next_offset(), model::offset{1});
    auto rest = loader.feed(bytes_view(all).subspan(*first));
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(*rest, all.size() - *first);
    load_result r = std::move(loader).finish();
    EXPECT_EQ(r.offsets.committed_count(), 2u);
}

TEST(loader, a_whole_log_ending_in_a_partial_batch_is_an_error) {
    log_builder log;
    log.commit("g", "t", 0, 1);
    log.commit("g", "t", 1, 2);
    bytes cut = log.bytes_of();
    cut.resize(cut.size() - 1);
    load_result r = load_offsets_partition(cut, offsets_config{}, batch_max, decompressed_max);
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.offsets.committed_count(), 1u);
}

TEST(loader, compressed_batches_are_decompressed) {
    log_builder log;
    bytes key = *encode_offset_commit_key({"g", tp("t", 0)});
    offset_commit_value v;
    v.offset = model::offset{9};
    bytes value = *encode_offset_commit_value(v);
    log.raw({{key, value}}, model::compression_type::zstd);
    load_result r = load(log);
    ASSERT_FALSE(r.error.has_value());
    EXPECT_EQ(r.offsets.find("g", tp("t", 0))->value.offset, model::offset{9});
}

TEST(loader, decompression_beyond_the_limit_stops_the_load) {
    log_builder log;
    bytes key = *encode_offset_commit_key({"g", tp("t", 0)});
    offset_commit_value v;
    v.metadata.assign(4000, 'x');
    bytes value = *encode_offset_commit_value(v);
    log.raw({{key, value}}, model::compression_type::gzip);
    load_result r = load_offsets_partition(log.bytes_of(), offsets_config{}, batch_max, 1024);
    EXPECT_TRUE(r.error.has_value());
    EXPECT_EQ(r.offsets.committed_count(), 0u);
}

TEST(loader, an_empty_log_loads_nothing) {
    load_result r = load_offsets_partition({}, offsets_config{}, batch_max, decompressed_max);
    EXPECT_FALSE(r.error.has_value());
    EXPECT_EQ(r.next_offset, model::offset{0});
    EXPECT_TRUE(r.groups.empty());
}

}  // namespace
}  // namespace gregor::group
