// Goal: consumer groups work with real clients against a 3-broker cluster, as users of Kafka
// expect: three librdkafka consumers in one group share a 12-partition topic (disjoint
// assignments covering it) and read every record; when one is killed with kill -9, the others
// take over its partitions after the session timeout from its committed offsets, and no
// record is skipped; a group stopped and restarted resumes from its committed offsets;
// kafka-python and kcat group consumers consume too; kafka-python's and confluent_kafka's
// admin clients list, describe and delete groups, and OffsetDelete removes one partition's
// offset.
// Method: a real ZooKeeper and three `gregor broker` processes (replication_cluster) with a
// zero initial rebalance delay and `__consumer_offsets` replicated three times; the clients
// are Python scripts (group_clients.py) and kcat, run as child processes or commands; every
// wait is a poll with a deadline, and the assertions are on records, assignments and
// committed offsets, never on timings.
#include "integration/replication/replication_cluster.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/offset_delete.h"
#include "support/process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto limit = 120s;
constexpr int partitions = 12;
constexpr const char* python = "/usr/bin/python3";

std::map<std::string, std::string> group_settings() {
    return {{"group.initial.rebalance.delay.ms", "0"},
            {"offsets.topic.replication.factor", "3"},
            {"offsets.topic.num.partitions", "6"},
            {"auto.create.topics.enable", "false"}};
}

// The "RESULT " lines of a group_clients.py command, without the prefix.
std::vector<std::string> client(const std::string& args) {
    auto r = run_command(fmt::format("{} {} {} 2>/dev/null", python, GREGOR_GROUP_CLIENTS, args));
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("RESULT ")) {
            out.push_back(line.substr(7));
        }
    }
    return out;
}

std::string client_line(const std::string& args) {
    auto lines = client(args);
    return lines.empty() ? "(no answer)" : lines.back();
}

