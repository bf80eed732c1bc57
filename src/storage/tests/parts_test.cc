// Goal: the small pure parts behave as Kafka's formats and rules say: segment and partition
// names, checkpoint text files (and refusal of corrupt ones), the leader epoch cache rules,
// index lookups, and config parsing with Kafka's key precedence.
// Method: table-style checks on values, no file system except for the atomic write test.
#include "storage/checkpoint.h"
#include "storage/errc.h"
#include "storage/index_file.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/memory_file_system.h"
#include "storage/names.h"

#include <gtest/gtest.h>

#include <string>

namespace gregor::storage {
namespace {

using model::leader_epoch;
using model::offset;

bytes text(const std::string& s) {
    return bytes(s.begin(), s.end());
}

TEST(names, segment_files_use_twenty_digit_base_offsets) {
    EXPECT_EQ(segment_file_name(offset(42), segment_file_kind::log), "00000000000000000042.log");
    EXPECT_EQ(segment_file_name(offset(0), segment_file_kind::time_index),
              "00000000000000000000.timeindex");
    auto p = parse_segment_file_name("00000000000000001234.index.deleted");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->base, offset(1234));
    EXPECT_EQ(p->kind, segment_file_kind::index);
    EXPECT_TRUE(p->deleted);
    EXPECT_FALSE(parse_segment_file_name("leader-epoch-checkpoint"));
    EXPECT_FALSE(parse_segment_file_name("0000000000000000004x.log"));
}

TEST(names, partition_dirs_split_at_the_last_dash) {
    auto tp = parse_partition_dir_name("my-topic-12");
    ASSERT_TRUE(tp);
    EXPECT_EQ(tp->topic, "my-topic");
    EXPECT_EQ(tp->partition, model::partition_id(12));
    EXPECT_FALSE(parse_partition_dir_name("topic-1.abc-delete"));
    EXPECT_FALSE(parse_partition_dir_name("nodash"));
    EXPECT_FALSE(parse_partition_dir_name("t-x"));
    EXPECT_EQ(partition_dir_name({"a-b", model::partition_id(3)}), "a-b-3");
}

TEST(checkpoint, offset_checkpoint_round_trips_in_kafka_text_format) {
    offset_map m{{{"orders", model::partition_id(0)}, offset(17)},
                 {{"orders", model::partition_id(1)}, offset(4)}};
    auto encoded = encode_offset_checkpoint(m);
    EXPECT_EQ(std::string(encoded.begin(), encoded.end()), "0\n2\norders 0 17\norders 1 4\n");
    auto decoded = decode_offset_checkpoint(encoded);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, m);
}

TEST(checkpoint, corrupt_checkpoints_are_refused) {
    for (const char* bad : {"", "1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt x 1\n", "0\n1\nt 0\n",
                            "0\n1\nt -1 5\n", "0\nabc\n"}) {
        auto r = decode_offset_checkpoint(text(bad));
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.err().code, make_error_code(errc::corrupt_checkpoint));
    }
    EXPECT_FALSE(decode_epoch_checkpoint(text("0\n1\n3\n")));
    EXPECT_FALSE(decode_epoch_checkpoint(text("0\n1\n-2 5\n")));
}

TEST(checkpoint, epoch_checkpoint_round_trips) {
    std::vector<epoch_entry> e{{leader_epoch(0), offset(0)}, {leader_epoch(3), offset(10)}};
    auto encoded = encode_epoch_checkpoint(e);
    EXPECT_EQ(std::string(encoded.begin(), encoded.end()), "0\n2\n0 0\n3 10\n");
    EXPECT_EQ(*decode_epoch_checkpoint(encoded), e);
}

TEST(checkpoint, atomic_write_replaces_the_file_and_leaves_no_temp) {
    memory_file_system fs;
    ASSERT_TRUE(fs.create_dirs("/d"));
    ASSERT_TRUE(write_offset_checkpoint(fs, "/d/cp", {}));
    offset_map m{{{"t", model::partition_id(2)}, offset(9)}};
    ASSERT_TRUE(write_offset_checkpoint(fs, "/d/cp", m));
    EXPECT_EQ(*read_offset_checkpoint(fs, "/d/cp"), m);
    EXPECT_FALSE(fs.exists("/d/cp.tmp"));
    EXPECT_TRUE(read_offset_checkpoint(fs, "/d/missing")->empty());
}

