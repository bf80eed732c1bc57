// Goal: DescribeConfigs reports each topic config's value and source the way Kafka does
// (DYNAMIC_TOPIC_CONFIG for an override, STATIC_BROKER_CONFIG when server.properties sets a
// synonym, DEFAULT_CONFIG otherwise), with the synonym chain in priority order, and this
// broker's settings with secrets hidden.
// Method: the pure functions on hand-built overrides and broker properties.
#include "broker/config_entries.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

const config_entry& find(const std::vector<config_entry>& entries, const std::string& name) {
    for (const auto& e : entries) {
        if (e.name == name) {
            return e;
        }
    }
    ADD_FAILURE() << "no entry " << name;
    static const config_entry none;
    return none;
}

TEST(config_entries, every_topic_key_is_reported_with_its_source) {
    property_map overrides{{"min.insync.replicas", "3"}};
    property_map broker{{"log.retention.hours", "24"}};
    auto entries = topic_config_entries(overrides, broker, std::nullopt);
    EXPECT_GE(entries.size(), 30u);

    const auto& mir = find(entries, "min.insync.replicas");
    EXPECT_EQ(mir.value, "3");
    EXPECT_EQ(mir.source, config_source::dynamic_topic);
    EXPECT_EQ(mir.type, 3);  // INT
    ASSERT_GE(mir.synonyms.size(), 2u);
    EXPECT_EQ(mir.synonyms[0].source, config_source::dynamic_topic);
    EXPECT_EQ(mir.synonyms.back().name, "min.insync.replicas");
    EXPECT_EQ(mir.synonyms.back().source, config_source::default_config);

    const auto& retention = find(entries, "retention.ms");
    EXPECT_EQ(retention.value, std::to_string(24LL * 3600 * 1000));
    EXPECT_EQ(retention.source, config_source::static_broker);
    ASSERT_EQ(retention.synonyms.size(), 2u);
    EXPECT_EQ(retention.synonyms[0].name, "log.retention.hours");
    EXPECT_EQ(retention.synonyms[0].value, "24");
    EXPECT_EQ(retention.synonyms[1].name, "log.retention.hours");
    EXPECT_EQ(retention.synonyms[1].value, "168");
    EXPECT_EQ(retention.synonyms[1].source, config_source::default_config);

    const auto& segment = find(entries, "segment.bytes");
    EXPECT_EQ(segment.value, "1073741824");
    EXPECT_EQ(segment.source, config_source::default_config);
    EXPECT_FALSE(segment.sensitive);
}

TEST(config_entries, cleanup_policy_and_the_cleaner_defaults_come_from_the_log_cleaner_keys) {
    property_map broker{{"log.cleanup.policy", "compact"},
                        {"log.cleaner.min.cleanable.ratio", "0.2"},
                        {"log.cleaner.delete.retention.ms", "1000"}};
    auto defaults = topic_config_entries({}, broker, std::nullopt);
    const auto& policy = find(defaults, "cleanup.policy");
    EXPECT_EQ(policy.value, "compact");
    EXPECT_EQ(policy.source, config_source::static_broker);
    ASSERT_FALSE(policy.synonyms.empty());
    EXPECT_EQ(policy.synonyms[0].name, "log.cleanup.policy");
    EXPECT_EQ(find(defaults, "min.cleanable.dirty.ratio").value, "0.2");
    EXPECT_EQ(find(defaults, "delete.retention.ms").source, config_source::static_broker);
    EXPECT_EQ(find(defaults, "min.compaction.lag.ms").source, config_source::default_config);

    auto overridden =
        topic_config_entries({{"cleanup.policy", "compact,delete"}}, broker, std::nullopt);
    EXPECT_EQ(find(overridden, "cleanup.policy").value, "compact,delete");
    EXPECT_EQ(find(overridden, "cleanup.policy").source, config_source::dynamic_topic);
}

TEST(config_entries, only_the_keys_asked_for) {
    key_filter keys = std::vector<std::string>{"retention.ms", "no.such.key"};
    auto entries = topic_config_entries({}, {}, keys);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].name, "retention.ms");
    EXPECT_EQ(entries[0].value, "604800000");
}

TEST(config_entries, broker_settings_are_static_and_secrets_have_no_value) {
    property_map broker{{"broker.id", "2"}, {"ssl.keystore.password", "hunter2"}};
    auto entries = broker_config_entries(broker, std::nullopt);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(find(entries, "broker.id").value, "2");
    EXPECT_EQ(find(entries, "broker.id").source, config_source::static_broker);
    const auto& secret = find(entries, "ssl.keystore.password");
    EXPECT_TRUE(secret.sensitive);
    EXPECT_EQ(secret.value, std::nullopt);
    for (const auto& s : secret.synonyms) {
        EXPECT_EQ(s.value, std::nullopt);
    }
}

}  // namespace
}  // namespace gregor::broker