struct scratch_dir {
    fs::path path;
    scratch_dir() {
        std::string tmpl = (fs::temp_directory_path() / "gregor-groups-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// One record a consumer wrote to its file: "<partition> <offset> r<n>".
struct consumed {
    int partition = -1;
    std::int64_t offset = -1;
    int value = -1;
};

std::vector<consumed> read_records(const fs::path& file) {
    std::vector<consumed> out;
    std::istringstream in(slurp(file));
    for (std::string line; std::getline(in, line);) {
        consumed c;
        char r = 0;
        std::istringstream fields(line);
        if (fields >> c.partition >> c.offset >> r >> c.value && r == 'r') {
            out.push_back(c);
        }
    }
    return out;
}

// A confluent_kafka group consumer (group_clients.py consume) as a child process.
class consumer_process {
public:
    consumer_process(const fs::path& dir, const std::string& name, const std::string& bootstrap,
                     const std::string& topic, const std::string& group)
        : out_(dir / (name + ".records")), stop_(dir / (name + ".stop")) {
        pid_ = spawn_child({python, GREGOR_GROUP_CLIENTS, "consume", bootstrap, topic, group,
                            out_.string(), stop_.string(), "600"},
                           dir / (name + ".log"), false);
    }
    ~consumer_process() {
        if (pid_ > 0) {
            kill_now();
        }
    }
    consumer_process(const consumer_process&) = delete;
    consumer_process& operator=(const consumer_process&) = delete;

    // Its current assignment; empty while it has none.
    std::set<int> assignment() const {
        std::set<int> out;
        std::istringstream in(slurp(fs::path(out_.string() + ".assign")));
        for (int p = 0; in >> p;) {
            out.insert(p);
        }
        return out;
    }
    std::vector<consumed> records() const { return read_records(out_); }
    void kill_now() {
        ::kill(pid_, SIGKILL);
        (void)wait_child(pid_, 30s);
        pid_ = -1;
    }
    // Asks it to leave the group and waits for it; returns whether it exited cleanly.
    bool stop() {
        std::ofstream(stop_) << "stop\n";
        auto code = wait_child(pid_, 60s);
        if (!code) {
            kill_now();
            return false;
        }
        pid_ = -1;
        return *code == 0;
    }

private:
    fs::path out_;
    fs::path stop_;
    pid_t pid_ = -1;
};

using consumers = std::vector<std::unique_ptr<consumer_process>>;

// Every live consumer has partitions, no two share one, and together they have all.
bool assignments_cover_topic(const consumers& group) {
    std::set<int> all;
    std::size_t total = 0;
    for (const auto& c : group) {
        auto a = c->assignment();
        if (a.empty()) {
            return false;
        }
        total += a.size();
        all.insert(a.begin(), a.end());
    }
    return total == partitions && all.size() == partitions;
}

// Iff every value in [first, end) was read by one of `group` (from `from_line` on).
bool read_all(const consumers& group, int first, int end, std::size_t from_line = 0) {
    std::set<int> seen;
    for (const auto& c : group) {
        auto records = c->records();
        for (std::size_t i = std::min(from_line, records.size()); i < records.size(); ++i) {
            seen.insert(records[i].value);
        }
    }
    for (int v = first; v < end; ++v) {
        if (!seen.contains(v)) {
            return false;
        }
    }
    return true;
}

std::string produce(const replication_cluster& c, const std::string& topic, int first, int count,
                    int topic_partitions = partitions) {
    return client_line(fmt::format("produce {} {} {} {} {}", c.bootstrap(), topic, first, count,
                                   topic_partitions));
}

std::string create_topic(const replication_cluster& c, const std::string& topic, int count) {
    auto r = run_command(fmt::format("{} topics create {} -p {} -r 3 -b {} 2>&1", GREGOR_BINARY,
                                     topic, count, c.bootstrap()));
    return r.status == 0 ? "" : r.out;
}

std::string offsets_of(const replication_cluster& c, const std::string& group) {
    return client_line(fmt::format("kafka-python-admin {} offsets {}", c.bootstrap(), group));
}

std::string describe(const replication_cluster& c, const std::string& group) {
    return client_line(fmt::format("kafka-python-admin {} describe {}", c.bootstrap(), group));
}

// (a) Three consumers of one group share the topic and read every record.
void three_consumers_share_the_topic(replication_cluster& c, consumers& group,
                                     const fs::path& dir) {
    ASSERT_EQ(produce(c, "orders", 0, 1200), "ok");
    for (int i = 0; i < 3; ++i) {
        group.push_back(std::make_unique<consumer_process>(dir, fmt::format("c{}", i),
                                                           c.bootstrap(), "orders", "cg"));
    }
    ASSERT_TRUE(eventually([&] { return assignments_cover_topic(group); }, limit))
        << c.log_lines("group");
    ASSERT_TRUE(eventually([&] { return read_all(group, 0, 1200); }, limit));
    // Every record read was committed (each consumer commits what it wrote down).
    EXPECT_TRUE(eventually([&] { return offsets_of(c, "cg") == "12 1200"; }, limit))
        << offsets_of(c, "cg");
    EXPECT_TRUE(eventually(
        [&] { return describe(c, "cg") == "Stable consumer 3 /127.0.0.1 /127.0.0.1 /127.0.0.1"; },
        limit))
        << describe(c, "cg");
}

// (b) One consumer killed: the others take its partitions over from its committed offsets.
void a_killed_consumer_is_replaced(replication_cluster& c, consumers& group) {
    std::set<int> orphaned = group[0]->assignment();
    ASSERT_FALSE(orphaned.empty());
    group[0]->kill_now();
    std::vector<std::size_t> seen_before;
    for (const auto& s : group) {
        seen_before.push_back(s->records().size());
    }
    ASSERT_EQ(produce(c, "orders", 1200, 1200), "ok");
    consumers survivors;
    survivors.push_back(std::move(group[1]));
    survivors.push_back(std::move(group[2]));
    ASSERT_TRUE(eventually([&] { return assignments_cover_topic(survivors); }, limit))
        << c.log_lines("group");
    ASSERT_TRUE(eventually([&] { return read_all(survivors, 1200, 2400); }, limit));
    // The orphaned partitions continue at the killed consumer's committed offset (100 records
    // each), not from the start.
    std::map<int, std::int64_t> first_after_kill;
    for (std::size_t i = 0; i < survivors.size(); ++i) {
        auto records = survivors[i]->records();
        for (std::size_t k = seen_before[i + 1]; k < records.size(); ++k) {
            const consumed& r = records[k];
            if (orphaned.contains(r.partition) && !first_after_kill.contains(r.partition)) {
                first_after_kill[r.partition] = r.offset;
            }
        }
    }
    for (int p : orphaned) {
        EXPECT_EQ(first_after_kill[p], 100) << "partition " << p;
    }
    group = std::move(survivors);
}

// (c) The group stopped and started again reads only what was produced meanwhile.
void a_restarted_group_resumes(replication_cluster& c, consumers& group, const fs::path& dir) {
    ASSERT_TRUE(eventually([&] { return offsets_of(c, "cg") == "12 2400"; }, limit))
        << offsets_of(c, "cg");
    for (auto& member : group) {
        EXPECT_TRUE(member->stop());
    }
    group.clear();
    EXPECT_TRUE(eventually([&] { return describe(c, "cg") == "Empty consumer 0"; }, limit))
        << describe(c, "cg");
    ASSERT_EQ(produce(c, "orders", 2400, 240), "ok");
    for (int i = 0; i < 2; ++i) {
        group.push_back(std::make_unique<consumer_process>(dir, fmt::format("again{}", i),
                                                           c.bootstrap(), "orders", "cg"));
    }
    ASSERT_TRUE(eventually([&] { return read_all(group, 2400, 2640); }, limit));
    for (const auto& member : group) {
        for (const consumed& r : member->records()) {
            EXPECT_GE(r.value, 2400)
                << "re-read partition " << r.partition << " offset " << r.offset;
        }
    }
    for (auto& member : group) {
        EXPECT_TRUE(member->stop());
    }
}

TEST(consumer_groups, share_partitions_survive_a_kill_and_resume_from_committed_offsets) {
    replication_cluster c(group_settings());
    scratch_dir dir;
    ASSERT_EQ(create_topic(c, "orders", partitions), "");
    consumers group;
    three_consumers_share_the_topic(c, group, dir.path);
    if (HasFatalFailure()) {
        return;
    }
    a_killed_consumer_is_replaced(c, group);
    if (HasFatalFailure()) {
        return;
    }
    a_restarted_group_resumes(c, group, dir.path);
}

// The broker that coordinates `group`, asked with FindCoordinator v1; 0 while unknown.
std::uint16_t coordinator_port(replication_cluster& c, const std::string& group) {
    std::uint16_t port = 0;
    eventually(
        [&] {
            protocol::find_coordinator_request req;
            req.key = group;
            kafka_socket s(c.ports().front());
            bytes raw = s.call(protocol::find_coordinator_api::key, 1, req);
            protocol::reader r(raw);
            auto resp = protocol::find_coordinator_response::decode(r, 1);
            if (resp && resp->error_code == 0) {
                port = static_cast<std::uint16_t>(resp->port);
            }
            return port != 0;
        },
        limit);
    return port;
}

// OffsetDelete v0 (no client here sends it): `topic`-0 and an unknown topic's partition.
void offset_delete_removes_one_partition(replication_cluster& c) {
    std::uint16_t port = coordinator_port(c, "py-group");
    ASSERT_NE(port, 0);
    protocol::offset_delete_request req;
    req.group_id = "py-group";
    req.topics.push_back({"events", {{model::partition_id(0)}}});
    req.topics.push_back({"no-such-topic", {{model::partition_id(0)}}});
    kafka_socket s(port);
    bytes raw = s.call(protocol::offset_delete_api::key, 0, req);
    protocol::reader r(raw);
    auto resp = protocol::offset_delete_response::decode(r, 0);
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->error_code, 0);
    ASSERT_EQ(resp->topics.size(), 2u);
    EXPECT_EQ(resp->topics[0].partitions.at(0).error_code, 0);
    EXPECT_EQ(resp->topics[1].partitions.at(0).error_code, 3);  // UNKNOWN_TOPIC_OR_PARTITION
    EXPECT_EQ(offsets_of(c, "py-group"), "3 150");
}

TEST(consumer_groups, kafka_python_kcat_and_admin_clients) {
    replication_cluster c(group_settings());
    scratch_dir dir;
    ASSERT_EQ(create_topic(c, "events", 4), "");
    ASSERT_EQ(produce(c, "events", 0, 200, 4), "ok");
    const std::string b = c.bootstrap();

    // (d) kafka-python (JoinGroup v0-v2, OffsetCommit v2-v3) and kcat -G (librdkafka).
    EXPECT_EQ(client_line(fmt::format("kafka-python-consume {} events py-group 200 90", b)), "200");
    auto kcat = run_command(fmt::format(
        "timeout 90 kcat -b {} -G kcat-group -X auto.offset.reset=earliest -e -f '%s\\n' events "
        "2>/dev/null",
        b));
    std::set<std::string> values;
    std::istringstream in(kcat.out);
    for (std::string line; std::getline(in, line);) {
        values.insert(line);
    }
    EXPECT_EQ(values.size(), 200u) << kcat.out.substr(0, 400);
    EXPECT_EQ(offsets_of(c, "py-group"), "4 200");
    EXPECT_TRUE(eventually([&] { return offsets_of(c, "kcat-group") == "4 200"; }, limit))
        << offsets_of(c, "kcat-group");

    // (e) Admin clients: list, describe, delete; an active group cannot be deleted.
    consumers live;
    live.push_back(std::make_unique<consumer_process>(dir.path, "live", b, "events", "live-group"));
    ASSERT_TRUE(eventually([&] { return !live[0]->assignment().empty(); }, limit));
    EXPECT_TRUE(eventually(
        [&] {
            return client_line(fmt::format("kafka-python-admin {} list", b)) ==
                   "kcat-group live-group py-group";
        },
        limit));
    auto listed = client(fmt::format("confluent-list {}", b));
    EXPECT_EQ(listed, (std::vector<std::string>{"kcat-group Empty consumer - 0",
                                                "live-group Stable consumer range 1",
                                                "py-group Empty consumer - 0"}));
    EXPECT_EQ(describe(c, "live-group"), "Stable consumer 1 /127.0.0.1");
    EXPECT_EQ(client_line(fmt::format("kafka-python-admin {} delete live-group", b)),
              "NonEmptyGroupError");
    offset_delete_removes_one_partition(c);
    EXPECT_EQ(client_line(fmt::format("kafka-python-admin {} delete py-group", b)), "ok");
    EXPECT_EQ(client_line(fmt::format("kafka-python-admin {} delete py-group", b)),
              "GroupIdNotFoundError");
    EXPECT_EQ(client_line(fmt::format("kafka-python-admin {} list", b)), "kcat-group live-group");
    EXPECT_TRUE(live[0]->stop());
}

}  // namespace
}  // namespace gregor::test