TEST(leader_epoch_cache, end_offset_for_follows_kafka_rules) {
    leader_epoch_cache c;
    EXPECT_TRUE(c.assign(leader_epoch(1), offset(0)));
    EXPECT_FALSE(c.assign(leader_epoch(1), offset(5))) << "a repeat keeps the first offset";
    EXPECT_TRUE(c.assign(leader_epoch(3), offset(10)));
    EXPECT_TRUE(c.assign(leader_epoch(5), offset(20)));
    auto log_end = offset(25);
    EXPECT_EQ(c.end_offset_for(leader_epoch(5), log_end), (epoch_entry{leader_epoch(5), log_end}));
    EXPECT_EQ(c.end_offset_for(leader_epoch(3), log_end),
              (epoch_entry{leader_epoch(3), offset(20)}));
    EXPECT_EQ(c.end_offset_for(leader_epoch(2), log_end),
              (epoch_entry{leader_epoch(1), offset(10)}))
        << "an unknown epoch answers with the largest smaller one";
    EXPECT_EQ(c.end_offset_for(leader_epoch(0), log_end),
              (epoch_entry{leader_epoch(0), offset(0)}));
    EXPECT_EQ(c.end_offset_for(leader_epoch(9), log_end),
              (epoch_entry{model::no_leader_epoch, model::no_offset}));
}

TEST(leader_epoch_cache, assign_removes_conflicting_entries) {
    leader_epoch_cache c({{leader_epoch(1), offset(0)}, {leader_epoch(2), offset(10)}});
    EXPECT_TRUE(c.assign(leader_epoch(4), offset(5)));
    EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{leader_epoch(1), offset(0)},
                                                     {leader_epoch(4), offset(5)}}));
}

TEST(leader_epoch_cache, truncation_from_either_end) {
    leader_epoch_cache c({{leader_epoch(1), offset(0)},
                          {leader_epoch(2), offset(10)},
                          {leader_epoch(4), offset(20)}});
    auto d = c;
    EXPECT_TRUE(c.truncate_from_end(offset(20)));
    EXPECT_EQ(c.latest()->epoch, leader_epoch(2));
    EXPECT_FALSE(c.truncate_from_end(offset(30)));
    EXPECT_TRUE(d.truncate_from_start(offset(15)));
    EXPECT_EQ(d.entries(), (std::vector<epoch_entry>{{leader_epoch(2), offset(15)},
                                                     {leader_epoch(4), offset(20)}}));
    EXPECT_FALSE(d.truncate_from_start(offset(15)));
    EXPECT_FALSE(
        leader_epoch_cache::is_valid({{leader_epoch(2), offset(0)}, {leader_epoch(1), offset(5)}}));
}

TEST(index, offset_index_finds_the_largest_entry_not_above_the_target) {
    offset base(100);
    bytes entries;
    for (int i = 1; i <= 5; ++i) {
        auto e = offset_index::encode(base, base + 10 * i, static_cast<std::uint64_t>(1000 * i));
        entries.insert(entries.end(), e.begin(), e.end());
    }
    EXPECT_EQ(offset_index::lookup(entries, base, offset(105)).position, 0U);
    EXPECT_EQ(offset_index::lookup(entries, base, offset(110)).position, 1000U);
    EXPECT_EQ(offset_index::lookup(entries, base, offset(139)).position, 3000U);
    EXPECT_EQ(offset_index::lookup(entries, base, offset(999)).position, 5000U);
    EXPECT_TRUE(offset_index::sane(entries, base, 6000));
    EXPECT_FALSE(offset_index::sane(entries, base, 4000)) << "positions past the log";
    EXPECT_FALSE(offset_index::sane(bytes(7, 0), base, 6000));
}

TEST(index, time_index_finds_the_largest_entry_not_above_the_target) {
    offset base(0);
    bytes entries;
    for (int i = 1; i <= 3; ++i) {
        auto e = time_index::encode(base, model::timestamp_ms(100 * i), offset(10 * i));
        entries.insert(entries.end(), e.begin(), e.end());
    }
    EXPECT_EQ(time_index::lookup(entries, base, model::timestamp_ms(50)).offset, base);
    EXPECT_EQ(time_index::lookup(entries, base, model::timestamp_ms(250)).offset, offset(20));
    EXPECT_EQ(time_index::last(entries, base)->timestamp, model::timestamp_ms(300));
    EXPECT_TRUE(time_index::sane(entries, base));
}

