// Goal: the group coordinator's broker dies (kill -9) while three librdkafka consumers of its
// group consume a live stream and commit synchronously every few records, and nothing a
// client was told is lost: every commit acknowledged before (and after) the kill is read
// back from the new coordinator (committed offsets only grow), the group re-forms there
// (Stable with the same three members) and keeps consuming, and every record the producer
// had acknowledged is consumed at least once. The same holds when the killed broker comes
// back and the coordinator moves back to it (unloaded on one broker, loaded on the other).
// Method: replication_cluster (real ZooKeeper, three brokers), a 6-partition topic with
// replication factor 3 and min.insync.replicas 2, `__consumer_offsets` replicated three
// times; a paced acks=all producer and the members are group_clients.py child processes
// that write down acknowledged records and commits. The coordinator is found with
// FindCoordinator and the offsets read back with OffsetFetch through the tree's codecs.
// `__consumer_offsets` has 16 KiB segments, so the log cleaner compacts it during the run
// and the coordinator that moves back loads the compacted log.
// Every wait is a poll with a deadline; nothing is timed.
#include "integration/group/group_members.h"
#include "support/process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto limit = 120s;
constexpr int partitions = 6;
constexpr int prefilled = 600;
constexpr int streamed = 3000;
constexpr int streamed_per_second = 150;
const std::string topic = "stream";
const std::string group = "failover-group";

std::map<std::string, std::string> failover_settings() {
    return {{"group.initial.rebalance.delay.ms", "0"},
            {"offsets.topic.replication.factor", "3"},
            {"offsets.topic.num.partitions", "6"},
            // Small segments: the offsets partitions roll and the log cleaner compacts them
            // while the group commits, so the coordinator moving back loads a compacted log.
            {"offsets.topic.segment.bytes", "16384"},
            {"auto.create.topics.enable", "false"},
            // Leadership returns to a restarted broker soon: the coordinator moves back.
            {"leader.imbalance.check.interval.seconds", "2"},
            {"leader.imbalance.per.broker.percentage", "0"}};
}

std::set<int> values_in(const fs::path& file) {
    std::set<int> out;
    std::istringstream in(slurp(file));
    for (int v = 0; in >> v;) {
        out.insert(v);
    }
    return out;
}

std::set<int> range_of(int first, int end) {
    std::set<int> out;
    for (int v = first; v < end; ++v) {
        out.insert(v);
    }
    return out;
}

using members = std::vector<std::unique_ptr<member_process>>;

std::vector<const member_process*> views(const members& group_members) {
    std::vector<const member_process*> out;
    for (const auto& m : group_members) {
        out.push_back(m.get());
    }
    return out;
}

// partition -> the highest acknowledged commit of any member.
std::map<int, std::int64_t> acknowledged(const members& group_members) {
    std::map<int, std::int64_t> out;
    for (const auto& m : group_members) {
        for (auto [p, offset] : m->acknowledged_commits()) {
            out[p] = std::max(out.contains(p) ? out[p] : offset, offset);
        }
    }
    return out;
}

// Iff the coordinator at `port` returns, for every partition, at least the acknowledged
// commit: read the acknowledgements first, then the offsets (commits only grow).
::testing::AssertionResult commits_read_back(std::uint16_t port, const members& group_members) {
    auto acked = acknowledged(group_members);
    std::optional<std::map<int, std::int64_t>> fetched;
    if (!eventually(
            [&] {
                fetched = fetch_offsets(port, group, topic, partitions);
                return fetched.has_value();
            },
            limit)) {
        return ::testing::AssertionFailure() << "OffsetFetch never answered on port " << port;
    }
    for (auto [p, offset] : acked) {
        if ((*fetched)[p] < offset) {
            return ::testing::AssertionFailure() << "partition " << p << ": committed "
                                                 << (*fetched)[p] << " < acknowledged " << offset;
        }
    }
    return ::testing::AssertionSuccess() << acked.size() << " partitions";
}

bool stable_with(replication_cluster& c, int coordinator, std::size_t count) {
    auto d = describe_group(c.broker(coordinator).port(), group);
    return d && d->error_code == 0 && d->state == "Stable" && d->members.size() == count;
}

class paced_producer {
public:
    // Records first..first+streamed-1, written down in `name`.acked once acknowledged.
    paced_producer(const replication_cluster& c, const fs::path& dir, const std::string& name,
                   int first)
        : acked_(dir / (name + ".acked")) {
        pid_ = spawn_child(
            {"/usr/bin/python3", GREGOR_GROUP_CLIENTS, "produce-paced", c.bootstrap(), topic,
             std::to_string(first), std::to_string(streamed), std::to_string(partitions),
             std::to_string(streamed_per_second), acked_.string()},
            dir / (name + ".log"), false);
    }
    ~paced_producer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            (void)wait_child(pid_, 10s);
        }
    }
    paced_producer(const paced_producer&) = delete;
    paced_producer& operator=(const paced_producer&) = delete;

    std::set<int> acked() const { return values_in(acked_); }
    // Waits for it to finish; returns its exit code, nullopt if it did not.
    std::optional<int> wait(std::chrono::milliseconds within) {
        auto code = wait_child(pid_, within);
        if (code) {
            pid_ = -1;
        }
        return code;
    }

