// Goal: a broker applies every topic config change announced under /config/changes, once,
// for the topics it hosts: version 2 and version 1 notifications, many at a time (in bounded
// rounds), deleted overrides, and changes whose notification was purged while its session
// had expired (everything hosted is re-read on the new session).
// Method: config_change_follower on the in-memory ZooKeeper; an admin session writes the
// znodes as Kafka's tools do; deliveries are drained by hand.
#include "broker/config_changes.h"

#include "coord/fake_client.h"
#include "coord/fake_ensemble.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

struct fixture {
    coord::fake_ensemble ensemble;
    coord::fake_client admin{ensemble};
    coord::fake_client broker{ensemble};
    std::set<std::string> hosted{"t", "u"};
    std::vector<std::pair<std::string, std::map<std::string, std::string>>> applied;
    std::optional<config_change_follower> follower;

    explicit fixture(config_change_limits limits = {}) {
        for (const char* p : {"/config", "/config/changes", "/config/topics"}) {
            admin.create(p, "", coord::create_mode::persistent, [](result<std::string>) {});
        }
        ensemble.run_pending();
        config_change_hooks h;
        h.apply = [this](const std::string& t, std::map<std::string, std::string> o) {
            applied.emplace_back(t, std::move(o));
        };
        h.interested = [this](const std::string& t) { return hosted.contains(t); };
        h.known_topics = [this] { return std::vector<std::string>(hosted.begin(), hosted.end()); };
        follower.emplace(broker, std::move(h), limits);
    }

    void write_config(const std::string& topic, const std::map<std::string, std::string>& c) {
        std::string path = coord::paths::topic_config(topic);
        std::string data = coord::encode_entity_config(c);
        admin.create(path, data, coord::create_mode::persistent, [this, path, data](auto r) {
            if (!r) {
                admin.set(path, data, coord::any_version, [](result<coord::znode_stat>) {});
            }
        });
        ensemble.run_pending();
    }

    void notify(const std::string& json) {
        admin.create(coord::paths::config_change_sequential(), json,
                     coord::create_mode::persistent_sequential, [](result<std::string>) {});
        ensemble.run_pending();
    }

    void change(const std::string& topic, const std::map<std::string, std::string>& c) {
        write_config(topic, c);
        notify(coord::encode_config_change("topics/" + topic));
    }
};

using overrides = std::map<std::string, std::string>;

TEST(config_changes, each_notification_applies_its_topics_overrides_once) {
    fixture f;
    f.follower->start();
    f.ensemble.run_pending();
    EXPECT_TRUE(f.applied.empty());
    EXPECT_EQ(f.follower->last_processed(), -1);

    f.change("t", {{"min.insync.replicas", "3"}});
    ASSERT_EQ(f.applied.size(), 1u);
    EXPECT_EQ(f.applied[0].first, "t");
    EXPECT_EQ(f.applied[0].second, (overrides{{"min.insync.replicas", "3"}}));
    EXPECT_EQ(f.follower->last_processed(), 0);

    f.change("t", {});
    ASSERT_EQ(f.applied.size(), 2u);  // the first notification is not processed again
    EXPECT_TRUE(f.applied[1].second.empty());
    EXPECT_EQ(f.follower->last_processed(), 1);
}

TEST(config_changes, version_1_notifications_and_foreign_topics) {
    fixture f;
    f.follower->start();
    f.ensemble.run_pending();
    f.write_config("u", {{"retention.ms", "1000"}});
    f.notify(R"({"version":1,"entity_type":"topics","entity_name":"u"})");
    ASSERT_EQ(f.applied.size(), 1u);
    EXPECT_EQ(f.applied[0].first, "u");
    f.change("elsewhere", {{"retention.ms", "5"}});  // a topic this broker does not host
    f.notify("not json");
    f.notify(R"({"version":2,"entity_path":"clients/c1"})");
    EXPECT_EQ(f.applied.size(), 1u);
    EXPECT_EQ(f.follower->last_processed(), 3);
}

TEST(config_changes, deleted_overrides_mean_broker_defaults) {
    fixture f;
    f.follower->start();
    f.change("t", {{"retention.ms", "1000"}});
    f.admin.remove(coord::paths::topic_config("t"), coord::any_version, [](result<void>) {});
    f.notify(coord::encode_config_change("topics/t"));
    ASSERT_EQ(f.applied.size(), 2u);
    EXPECT_TRUE(f.applied[1].second.empty());
}

TEST(config_changes, a_backlog_is_worked_off_in_bounded_rounds) {
    fixture f(config_change_limits{2, 1});
    for (int i = 0; i < 7; ++i) {
        f.change(i % 2 == 0 ? "t" : "u", {{"retention.ms", std::to_string(i + 1)}});
    }
    f.follower->start();
    f.ensemble.run_pending();
    EXPECT_EQ(f.follower->last_processed(), 6);
    std::map<std::string, overrides> last;
    for (const auto& [t, o] : f.applied) {
        last[t] = o;
    }
    EXPECT_EQ(last["t"], (overrides{{"retention.ms", "7"}}));
    EXPECT_EQ(last["u"], (overrides{{"retention.ms", "6"}}));
}

TEST(config_changes, after_session_expiry_every_hosted_topic_is_read_again) {
    fixture f;
    f.follower->start();
    f.ensemble.run_pending();
    f.broker.disconnect();
    // Changed while the broker is away, and the notification purged before it returns.
    f.write_config("t", {{"min.insync.replicas", "2"}});
    f.broker.expire_session();
    f.broker.reconnect();
    f.ensemble.run_pending();
    bool saw = false;
    for (const auto& [t, o] : f.applied) {
        saw = saw || (t == "t" && o == overrides{{"min.insync.replicas", "2"}});
    }
    EXPECT_TRUE(saw);
}

TEST(config_changes, nothing_is_applied_after_stop) {
    fixture f;
    f.follower->start();
    f.ensemble.run_pending();
    f.follower->stop();
    f.change("t", {{"retention.ms", "9"}});
    EXPECT_TRUE(f.applied.empty());
}

}  // namespace
}  // namespace gregor::broker