TEST(log_config, broker_keys_follow_kafka_precedence) {
    auto c = broker_log_defaults({{"log.retention.hours", "1"},
                                  {"log.retention.minutes", "2"},
                                  {"log.roll.hours", "3"},
                                  {"log.segment.bytes", "2048"},
                                  {"listeners", "PLAINTEXT://:9092"}});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->retention_ms, 2 * 60'000) << "minutes win over hours";
    EXPECT_EQ(c->segment_ms, 3 * hour_ms);
    EXPECT_EQ(c->segment_bytes, 2048U);
    EXPECT_EQ(c->flush_messages, no_limit) << "flushing is left to the OS by default";
    auto d = broker_log_defaults({});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->retention_ms, 168 * hour_ms);
    EXPECT_EQ(d->retention_bytes, -1);
}

TEST(log_config, topic_overrides_apply_and_bad_values_name_the_key) {
    auto c = apply_topic_overrides(log_config{}, {{"retention.ms", "-1"},
                                                  {"message.timestamp.type", "LogAppendTime"},
                                                  {"flush.messages", "1"}});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->retention_ms, -1);
    EXPECT_EQ(c->timestamp_type, model::timestamp_type::log_append_time);
    EXPECT_EQ(c->flush_messages, 1);
    auto bad = apply_topic_overrides(log_config{}, {{"segment.bytes", "12abc"}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.err().code, make_error_code(errc::invalid_config));
    EXPECT_NE(bad.err().detail.find("segment.bytes"), std::string::npos);
    EXPECT_FALSE(apply_topic_overrides(log_config{}, {{"message.timestamp.type", "Now"}}));
}

TEST(log_config, cleanup_policy_and_compaction_keys_follow_kafka) {
    auto broker = broker_log_defaults({{"log.cleanup.policy", "compact"},
                                       {"log.cleaner.min.cleanable.ratio", "0.25"},
                                       {"log.cleaner.delete.retention.ms", "1000"}});
    ASSERT_TRUE(broker);
    EXPECT_TRUE(broker->compact);
    EXPECT_FALSE(broker->delete_);
    EXPECT_DOUBLE_EQ(broker->min_cleanable_dirty_ratio, 0.25);
    EXPECT_EQ(broker->delete_retention_ms, 1000);
    auto both = apply_topic_overrides(*broker, {{"cleanup.policy", " delete , compact"},
                                                {"max.compaction.lag.ms", "60000"},
                                                {"segment.ms", "3600000"}});
    ASSERT_TRUE(both);
    EXPECT_TRUE(both->compact && both->delete_);
    EXPECT_EQ(both->roll_ms(), 60000) << "max.compaction.lag.ms rolls a compacted log sooner";
    auto plain = apply_topic_overrides(log_config{}, {{"max.compaction.lag.ms", "60000"}});
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->roll_ms(), plain->segment_ms) << "only compacted logs roll on the lag";
    EXPECT_FALSE(apply_topic_overrides(log_config{}, {{"cleanup.policy", "compact,remove"}}));
    EXPECT_FALSE(apply_topic_overrides(log_config{}, {{"min.cleanable.dirty.ratio", "1.5"}}));
    auto lags = apply_topic_overrides(log_config{}, {{"min.compaction.lag.ms", "10"},
                                                     {"max.compaction.lag.ms", "5"}});
    ASSERT_FALSE(lags);
    EXPECT_NE(lags.err().detail.find("min.compaction.lag.ms"), std::string::npos);
}

TEST(log_config, cleaner_keys_have_kafka_defaults_and_are_checked) {
    auto d = broker_cleaner_config({});
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->enable);
    EXPECT_EQ(d->threads, 1);
    EXPECT_EQ(d->map_bytes_per_thread(), 128U << 20);
    auto two = broker_cleaner_config({{"log.cleaner.threads", "2"},
                                      {"log.cleaner.io.max.bytes.per.second", "1048576.5"}});
    ASSERT_TRUE(two);
    EXPECT_EQ(two->map_bytes_per_thread(), 64U << 20);
    EXPECT_DOUBLE_EQ(two->io_max_bytes_per_second, 1048576.5);
    EXPECT_FALSE(broker_cleaner_config({{"log.cleaner.enable", "yes"}}));
    auto tiny = broker_cleaner_config({{"log.cleaner.dedupe.buffer.size", "24"}});
    ASSERT_FALSE(tiny) << "a map that holds no key is refused at start-up, as in Kafka";
    EXPECT_NE(tiny.err().detail.find("dedupe"), std::string::npos);
}

}  // namespace
}  // namespace gregor::storage
