// Goal: IncrementalAlterConfigs and AlterConfigs on the controller write what Kafka writes
// (/config/topics/<t> as {"version":1,"config":{...}} and a /config/changes notification,
// together and fenced), refuse what Kafka refuses without writing anything, honour
// validate_only, and elect offline partitions once unclean election becomes allowed.
// Method: the real controllers of three simulated brokers on the in-memory ZooKeeper
// (sim_cluster); requests go to the active controller; the tree is inspected directly.
#include "controller/tests/await_call.h"
#include "controller/tests/sim_cluster.h"

#include "coord/znode_paths.h"
#include "model/kafka_error.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

namespace gregor::controller::sim {
namespace {

using model::kafka_error;
using model::node_id;
using model::partition_id;
using incremental_request = protocol::incremental_alter_configs_request;
using incremental_response = protocol::incremental_alter_configs_response;

constexpr std::int8_t topic_type = 2;
constexpr std::int8_t broker_type = 4;

struct fixture {
    sim_cluster c{3};
    controller* ctl = nullptr;

    fixture() {
        c.run();
        ctl = c.node(c.active_controllers().at(0)()).ctl.get();
        coord::replica_map a;
        a[partition_id(0)] = {node_id(1), node_id(2), node_id(3)};
        c.create_topic_znode("t", a);
        c.run();
    }

    incremental_response alter(std::int8_t type, const std::string& name,
                               std::vector<incremental_request::alter_configs_resource::alterable_config> configs,
                               bool validate_only = false) {
        incremental_request req;
        req.resources.push_back({type, name, std::move(configs), {}});
        req.validate_only = validate_only;
        const std::string client = "test-client";
        std::function<asio::awaitable<incremental_response>()> call = [&] {
            return ctl->incremental_alter_configs(req, client);
        };
        return await(c, call);
    }

    std::optional<coord::config_map> topic_config() const {
        auto node = c.ensemble.peek(coord::paths::topic_config("t"));
        if (!node) {
            return std::nullopt;
        }
        auto decoded = coord::decode_entity_config(node->data);
        return decoded ? std::optional(*decoded) : std::nullopt;
    }

    // The /config/changes notifications, as their JSON, in sequence order.
    std::vector<std::string> notifications() {
        std::vector<std::string> out;
        for (int i = 0; i < 100; ++i) {
            auto node = c.ensemble.peek(fmt::format("/config/changes/config_change_{:010}", i));
            if (node) {
                out.push_back(node->data);
            }
        }
        return out;
    }
};

std::int16_t code(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

TEST(alter_configs, set_writes_kafkas_json_and_one_change_notification) {
    fixture f;
    auto r = f.alter(topic_type, "t", {{"min.insync.replicas", 0, "2", {}},
                                       {"retention.ms", 0, "60000", {}}});
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(r.responses[0].error_code, 0) << r.responses[0].error_message.value_or("");
    EXPECT_EQ(r.responses[0].resource_name, "t");
    auto node = f.c.ensemble.peek(coord::paths::topic_config("t"));
    ASSERT_TRUE(node);
    EXPECT_EQ(node->data,
              R"({"version":1,"config":{"min.insync.replicas":"2","retention.ms":"60000"}})");
    auto changes = f.notifications();
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0], R"({"version":2,"entity_path":"topics/t"})");
    EXPECT_EQ(f.ctl->context().topics.at("t").config.at("min.insync.replicas"), "2");

