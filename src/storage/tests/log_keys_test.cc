// Goal: a log whose cleanup.policy holds "compact" refuses, as Kafka's LogValidator does, a
// client's record set in which any record has no key (INVALID_RECORD with Kafka's message),
// also inside compressed batches, writing nothing; keyed records and tombstones go in; a
// log without "compact" and a follower accept keyless records; a policy change applies to
// the next append.
// Method: logs on the in-memory file system, batches built with the records library (every
// codec), and checks of the append result, its error and the log end offset.
#include "protocol/records/batch_builder.h"
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace gregor::storage {
namespace {

using test::off;
using test::ts;

const model::topic_partition tp{"kc", model::partition_id(3)};
const std::string dir = "/k/kc-3";

// One batch: a record per entry, keyed "k<i>" unless the entry is false.
bytes batch_of(const std::vector<bool>& keyed,
               model::compression_type codec = model::compression_type::none,
               bool tombstones = false) {
    std::vector<std::string> keys;
    keys.reserve(keyed.size());
    for (std::size_t i = 0; i < keyed.size(); ++i) {
        keys.push_back("k" + std::to_string(i));
    }
    const std::string value = "value";
    std::vector<protocol::record_input> records;
    for (std::size_t i = 0; i < keyed.size(); ++i) {
        protocol::record_input r;
        if (keyed[i]) {
            r.key = test::as_bytes(keys[i]);
        }
        if (!tombstones) {
            r.value = test::as_bytes(value);
        }
        r.timestamp = ts(1000);
        records.push_back(r);
    }
    auto b = protocol::build_batch(records, {.compression = codec});
    EXPECT_TRUE(b);
    return b ? *b : bytes{};
}

struct keys_fixture : ::testing::Test {
    test::memory_env env;
    log_config cfg = [] {
        log_config c;
        c.segment_index_bytes = 1024;
        c.compact = true;
        c.delete_ = false;
        return c;
    }();
    std::unique_ptr<log> lg;

    void SetUp() override {
        auto r = log::open(env.ctx(), dir, tp, cfg, {}, ts(1000));
        ASSERT_TRUE(r) << r.err().to_string();
        lg = std::move(*r);
    }
    result<append_result> append(bytes data, bool validated = false) {
        return lg->append_as_leader(data, model::leader_epoch(1), ts(2000), validated);
    }
};

TEST_F(keys_fixture, keyed_records_and_tombstones_go_into_a_compacted_log) {
    ASSERT_TRUE(append(batch_of({true, true, true})));
    ASSERT_TRUE(append(batch_of({true, true}, model::compression_type::none, true)));
    EXPECT_EQ(lg->log_end_offset(), off(5));
}

TEST_F(keys_fixture, a_keyless_record_fails_the_whole_set_with_kafkas_message) {
    for (bool validated : {false, true}) {
        auto r = append(batch_of({true, false, true, false}), validated);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.err().code, make_error_code(errc::invalid_record));
        EXPECT_EQ(r.err().detail,
                  "One or more records have been rejected due to 2 record errors in total, and "
                  "only showing the first three errors at most: [RecordError(batchIndex=1, "
                  "message='Compacted topic cannot accept message without key in topic "
                  "partition kc-3'), RecordError(batchIndex=3, message='Compacted topic cannot "
                  "accept message without key in topic partition kc-3')]");
        EXPECT_EQ(lg->log_end_offset(), off(0));
    }
    // A good batch followed by a bad one in the same set: nothing is written.
    auto good = batch_of({true});
    auto bad = batch_of({false});
    good.insert(good.end(), bad.begin(), bad.end());
    ASSERT_FALSE(append(good));
    EXPECT_EQ(lg->log_end_offset(), off(0));
}

TEST_F(keys_fixture, compressed_batches_are_looked_into) {
    for (auto codec : {model::compression_type::gzip, model::compression_type::snappy,
                       model::compression_type::lz4, model::compression_type::zstd}) {
        SCOPED_TRACE(static_cast<int>(codec));
        auto end = lg->log_end_offset();
        auto r = append(batch_of({true, true, false}, codec));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.err().code, make_error_code(errc::invalid_record));
        EXPECT_NE(r.err().detail.find("batchIndex=2"), std::string::npos);
        EXPECT_EQ(lg->log_end_offset(), end);
        ASSERT_TRUE(append(batch_of({true, true, true}, codec)));
        EXPECT_EQ(lg->log_end_offset(), end + 3);
    }
}

TEST_F(keys_fixture, a_compressed_batch_whose_records_do_not_parse_is_corrupt) {
    auto b = batch_of({true, true}, model::compression_type::gzip);
    b[b.size() - 3] ^= 0xff;  // the gzip stream's own CRC no longer fits
    // The batch CRC is made to fit again: only looking inside finds the damage.
    auto crc = crc32c(bytes_view(b).subspan(model::batch_crc_start));
    for (std::size_t i = 0; i < 4; ++i) {
        b[17 + i] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
    }
    auto r = append(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, make_error_code(errc::invalid_batch));
}

TEST_F(keys_fixture, keyless_records_go_into_a_log_without_compact_and_after_a_policy_change) {
    cfg.compact = false;
    cfg.delete_ = true;
    lg->set_config(cfg);
    ASSERT_TRUE(append(batch_of({false, false})));
    ASSERT_TRUE(append(test::make_batch({.records = 2})));
    EXPECT_EQ(lg->log_end_offset(), off(4));
    cfg.compact = true;
    lg->set_config(cfg);
    auto r = append(batch_of({false}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, make_error_code(errc::invalid_record));
    EXPECT_EQ(lg->log_end_offset(), off(4));
}

TEST_F(keys_fixture, a_follower_of_a_compacted_log_takes_whatever_its_leader_wrote) {
    auto b = test::make_batch({.records = 3, .base_offset = 0, .epoch = 1});
    ASSERT_TRUE(lg->append_as_follower(b, ts(2000)));
    EXPECT_EQ(lg->log_end_offset(), off(3));
}

}  // namespace
}  // namespace gregor::storage
