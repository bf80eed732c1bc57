// Helpers for the consumer group fault tests: confluent_kafka group members run as child
// processes (group_clients.py `member`) whose records and events the test reads from files,
// and the group requests the tests send themselves through the tree's protocol codecs
// (FindCoordinator, DescribeGroups, OffsetFetch), so that a check names the broker it asks.
//
// Everything here blocks and is used from the test thread only; every wait has a deadline.
#pragma once

#include "integration/replication/replication_cluster.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gregor::test {

// A fresh temporary directory, removed with everything in it by the destructor.
struct scratch_dir {
    std::filesystem::path path;
    scratch_dir();
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
};

// The "RESULT " lines of a group_clients.py command, without the prefix; the last one, or
// "(no answer)".
std::vector<std::string> group_client(const std::string& args);
std::string group_client_line(const std::string& args);

// Creates `topic` with `partitions` partitions, replication factor 3 and `configs` through
// `gregor topics create`. Returns "" or its output.
std::string create_topic(const replication_cluster& c, const std::string& topic, int partitions,
                         const std::map<std::string, std::string>& configs = {});

// One record a member wrote down: "<partition> <offset> r<n>".
struct consumed {
    int partition = -1;
    std::int64_t offset = -1;
    int value = -1;
};

// One group member (group_clients.py `member`) as a child process: it consumes `topic`,
// commits its positions synchronously every `commit_every` records and writes down its
// records and its events (assignments, revocations, acknowledged commits, fatal errors).
struct member_options {
    std::string bootstrap;
    std::string topic;
    std::string group;
    std::string instance_id;  // "" for a dynamic member
    int session_timeout_ms = 6000;
    int commit_every = 5;
};

class member_process {
public:
    // Starts it; `name` names its files in `dir` (a restarted member takes a new name).
    member_process(const std::filesystem::path& dir, const std::string& name,
                   member_options options);
    ~member_process();
    member_process(const member_process&) = delete;
    member_process& operator=(const member_process&) = delete;

    std::vector<consumed> records() const;
    // Its event lines ("assign 0 3", "revoke 0 3", "commit 2 41", "fatal ...", "closed").
    std::vector<std::string> events() const;
    // The assign and revoke lines only: the rebalances it took part in.
    std::vector<std::string> rebalance_events() const;
    // The partitions of its last "assign" event unless a "revoke" followed; empty if none.
    std::set<int> assignment() const;
    // partition -> the highest offset of a commit that returned success.
    std::map<int, std::int64_t> acknowledged_commits() const;
    std::size_t commit_count() const;
    // Whether it stopped on a fatal error whose text contains `needle` (case-insensitive).
    bool fatal_error_contains(const std::string& needle) const;

    // kill -9 and reap.
    void kill_now();
    // Asks it to close (a static member sends no LeaveGroup) and waits; returns whether it
    // exited cleanly.
    bool stop();
    // Whether the process has exited (reaping it if so).
    bool exited();

private:
    std::filesystem::path out_;
    std::filesystem::path stop_;
    pid_t pid_ = -1;
};

// Iff every value in `values` was read by one of `members`.
bool read_all(const std::vector<const member_process*>& members, const std::set<int>& values);

// ---- Group requests through the codecs.

// The id of the broker that coordinates `group`, asked with FindCoordinator v1 of each
// broker in `live` in turn until one answers without error; -1 if none did.
int find_coordinator(replication_cluster& c, const std::string& group, const std::set<int>& live);

struct described_member {
    std::string member_id;
    std::string instance_id;  // "" for a dynamic member
};
struct group_description {
    std::int16_t error_code = -1;
    std::string state;
    std::vector<described_member> members;
    // instance id -> member id.
    std::map<std::string, std::string> member_ids_by_instance() const;
};
// DescribeGroups v4 (with instance ids) of `group` on the broker at `port`; nullopt if the
// broker could not be asked.
std::optional<group_description> describe_group(std::uint16_t port, const std::string& group);

// OffsetFetch v5 of `group` for `partitions` of `topic` on the broker at `port`: partition ->
// committed offset (-1 for none), or nullopt on any error (not the coordinator yet, loading).
std::optional<std::map<int, std::int64_t>> fetch_offsets(std::uint16_t port,
                                                         const std::string& group,
                                                         const std::string& topic, int partitions);

}  // namespace gregor::test
