// The decision journal: bounded, oldest first, filtered by topic, partition and time, and
// rendered as the JSON /api/journal serves.
#include "controller/journal.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace gregor::controller {
namespace {

journal_query query(std::optional<std::string> topic, std::optional<std::int32_t> partition = {},
                    std::optional<std::int64_t> since = {}, std::size_t limit = 1000) {
    journal_query q;
    q.topic = std::move(topic);
    if (partition) {
        q.partition = model::partition_id(*partition);
    }
    if (since) {
        q.since = model::timestamp_ms(*since);
    }
    q.limit = limit;
    return q;
}

decision at(std::int64_t t, const std::string& topic, std::int32_t p, std::string why) {
    decision d;
    d.time = model::timestamp_ms(t);
    d.topic = topic;
    d.partition = model::partition_id(p);
    d.old_leader = model::node_id(1);
    d.new_leader = model::node_id(2);
    d.old_isr = {model::node_id(1), model::node_id(2)};
    d.new_isr = {model::node_id(2)};
    d.reason = std::move(why);
    return d;
}

TEST(decision_journal, keeps_the_newest_up_to_its_capacity_in_order) {
    decision_journal j(3);
    for (int i = 0; i < 5; ++i) {
        j.add(at(100 + i, "t", i, "r" + std::to_string(i)));
    }
    EXPECT_EQ(j.size(), 3U);
    EXPECT_EQ(j.total(), 5U);
    auto all = j.find({});
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(all[0].reason, "r2");
    EXPECT_EQ(all[0].seq, 3U);
    EXPECT_EQ(all[2].reason, "r4");
}

TEST(decision_journal, counts_unclean_elections_even_after_they_are_dropped) {
    decision_journal j(2);
    for (int i = 0; i < 5; ++i) {
        auto d = at(100 + i, "t", 0, "r");
        d.unclean = i % 2 == 0;
        j.add(d);
    }
    EXPECT_EQ(j.unclean_total(), 3U);
    EXPECT_EQ(j.size(), 2U);
}

TEST(decision_journal, filters_by_topic_partition_time_and_limit) {
    decision_journal j;
    j.add(at(10, "a", 0, "one"));
    j.add(at(20, "b", 0, "two"));
    j.add(at(30, "a", 1, "three"));
    j.add(at(40, "a", 0, "four"));
    auto a = j.find(query("a"));
    ASSERT_EQ(a.size(), 3U);
    EXPECT_EQ(a.front().reason, "one");
    auto a0 = j.find(query("a", 0));
    ASSERT_EQ(a0.size(), 2U);
    EXPECT_EQ(a0.back().reason, "four");
    auto recent = j.find(query({}, {}, 20));
    ASSERT_EQ(recent.size(), 3U);
    EXPECT_EQ(recent.front().reason, "two");
    auto newest = j.find(query({}, {}, {}, 1));
    ASSERT_EQ(newest.size(), 1U);
    EXPECT_EQ(newest[0].reason, "four");
}

TEST(decision_journal, json_names_every_field) {
    decision_journal j;
    auto d = at(1234, "orders", 7, "broker 1 failed");
    d.unclean = true;
    d.leader_epoch = model::leader_epoch(5);
    d.controller_epoch = model::controller_epoch(3);
    j.add(d);
    auto doc = nlohmann::json::parse(to_json(j.find({}), j));
    ASSERT_EQ(doc["decisions"].size(), 1U);
    const auto& e = doc["decisions"][0];
    EXPECT_EQ(e["topic"], "orders");
    EXPECT_EQ(e["partition"], 7);
    EXPECT_EQ(e["old_leader"], 1);
    EXPECT_EQ(e["new_leader"], 2);
    EXPECT_EQ(e["old_isr"], nlohmann::json::array({1, 2}));
    EXPECT_EQ(e["new_isr"], nlohmann::json::array({2}));
    EXPECT_EQ(e["leader_epoch"], 5);
    EXPECT_EQ(e["controller_epoch"], 3);
    EXPECT_EQ(e["time_ms"], 1234);
    EXPECT_EQ(e["unclean"], true);
    EXPECT_EQ(e["reason"], "broker 1 failed");
    EXPECT_EQ(doc["total"], 1);
    EXPECT_EQ(doc["kept"], 1);
}

}  // namespace
}  // namespace gregor::controller
