// Goal: static membership (KIP-345) works with librdkafka as Kafka does: a static member
// that goes away without leaving (close(), or kill -9) and comes back with the same
// group.instance.id within its session timeout gets its old partitions back without a
// rebalance (the other members see no revocation or assignment, keep their member ids, and
// only the returning member's id changes); a second process started with an instance id in
// use takes it over and fences the first (FENCED_INSTANCE_ID is fatal for it), again
// without a rebalance for the others; and after the coordinator's broker is killed, the new
// coordinator knows the static members (same member ids, no rebalance, a static restart
// there is none either).
// Method: replication_cluster (real ZooKeeper, three brokers) and three confluent_kafka
// members with instance ids s0..s2 and a 10 s session timeout (group_clients.py `member`,
// JoinGroup v5), which write down their records and rebalance callbacks; DescribeGroups v4
// through the tree's codecs shows member and instance ids. Every wait is a poll with a
// deadline; the restarts happen well within the session timeout.
#include "integration/group/group_members.h"
#include "support/process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto limit = 120s;
constexpr int partitions = 6;
constexpr int batch = 300;
constexpr int session_timeout_ms = 10000;
const std::string topic = "static";
const std::string group = "static-group";
const std::set<int> all_brokers{1, 2, 3};

std::map<std::string, std::string> static_settings() {
    return {{"group.initial.rebalance.delay.ms", "3000"},
            {"offsets.topic.replication.factor", "3"},
            {"offsets.topic.num.partitions", "6"},
            {"auto.create.topics.enable", "false"}};
}

// The three current members by instance id, and everything the test keeps across steps.
struct static_group {
    replication_cluster& cluster;
    const fs::path& dir;
    std::map<std::string, std::unique_ptr<member_process>> members;
    int restarts = 0;
    int produced = 0;
    std::set<int> live = all_brokers;  // the brokers to ask for the coordinator

    std::unique_ptr<member_process> start(const std::string& instance) {
        return std::make_unique<member_process>(
            dir, fmt::format("{}-{}", instance, restarts++),
            member_options{cluster.bootstrap(), topic, group, instance, session_timeout_ms});
    }
    std::optional<group_description> describe() {
        int coordinator = find_coordinator(cluster, group, live);
        return coordinator > 0 ? describe_group(cluster.broker(coordinator).port(), group)
                               : std::nullopt;
    }
    // Stable, with the three instance ids, and assignments that split the topic.
    bool settled() {
        auto d = describe();
        if (!d || d->state != "Stable" || d->member_ids_by_instance().size() != 3 ||
            d->member_ids_by_instance().contains("")) {
            return false;
        }
        std::set<int> covered;
        std::size_t total = 0;
        for (const auto& [instance, m] : members) {
            auto a = m->assignment();
            total += a.size();
            covered.insert(a.begin(), a.end());
        }
        return total == partitions && covered.size() == partitions;
    }
    std::string produce_batch() {
        std::string r = group_client_line(fmt::format("produce {} {} {} {} {}", cluster.bootstrap(),
                                                      topic, produced, batch, partitions));
        produced += batch;
        return r;
    }
    // Iff the current members read everything of the last batch.
    bool read_last_batch() const {
        std::vector<const member_process*> views;
        std::set<int> values;
        for (const auto& [instance, m] : members) {
            views.push_back(m.get());
        }
        for (int v = produced - batch; v < produced; ++v) {
            values.insert(v);
        }
        return read_all(views, values);
    }
};

// What a returning or fencing member must not disturb: the others' callbacks and ids.
struct snapshot {
    std::map<std::string, std::vector<std::string>> rebalances;
    std::map<std::string, std::string> member_ids;
    std::map<std::string, std::set<int>> assignments;
};

snapshot take_snapshot(static_group& g) {
    snapshot s;
    for (const auto& [instance, m] : g.members) {
        s.rebalances[instance] = m->rebalance_events();
        s.assignments[instance] = m->assignment();
    }
    auto d = g.describe();
    if (d) {
        s.member_ids = d->member_ids_by_instance();
    }
    return s;
}