private:
    fs::path acked_;
    pid_t pid_ = -1;
};

TEST(consumer_group_faults, acknowledged_commits_survive_a_coordinator_kill) {
    replication_cluster c(failover_settings());
    scratch_dir dir;
    ASSERT_EQ(create_topic(c, topic, partitions, {{"min.insync.replicas", "2"}}), "");
    ASSERT_EQ(group_client_line(fmt::format("produce {} {} 0 {} {}", c.bootstrap(), topic,
                                            prefilled, partitions)),
              "ok");
    members group_members;
    for (int i = 0; i < 3; ++i) {
        group_members.push_back(std::make_unique<member_process>(
            dir.path, fmt::format("m{}", i), member_options{c.bootstrap(), topic, group, ""}));
    }
    const std::set<int> all{1, 2, 3};
    int old_coordinator = -1;
    ASSERT_TRUE(eventually(
        [&] {
            old_coordinator = find_coordinator(c, group, all);
            return old_coordinator > 0 && stable_with(c, old_coordinator, 3);
        },
        limit))
        << c.log_lines("group");
    ASSERT_TRUE(
        eventually([&] { return read_all(views(group_members), range_of(0, prefilled)); }, limit));

    // Kill the coordinator once the stream is flowing and commits keep coming.
    paced_producer producer(c, dir.path, "stream1", prefilled);
    ASSERT_TRUE(eventually([&] { return producer.acked().size() >= streamed / 5; }, limit));
    std::size_t commits_before = 0;
    for (const auto& m : group_members) {
        commits_before += m->commit_count();
    }
    ASSERT_EQ(find_coordinator(c, group, all), old_coordinator);
    c.broker(old_coordinator).kill_now();
    std::set<int> live = all;
    live.erase(old_coordinator);

    // (a) The new coordinator has every commit acknowledged so far.
    int new_coordinator = -1;
    ASSERT_TRUE(eventually(
        [&] {
            new_coordinator = find_coordinator(c, group, live);
            return new_coordinator > 0 && new_coordinator != old_coordinator;
        },
        limit))
        << c.log_lines("group");
    EXPECT_TRUE(commits_read_back(c.broker(new_coordinator).port(), group_members));

    // (b) The group re-forms there with all three members, which keep committing.
    EXPECT_TRUE(eventually([&] { return stable_with(c, new_coordinator, 3); }, limit))
        << c.log_lines("group");
    EXPECT_TRUE(eventually(
        [&] {
            std::size_t commits = 0;
            for (const auto& m : group_members) {
                commits += m->commit_count();
            }
            return commits > commits_before + 3 * partitions;
        },
        limit));

    // (c) Every record the producer was told about is consumed.
    auto produced = producer.wait(240s);
    ASSERT_TRUE(produced.has_value());
    EXPECT_EQ(*produced, 0);
    auto acked = producer.acked();
    EXPECT_GE(acked.size(), static_cast<std::size_t>(streamed) * 9 / 10);
    EXPECT_TRUE(eventually([&] { return read_all(views(group_members), acked); }, limit));

    // (d) The killed broker comes back and leadership returns to it (the preferred replica)
    // under a second stream: the coordinator moves back by unload and load, not by a crash.
    c.broker(old_coordinator).restart();
    ASSERT_TRUE(c.wait_registered(old_coordinator, limit));
    paced_producer second(c, dir.path, "stream2", prefilled + streamed);
    ASSERT_TRUE(
        eventually([&] { return find_coordinator(c, group, live) == old_coordinator; }, limit))
        << c.log_lines("group");
    EXPECT_TRUE(commits_read_back(c.broker(old_coordinator).port(), group_members));
    EXPECT_TRUE(eventually([&] { return stable_with(c, old_coordinator, 3); }, limit))
        << c.log_lines("group");
    produced = second.wait(240s);
    ASSERT_TRUE(produced.has_value());
    acked = second.acked();
    EXPECT_GE(acked.size(), static_cast<std::size_t>(streamed) * 9 / 10);
    EXPECT_TRUE(eventually([&] { return read_all(views(group_members), acked); }, limit));

    // (a) again once every member closed: the last acknowledged commits are there too.
    for (auto& m : group_members) {
        EXPECT_TRUE(m->stop());
    }
    EXPECT_TRUE(commits_read_back(c.broker(old_coordinator).port(), group_members));
    EXPECT_TRUE(eventually(
        [&] {
            auto d = describe_group(c.broker(old_coordinator).port(), group);
            return d && d->state == "Empty";
        },
        limit));
    auto cleaned = c.log_lines("__consumer_offsets-");
    EXPECT_NE(cleaned.find(": cleaned up to"), std::string::npos)
        << "the offsets topic was never compacted:\n"
        << cleaned;
}

}  // namespace
}  // namespace gregor::test