    auto removed = f.alter(topic_type, "t", {{"retention.ms", 1, std::nullopt, {}}});
    EXPECT_EQ(removed.responses[0].error_code, 0);
    EXPECT_EQ(*f.topic_config(), (coord::config_map{{"min.insync.replicas", "2"}}));
    EXPECT_EQ(f.notifications().size(), 2u);
}

TEST(alter_configs, refusals_write_nothing) {
    fixture f;
    auto before = f.c.ensemble.peek(coord::paths::topic_config("t"));
    auto unknown_key = f.alter(topic_type, "t", {{"no.such.config", 0, "1", {}}});
    EXPECT_EQ(unknown_key.responses[0].error_code, code(kafka_error::invalid_config));
    EXPECT_EQ(unknown_key.responses[0].error_message, "Unknown topic config name: no.such.config");
    auto bad_value = f.alter(topic_type, "t", {{"min.insync.replicas", 0, "none", {}}});
    EXPECT_EQ(bad_value.responses[0].error_code, code(kafka_error::invalid_config));
    auto unknown_topic = f.alter(topic_type, "missing", {{"retention.ms", 0, "1", {}}});
    EXPECT_EQ(unknown_topic.responses[0].error_code, code(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(unknown_topic.responses[0].error_message, "The topic 'missing' does not exist.");
    auto broker = f.alter(broker_type, "1", {{"log.retention.ms", 0, "1", {}}});
    EXPECT_EQ(broker.responses[0].error_code, code(kafka_error::invalid_request));
    EXPECT_NE(broker.responses[0].error_message->find("dynamic broker configs are not supported"),
              std::string::npos);
    auto validated = f.alter(topic_type, "t", {{"retention.ms", 0, "1000", {}}}, true);
    EXPECT_EQ(validated.responses[0].error_code, 0);
    auto after = f.c.ensemble.peek(coord::paths::topic_config("t"));
    EXPECT_EQ(before.has_value(), after.has_value());
    if (before && after) {
        EXPECT_EQ(before->data, after->data);
    }
    EXPECT_TRUE(f.notifications().empty());
}

TEST(alter_configs, legacy_alter_configs_replaces_the_whole_set) {
    fixture f;
    f.alter(topic_type, "t", {{"min.insync.replicas", 0, "2", {}}, {"retention.ms", 0, "1", {}}});
    protocol::alter_configs_request req;
    req.resources.push_back({topic_type, "t", {{"segment.ms", "3600000", {}}}, {}});
    const std::string client = "legacy-client";
    std::function<asio::awaitable<protocol::alter_configs_response>()> call = [&] {
        return f.ctl->alter_configs(req, client);
    };
    auto r = await(f.c, call);
    EXPECT_EQ(r.responses.at(0).error_code, 0);
    EXPECT_EQ(*f.topic_config(), (coord::config_map{{"segment.ms", "3600000"}}));
}

TEST(alter_configs, a_deposed_controller_writes_nothing) {
    fixture f;
    // Another controller was elected behind this one's back: /controller_epoch moved.
    auto& other = *f.c.node(f.c.active_controllers().at(0)() % 3 + 1).zk;
    other.set("/controller_epoch", "7", coord::any_version, [](result<coord::znode_stat>) {});
    f.c.settle();
    auto r = f.alter(topic_type, "t", {{"retention.ms", 0, "1000", {}}});
    EXPECT_EQ(r.responses[0].error_code, code(kafka_error::not_controller));
    auto cfg = f.topic_config();
    EXPECT_TRUE(!cfg || !cfg->contains("retention.ms"));
    EXPECT_TRUE(f.notifications().empty());
}

TEST(alter_configs, allowing_unclean_election_elects_an_offline_partition_at_once) {
    fixture f;
    node_id self = f.c.active_controllers().at(0);
    node_id a = node_id(self() % 3 + 1);
    node_id b = node_id(a() % 3 + 1);  // self, a and b are the three brokers
    coord::replica_map m;
    m[partition_id(0)] = {a, b};
    f.c.create_topic_znode("u", m);
    f.c.run();
    f.c.kill(b());
    f.c.run();  // ISR [a]
    f.c.kill(a());
    f.c.run();
    f.c.restart(b());
    f.c.run();
    f.ctl = f.c.node(f.c.active_controllers().at(0)()).ctl.get();
    ASSERT_EQ(f.c.zk_state("u", 0)->leader, model::no_node);
    auto r = f.alter(topic_type, "u", {{"unclean.leader.election.enable", 0, "true", {}}});
    EXPECT_EQ(r.responses[0].error_code, 0);
    f.c.run();
    EXPECT_EQ(f.c.zk_state("u", 0)->leader, b);
}

TEST(alter_configs, cleanup_policy_and_compaction_keys_are_written_and_checked_together) {
    fixture f;
    auto r = f.alter(topic_type, "t",
                     {{"cleanup.policy", 0, "compact", {}},
                      {"min.compaction.lag.ms", 0, "10", {}},
                      {"delete.retention.ms", 0, "1000", {}}});
    EXPECT_EQ(r.responses[0].error_code, 0) << r.responses[0].error_message.value_or("");
    EXPECT_EQ(f.topic_config()->at("cleanup.policy"), "compact");
    auto both = f.alter(topic_type, "t", {{"cleanup.policy", 2, "delete", {}}});  // APPEND
    EXPECT_EQ(both.responses[0].error_code, 0);
    EXPECT_EQ(f.topic_config()->at("cleanup.policy"), "compact,delete");
    auto bad_policy = f.alter(topic_type, "t", {{"cleanup.policy", 0, "compress", {}}});
    EXPECT_EQ(bad_policy.responses[0].error_code, code(kafka_error::invalid_config));
    // min.compaction.lag.ms=10 is already set: a smaller max conflicts with the stored key.
    auto before = f.c.ensemble.peek(coord::paths::topic_config("t"))->data;
    auto notified = f.notifications().size();
    auto conflict = f.alter(topic_type, "t", {{"max.compaction.lag.ms", 0, "5", {}}});
    EXPECT_EQ(conflict.responses[0].error_code, code(kafka_error::invalid_config));
    EXPECT_EQ(conflict.responses[0].error_message,
              "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms "
              "(5)");
    EXPECT_EQ(f.c.ensemble.peek(coord::paths::topic_config("t"))->data, before);
    EXPECT_EQ(f.notifications().size(), notified);
}

TEST(alter_configs, create_topics_refuses_a_min_compaction_lag_above_the_max) {
    fixture f;
    protocol::create_topics_request req;
    protocol::create_topics_request::creatable_topic t;
    t.name = "compacted";
    t.num_partitions = 1;
    t.replication_factor = 1;
    t.configs = {{"cleanup.policy", "compact", {}},
                 {"min.compaction.lag.ms", "60000", {}},
                 {"max.compaction.lag.ms", "1000", {}}};
    req.topics.push_back(t);
    std::function<asio::awaitable<protocol::create_topics_response>()> call = [&] {
        return f.ctl->create_topics(req, 7);
    };
    auto refused = await(f.c, call);
    ASSERT_EQ(refused.topics.size(), 1u);
    EXPECT_EQ(refused.topics[0].error_code, code(kafka_error::invalid_config));
    EXPECT_EQ(refused.topics[0].error_message,
              "conflict topic config setting min.compaction.lag.ms (60000) > "
              "max.compaction.lag.ms (1000)");
    EXPECT_FALSE(f.c.ensemble.peek("/brokers/topics/compacted").has_value());
    req.topics[0].configs.pop_back();
    auto created = await(f.c, call);
    EXPECT_EQ(created.topics.at(0).error_code, 0) << created.topics[0].error_message.value_or("");
}

}  // namespace
}  // namespace gregor::controller::sim