// `instance` came back (or took over) in place: same partitions, a new member id, and the
// other members saw no rebalance and kept their ids.
void expect_no_rebalance(static_group& g, const snapshot& before, const std::string& instance) {
    ASSERT_TRUE(eventually(
        [&] { return g.members.at(instance)->assignment() == before.assignments.at(instance); },
        limit))
        << "instance " << instance << " never got its partitions back";
    ASSERT_TRUE(eventually([&] { return g.settled(); }, limit));
    // Records flow through every member first, so a rebalance would have shown by then.
    ASSERT_EQ(g.produce_batch(), "ok");
    EXPECT_TRUE(eventually([&] { return g.read_last_batch(); }, limit));
    auto d = g.describe();
    ASSERT_TRUE(d);
    auto ids = d->member_ids_by_instance();
    for (const auto& [other, m] : g.members) {
        if (other == instance) {
            EXPECT_NE(ids[other], before.member_ids.at(other)) << other;
            EXPECT_EQ(m->rebalance_events().size(), 1u) << other;  // its one assignment
            continue;
        }
        EXPECT_EQ(ids[other], before.member_ids.at(other)) << other;
        EXPECT_EQ(m->rebalance_events(), before.rebalances.at(other)) << other;
    }
}

TEST(consumer_group_faults, static_members_rejoin_without_a_rebalance_and_fence_duplicates) {
    replication_cluster c(static_settings());
    scratch_dir dir;
    ASSERT_EQ(create_topic(c, topic, partitions), "");
    static_group g{c, dir.path, {}};
    ASSERT_EQ(g.produce_batch(), "ok");
    for (const char* instance : {"s0", "s1", "s2"}) {
        g.members[instance] = g.start(instance);
    }
    ASSERT_TRUE(eventually([&] { return g.settled(); }, limit)) << c.log_lines("group");
    ASSERT_TRUE(eventually([&] { return g.read_last_batch(); }, limit));

    // s1 closes (a static member sends no LeaveGroup) and comes back.
    auto before = take_snapshot(g);
    ASSERT_TRUE(g.members["s1"]->stop());
    auto d = g.describe();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->state, "Stable");
    EXPECT_EQ(d->member_ids_by_instance(), before.member_ids) << "s1 left the group";
    g.members["s1"] = g.start("s1");
    expect_no_rebalance(g, before, "s1");
    if (HasFatalFailure()) {
        return;
    }

    // s2 is killed with kill -9 and comes back.
    before = take_snapshot(g);
    g.members["s2"]->kill_now();
    g.members["s2"] = g.start("s2");
    expect_no_rebalance(g, before, "s2");
    if (HasFatalFailure()) {
        return;
    }

    // A second s0 while the first runs: it takes s0 over, the first is fenced.
    before = take_snapshot(g);
    auto first = std::move(g.members["s0"]);
    g.members["s0"] = g.start("s0");
    EXPECT_TRUE(eventually([&] { return first->fatal_error_contains("fenced"); }, limit))
        << fmt::format("{}", fmt::join(first->events(), "\n")) << c.log_lines("group");
    EXPECT_TRUE(eventually([&] { return first->exited(); }, limit));
    expect_no_rebalance(g, before, "s0");
    if (HasFatalFailure()) {
        return;
    }

    // The coordinator dies: the new one loads the static members from the group record,
    // keeps every member id, and a static restart there is again no rebalance.
    before = take_snapshot(g);
    int old_coordinator = find_coordinator(c, group, all_brokers);
    ASSERT_GT(old_coordinator, 0);
    c.broker(old_coordinator).kill_now();
    std::set<int> live = all_brokers;
    live.erase(old_coordinator);
    g.live = live;
    ASSERT_TRUE(eventually(
        [&] {
            int now = find_coordinator(c, group, live);
            return now > 0 && now != old_coordinator && g.settled();
        },
        limit))
        << c.log_lines("group");
    ASSERT_EQ(g.produce_batch(), "ok");
    EXPECT_TRUE(eventually([&] { return g.read_last_batch(); }, limit));
    auto loaded = g.describe();
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->member_ids_by_instance(), before.member_ids);
    for (const auto& [instance, m] : g.members) {
        EXPECT_EQ(m->rebalance_events(), before.rebalances.at(instance)) << instance;
        EXPECT_FALSE(m->fatal_error_contains("")) << instance;
    }
    before = take_snapshot(g);
    g.members["s1"]->kill_now();
    g.members["s1"] = g.start("s1");
    expect_no_rebalance(g, before, "s1");
    for (auto& [instance, m] : g.members) {
        EXPECT_TRUE(m->stop()) << instance;
    }
}

}  // namespace
}  // namespace gregor::test
