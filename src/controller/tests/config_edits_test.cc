// Goal: IncrementalAlterConfigs and AlterConfigs change a topic's overrides exactly as Kafka
// does: SET/DELETE per key, APPEND/SUBTRACT only on list keys, malformed requests refused
// with INVALID_REQUEST and bad names or values with INVALID_CONFIG (Kafka's messages), and
// nothing invalid ever comes out.
// Method: the pure functions on hand-built overrides and edits.
#include "controller/config_edits.h"

#include <gtest/gtest.h>

namespace gregor::controller {
namespace {

using model::kafka_error;

constexpr std::int8_t set_op = 0;
constexpr std::int8_t delete_op = 1;
constexpr std::int8_t append_op = 2;
constexpr std::int8_t subtract_op = 3;

TEST(config_edits, set_and_delete_edit_only_the_named_keys) {
    config_overrides current{{"min.insync.replicas", "2"}, {"retention.ms", "1000"}};
    auto r = apply_config_edits(current, {{"min.insync.replicas", set_op, "3"},
                                          {"retention.ms", delete_op, std::nullopt},
                                          {"segment.bytes", set_op, "1048576"}});
    ASSERT_TRUE(r) << r.err().message;
    config_overrides want{{"min.insync.replicas", "3"}, {"segment.bytes", "1048576"}};
    EXPECT_EQ(r.value(), want);
}

TEST(config_edits, deleting_a_key_that_is_not_set_is_fine) {
    auto r = apply_config_edits({}, {{"retention.ms", delete_op, std::nullopt}});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r.value().empty());
}

TEST(config_edits, unknown_keys_and_bad_values_are_invalid_config_with_kafkas_message) {
    auto unknown = apply_config_edits({}, {{"no.such.key", set_op, "1"}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.err().code, kafka_error::invalid_config);
    EXPECT_EQ(unknown.err().message, "Unknown topic config name: no.such.key");

    auto bad = apply_config_edits({}, {{"min.insync.replicas", set_op, "0"}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.err().code, kafka_error::invalid_config);
    EXPECT_NE(bad.err().message.find("Invalid value 0 for configuration min.insync.replicas"),
              std::string::npos)
        << bad.err().message;
}

TEST(config_edits, malformed_requests_are_invalid_request) {
    struct case_t {
        std::vector<config_edit> edits;
        std::string message;
    };
    std::vector<case_t> cases = {
        {{{"retention.ms", set_op, "1"}, {"retention.ms", delete_op, std::nullopt}},
         "Error due to duplicate config keys"},
        {{{"retention.ms", 7, "1"}}, "Unknown operation type 7 for config key: retention.ms"},
        {{{"retention.ms", set_op, std::nullopt}}, "Null value not supported for : retention.ms"},
        {{{"retention.ms", append_op, "5"}},
         "Config value append is not allowed for config key: retention.ms"},
        {{{"retention.ms", subtract_op, "5"}},
         "Config value subtract is not allowed for config key: retention.ms"},
    };
    for (const auto& c : cases) {
        auto r = apply_config_edits({}, c.edits);
        ASSERT_FALSE(r) << c.message;
        EXPECT_EQ(r.err().code, kafka_error::invalid_request) << c.message;
        EXPECT_EQ(r.err().message, c.message);
    }
}

TEST(config_edits, append_and_subtract_work_on_list_keys_from_kafkas_default) {
    auto appended = apply_config_edits({}, {{"cleanup.policy", append_op, "compact"}});
    ASSERT_TRUE(appended) << appended.err().message;
    EXPECT_EQ(appended.value().at("cleanup.policy"), "delete,compact");

    auto again = apply_config_edits(appended.value(), {{"cleanup.policy", append_op, "compact"}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again.value().at("cleanup.policy"), "delete,compact");  // no duplicates

    auto subtracted =
        apply_config_edits(appended.value(), {{"cleanup.policy", subtract_op, "delete"}});
    ASSERT_TRUE(subtracted);
    EXPECT_EQ(subtracted.value().at("cleanup.policy"), "compact");

    auto bad = apply_config_edits({}, {{"cleanup.policy", append_op, "shred"}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.err().code, kafka_error::invalid_config);

    auto unknown = apply_config_edits({}, {{"no.such.list", append_op, "x"}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.err().code, kafka_error::invalid_config);
}

TEST(config_edits, replace_configs_is_the_whole_new_set) {
    auto r = replace_configs({{"retention.ms", "5000"}, {"min.insync.replicas", "2"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().size(), 2u);
    auto empty = replace_configs({});
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty.value().empty());

    auto null_value = replace_configs({{"retention.ms", std::nullopt}});
    ASSERT_FALSE(null_value);
    EXPECT_EQ(null_value.err().code, kafka_error::invalid_request);
    auto duplicate = replace_configs({{"retention.ms", "1"}, {"retention.ms", "2"}});
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.err().code, kafka_error::invalid_request);
    auto invalid = replace_configs({{"retention.ms", "soon"}});
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.err().code, kafka_error::invalid_config);
}

TEST(config_edits, changed_keys_name_sets_and_removals) {
    config_overrides before{{"a", "1"}, {"b", "2"}, {"c", "3"}};
    config_overrides after{{"a", "1"}, {"b", "5"}, {"d", "4"}};
    std::vector<std::string> want{"-c", "b", "d"};
    EXPECT_EQ(changed_config_keys(before, after), want);
    EXPECT_EQ(format_overrides(after), "a=1,b=5,d=4");
}

}  // namespace
}  // namespace gregor::controller
