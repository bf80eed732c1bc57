// Goal: topic names and topic configs are accepted and refused exactly where Kafka accepts
// and refuses them, with Kafka's messages, and a topic's effective defaults follow the
// broker's server.properties the way Kafka's synonyms do.
// Method: tables of names, of name pairs, and of (key, value) cases that cover every
// config key at its boundaries (a test checks that no key is left out), then the
// cross-key rules and the default resolution.
#include "controller/topic_rules.h"

#include <gtest/gtest.h>

#include <set>

namespace gregor::controller {
namespace {

TEST(topic_rules, valid_topic_names_pass) {
    std::vector<std::string> names = {"a",   "orders",    "A.b_c-9",
                                      "...", "_internal", std::string(249, 'x')};
    for (const auto& name : names) {
        EXPECT_EQ(invalid_topic_name(name), std::nullopt) << name;
    }
}

struct name_case {
    std::string name;
    std::string message;
};

TEST(topic_rules, invalid_topic_names_get_kafkas_messages) {
    std::vector<name_case> cases = {
        {"", "Topic name is illegal, it can't be empty"},
        {".", R"(Topic name cannot be "." or "..")"},
        {"..", R"(Topic name cannot be "." or "..")"},
        {std::string(250, 'x'),
         "Topic name is illegal, it can't be longer than 249 characters, "
         "topic name: " +
             std::string(250, 'x')},
        {"a b",
         "Topic name \"a b\" is illegal, it contains a character other than ASCII "
         "alphanumerics, '.', '_' and '-'"},
        {"a/b",
         "Topic name \"a/b\" is illegal, it contains a character other than ASCII "
         "alphanumerics, '.', '_' and '-'"},
        {"caf\xc3\xa9",
         "Topic name \"caf\\xc3\\xa9\" is illegal, it contains a character other "
         "than ASCII alphanumerics, '.', '_' and '-'"},
        {std::string("a\0b", 3),
         "Topic name \"a\\x00b\" is illegal, it contains a character "
         "other than ASCII alphanumerics, '.', '_' and '-'"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(invalid_topic_name(c.name), c.message) << c.name;
    }
}

TEST(topic_rules, names_collide_when_dots_and_underscores_are_confused) {
    struct pair_case {
        std::string_view a, b;
        bool collide;
    };
    std::vector<pair_case> cases = {
        {"a.b", "a_b", true},   {"a_b", "a.b", true},   {"a..b", "a_._b", false},
        {"a..b", "a_.b", true}, {"a.b", "a.b", false},  {"a_b", "a_b", false},
        {"a.b", "a-b", false},  {"a.b", "a.bc", false}, {"", "", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(topic_names_collide(c.a, c.b), c.collide) << c.a << " vs " << c.b;
    }
}

TEST(topic_rules, the_table_holds_every_kafka_topic_config_once) {
    std::vector<std::string_view> expected = {"cleanup.policy",
                                              "compression.gzip.level",
                                              "compression.lz4.level",
                                              "compression.type",
                                              "compression.zstd.level",
                                              "delete.retention.ms",
                                              "file.delete.delay.ms",
                                              "flush.messages",
                                              "flush.ms",
                                              "follower.replication.throttled.replicas",
                                              "index.interval.bytes",
                                              "leader.replication.throttled.replicas",
                                              "local.retention.bytes",
                                              "local.retention.ms",
                                              "max.compaction.lag.ms",
                                              "max.message.bytes",
                                              "message.downconversion.enable",
                                              "message.format.version",
                                              "message.timestamp.after.max.ms",
                                              "message.timestamp.before.max.ms",
                                              "message.timestamp.difference.max.ms",
                                              "message.timestamp.type",
                                              "min.cleanable.dirty.ratio",
                                              "min.compaction.lag.ms",
                                              "min.insync.replicas",
                                              "preallocate",
                                              "remote.storage.enable",
                                              "retention.bytes",
                                              "retention.ms",
                                              "segment.bytes",
                                              "segment.index.bytes",
                                              "segment.jitter.ms",
                                              "segment.ms",
                                              "unclean.leader.election.enable"};
    std::vector<std::string_view> names;
    for (const auto& def : topic_config_defs()) {
        names.push_back(def.name);
        EXPECT_EQ(find_topic_config(def.name), &def);
        EXPECT_EQ(invalid_topic_config(def.name, def.default_value), std::nullopt)
            << def.name << "'s own default must be valid";
    }
    EXPECT_EQ(names, expected);
    EXPECT_EQ(find_topic_config("log.retention.ms"), nullptr);
    EXPECT_EQ(find_topic_config(""), nullptr);
}

TEST(topic_rules, types_use_describe_configs_codes_and_kafkas_names) {
    struct type_case {
        std::string_view key;
        config_type type;
        std::int8_t code;
        std::string_view name;
    };
    std::vector<type_case> cases = {
        {"preallocate", config_type::boolean, 1, "BOOLEAN"},
        {"compression.type", config_type::string, 2, "STRING"},
        {"segment.bytes", config_type::int32, 3, "INT"},
        {"retention.ms", config_type::int64, 5, "LONG"},
        {"min.cleanable.dirty.ratio", config_type::float64, 6, "DOUBLE"},
        {"cleanup.policy", config_type::list, 7, "LIST"},
    };
    for (const auto& c : cases) {
        const auto* def = find_topic_config(c.key);
        ASSERT_NE(def, nullptr) << c.key;
        EXPECT_EQ(def->type, c.type) << c.key;
        EXPECT_EQ(static_cast<std::int8_t>(def->type), c.code) << c.key;
        EXPECT_EQ(config_type_name(def->type), c.name) << c.key;
    }
}

struct value_case {
    std::string_view key;
    std::string_view value;
    // nullopt: valid. Otherwise the reason after "Invalid value <v> for configuration <k>: ".
    std::optional<std::string_view> reason;
};

const std::string_view compact_or_delete = "String must be one of: compact, delete";
const std::string_view codecs =
    "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer";
const std::string_view not_bool = "Expected value to be either true or false";
const std::string_view throttle_rule =
    "must be the literal '*' or a list of replicas in the following format: "
    "[partitionId]:[brokerId],[partitionId]:[brokerId],...";

std::vector<value_case> value_cases() {
    using o = std::optional<std::string_view>;
    return {
        {"cleanup.policy", "delete", o{}},
        {"cleanup.policy", " compact , delete ", o{}},
        {"cleanup.policy", "", o{}},
        {"cleanup.policy", "remove", compact_or_delete},
        {"cleanup.policy", "delete,,compact", compact_or_delete},
        {"compression.type", "zstd", o{}},
        {"compression.type", "producer", o{}},
        {"compression.type", "uncompressed", o{}},
        {"compression.type", "GZIP", codecs},
        {"compression.type", "brotli", codecs},
        {"compression.gzip.level", "-1", o{}},
        {"compression.gzip.level", "1", o{}},
        {"compression.gzip.level", "9", o{}},
        {"compression.gzip.level", "0", "Value must be between 1 and 9 or equal to -1"},
        {"compression.gzip.level", "10", "Value must be between 1 and 9 or equal to -1"},
        {"compression.lz4.level", "17", o{}},
        {"compression.lz4.level", "0", "Value must be at least 1"},
        {"compression.lz4.level", "18", "Value must be no more than 17"},
        {"compression.zstd.level", "-131072", o{}},
        {"compression.zstd.level", "22", o{}},
        {"compression.zstd.level", "23", "Value must be no more than 22"},
        {"compression.zstd.level", "-131073", "Value must be at least -131072"},
        {"delete.retention.ms", "0", o{}},
        {"delete.retention.ms", "-1", "Value must be at least 0"},
        {"file.delete.delay.ms", "0", o{}},
        {"file.delete.delay.ms", "-1", "Value must be at least 0"},
        {"flush.messages", "1", o{}},
        {"flush.messages", "0", "Value must be at least 1"},
        {"flush.ms", "0", o{}},
        {"flush.ms", "-1", "Value must be at least 0"},
        {"follower.replication.throttled.replicas", "*", o{}},
        {"follower.replication.throttled.replicas", " 0:1 , 1:2 ", o{}},
        {"follower.replication.throttled.replicas", "0-1", throttle_rule},
        {"index.interval.bytes", "0", o{}},
        {"index.interval.bytes", "-1", "Value must be at least 0"},
        {"leader.replication.throttled.replicas", "", o{}},
        {"leader.replication.throttled.replicas", "*,0:1", throttle_rule},
        {"leader.replication.throttled.replicas", "a:b", throttle_rule},
        {"local.retention.bytes", "-2", o{}},
        {"local.retention.bytes", "-3", "Value must be at least -2"},
        {"local.retention.ms", "-2", o{}},
        {"local.retention.ms", "-3", "Value must be at least -2"},
        {"max.compaction.lag.ms", "1", o{}},
        {"max.compaction.lag.ms", "0", "Value must be at least 1"},
        {"max.message.bytes", "0", o{}},
        {"max.message.bytes", "2147483647", o{}},
        {"max.message.bytes", "-1", "Value must be at least 0"},
        {"max.message.bytes", "2147483648", "Not a number of type INT"},
        {"message.downconversion.enable", "false", o{}},
        {"message.downconversion.enable", "no", not_bool},
        {"message.format.version", "2.8", o{}},
        {"message.format.version", "2.8.1", o{}},
        {"message.format.version", "0.10.2-IV0", o{}},
        {"message.format.version", "3.0-IV1", o{}},
        {"message.format.version", "9.9", "Version 9.9 is not a valid version"},
        {"message.format.version", "0.10", "Version 0.10 is not a valid version"},
        {"message.format.version", "2.8-IVx", "Version 2.8-IVx is not a valid version"},
        {"message.timestamp.after.max.ms", "9223372036854775807", o{}},
        {"message.timestamp.after.max.ms", "-1", "Value must be at least 0"},
        {"message.timestamp.before.max.ms", "0", o{}},
        {"message.timestamp.before.max.ms", "9223372036854775808", "Not a number of type LONG"},
        {"message.timestamp.difference.max.ms", "0", o{}},
        {"message.timestamp.difference.max.ms", "-5", "Value must be at least 0"},
        {"message.timestamp.type", "LogAppendTime", o{}},
        {"message.timestamp.type", "createtime",
         "String must be one of: CreateTime, LogAppendTime"},
        {"min.cleanable.dirty.ratio", "0", o{}},
        {"min.cleanable.dirty.ratio", "1", o{}},
        {"min.cleanable.dirty.ratio", "1e-1", o{}},
        {"min.cleanable.dirty.ratio", "1.5", "Value must be no more than 1"},
        {"min.cleanable.dirty.ratio", "-0.1", "Value must be at least 0"},
        {"min.cleanable.dirty.ratio", "nan", "Not a number of type DOUBLE"},
        {"min.compaction.lag.ms", "0", o{}},
        {"min.compaction.lag.ms", "-1", "Value must be at least 0"},
        {"min.insync.replicas", "1", o{}},
        {"min.insync.replicas", "0", "Value must be at least 1"},
        {"min.insync.replicas", "two", "Not a number of type INT"},
        {"preallocate", "TRUE", o{}},
        {"preallocate", "1", not_bool},
        {"remote.storage.enable", "false", o{}},
        {"remote.storage.enable", "", not_bool},
        {"retention.bytes", "-5", o{}},
        {"retention.bytes", "1GB", "Not a number of type LONG"},
        {"retention.ms", "-1", o{}},
        {"retention.ms", " +100 ", o{}},
        {"retention.ms", "-2", "Value must be at least -1"},
        {"segment.bytes", "14", o{}},
        {"segment.bytes", "13", "Value must be at least 14"},
        {"segment.bytes", "", "Not a number of type INT"},
        {"segment.index.bytes", "4", o{}},
        {"segment.index.bytes", "3", "Value must be at least 4"},
        {"segment.jitter.ms", "0", o{}},
        {"segment.jitter.ms", "-1", "Value must be at least 0"},
        {"segment.ms", "1", o{}},
        {"segment.ms", "0", "Value must be at least 1"},
        {"unclean.leader.election.enable", "true", o{}},
        {"unclean.leader.election.enable", "yes", not_bool},
    };
}

TEST(topic_rules, every_key_validates_as_kafka_does) {
    for (const auto& c : value_cases()) {
        SCOPED_TRACE(testing::Message() << c.key << "=" << c.value);
        auto got = invalid_topic_config(c.key, c.value);
        if (!c.reason) {
            EXPECT_EQ(got, std::nullopt);
            continue;
        }
        ASSERT_TRUE(got.has_value());
        // List rules name the offending item, the others the whole value.
        EXPECT_TRUE(got->starts_with("Invalid value ")) << *got;
        EXPECT_NE(got->find(std::string(" for configuration ") + std::string(c.key) + ": "),
                  std::string::npos)
            << *got;
        EXPECT_TRUE(got->ends_with(*c.reason)) << *got;
    }
}

TEST(topic_rules, every_key_has_a_valid_and_an_invalid_case) {
    std::set<std::string_view> valid;
    std::set<std::string_view> invalid;
    for (const auto& c : value_cases()) {
        (c.reason ? invalid : valid).insert(c.key);
    }
    for (const auto& def : topic_config_defs()) {
        EXPECT_TRUE(valid.contains(def.name)) << def.name;
        EXPECT_TRUE(invalid.contains(def.name)) << def.name;
    }
}

TEST(topic_rules, invalid_value_messages_are_exact) {
    EXPECT_EQ(invalid_topic_config("segment.bytes", "13"),
              "Invalid value 13 for configuration segment.bytes: Value must be at least 14");
    EXPECT_EQ(invalid_topic_config("cleanup.policy", "delete,remove"),
              "Invalid value remove for configuration cleanup.policy: String must be one of: "
              "compact, delete");
    EXPECT_EQ(invalid_topic_config("retention.ms", "\x01"),
              "Invalid value \\x01 for configuration retention.ms: Not a number of type LONG");
    EXPECT_EQ(invalid_topic_config("retention.hours", "1"),
              "Unknown topic config name: retention.hours");
}

TEST(topic_rules, config_sets_report_unknown_names_before_bad_values) {
    using configs = std::map<std::string, std::string>;
    EXPECT_EQ(invalid_topic_configs({}), std::nullopt);
    EXPECT_EQ(invalid_topic_configs(configs{{"cleanup.policy", "compact"}, {"retention.ms", "1"}}),
              std::nullopt);
    EXPECT_EQ(invalid_topic_configs(configs{{"cleanup.policy", "x"}, {"zeta", "1"}}),
              "Unknown topic config name: zeta");
    EXPECT_EQ(invalid_topic_configs(configs{{"segment.ms", "0"}, {"segment.bytes", "1"}}),
              "Invalid value 1 for configuration segment.bytes: Value must be at least 14");
}

TEST(topic_rules, config_sets_check_rules_across_keys) {
    using configs = std::map<std::string, std::string>;
    EXPECT_EQ(invalid_topic_configs(
                  configs{{"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "5"}}),
              "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms "
              "(5)");
    EXPECT_EQ(invalid_topic_configs(configs{{"min.compaction.lag.ms", "10"}}), std::nullopt);
    EXPECT_EQ(invalid_topic_configs(configs{{"max.compaction.lag.ms", "5"}}), std::nullopt);
    EXPECT_EQ(invalid_topic_configs(configs{{"remote.storage.enable", "true"}}),
              "Tiered Storage functionality is disabled in the broker. Topic cannot be "
              "configured with remote log storage.");
    EXPECT_EQ(invalid_topic_configs(configs{{"remote.storage.enable", "false"}}), std::nullopt);
}

struct default_case {
    std::string_view key;
    std::map<std::string, std::string> broker;
    std::string expected;
};

TEST(topic_rules, defaults_follow_the_brokers_synonyms_in_priority_order) {
    std::vector<default_case> cases = {
        {"retention.ms", {}, "604800000"},
        {"retention.ms", {{"log.retention.hours", "1"}}, "3600000"},
        {"retention.ms", {{"log.retention.hours", "1"}, {"log.retention.minutes", "2"}}, "120000"},
        {"retention.ms", {{"log.retention.ms", "-1"}, {"log.retention.minutes", "2"}}, "-1"},
        {"retention.ms", {{"log.retention.hours", "soon"}}, "604800000"},
        {"retention.ms", {{"log.retention.hours", "9223372036854775807"}}, "604800000"},
        {"segment.ms", {{"log.roll.hours", "2"}}, "7200000"},
        {"segment.jitter.ms", {{"log.roll.jitter.hours", "1"}}, "3600000"},
        {"flush.ms", {{"log.flush.scheduler.interval.ms", "3000"}}, "3000"},
        {"segment.bytes", {{"log.segment.bytes", "1048576"}}, "1048576"},
        {"segment.bytes", {{"segment.bytes", "1048576"}}, "1073741824"},
        {"min.insync.replicas", {{"min.insync.replicas", "2"}}, "2"},
        {"unclean.leader.election.enable", {{"unclean.leader.election.enable", "true"}}, "true"},
        {"max.message.bytes", {{"message.max.bytes", "2000000"}}, "2000000"},
        {"max.message.bytes", {}, "1048588"},
        {"cleanup.policy", {{"log.cleanup.policy", "compact"}}, "compact"},
        {"compression.type", {{"compression.type", " lz4 "}}, "lz4"},
        {"leader.replication.throttled.replicas",
         {{"leader.replication.throttled.replicas", "*"}},
         ""},
        {"remote.storage.enable", {}, "false"},
    };
    for (const auto& c : cases) {
        const auto* def = find_topic_config(c.key);
        ASSERT_NE(def, nullptr) << c.key;
        EXPECT_EQ(topic_config_default(*def, c.broker), c.expected) << c.key;
    }
}

TEST(topic_rules, broker_keys_name_kafkas_synonyms) {
    EXPECT_EQ(find_topic_config("retention.ms")->broker_key(), "log.retention.ms");
    EXPECT_EQ(find_topic_config("segment.bytes")->broker_key(), "log.segment.bytes");
    EXPECT_EQ(find_topic_config("max.message.bytes")->broker_key(), "message.max.bytes");
    EXPECT_EQ(find_topic_config("min.cleanable.dirty.ratio")->broker_key(),
              "log.cleaner.min.cleanable.ratio");
    EXPECT_EQ(find_topic_config("remote.storage.enable")->broker_key(), "");
}

}  // namespace
}  // namespace gregor::controller
