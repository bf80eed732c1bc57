// group_sim: a seeded random world around one group_coordinator, for group_sim_test.
//
// Clients behave like Kafka consumers (v2-v9 JoinGroup, MEMBER_ID_REQUIRED, static members,
// the leader assigns, heartbeats, commits, leaves) on a network that delays, reorders and
// duplicates requests; the driver's appends complete late, fail, or land after an unload;
// the offsets partition is unloaded and loaded again from the records written so far.
// After every step it checks the coordinator's invariants and the cross-cutting ones:
// assignments only from their generation's leader, no commit accepted from another
// generation, every request answered exactly once, deadlines honoured.
#pragma once

#include "group/group_coordinator.h"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gregor::group::test {

template <class T>
T pick(std::mt19937_64& rng, std::initializer_list<T> options) {
    return *(options.begin() + static_cast<std::ptrdiff_t>(rng() % options.size()));
}

struct sim_stats {
    std::int64_t joins = 0;
    std::int64_t stable_syncs = 0;
    std::int64_t commits_accepted = 0;
    std::int64_t reloads = 0;
    std::int64_t failed_appends = 0;
    std::int64_t expiries = 0;
};

class group_sim {
public:
    explicit group_sim(std::uint64_t seed);
    // Runs `steps` random steps then drains; returns "" or the first broken invariant.
    std::string run(int steps);
    const sim_stats& stats() const { return stats_; }

private:
    struct client {
        int index = 0;
        std::string group_id;
        std::string client_id;
        std::optional<std::string> instance;
        std::int16_t join_version = 9;
        std::int32_t session_ms = 10'000;
        std::int32_t rebalance_ms = 10'000;
        std::string member_id;
        std::int32_t generation = -1;
        std::optional<std::uint64_t> awaiting;  // the request it waits for
        std::int64_t sent_at = 0;
        bool in_group = false;  // has a generation and its assignment
        bool silent = false;    // stopped heartbeating (a hung process)
        bool idle = true;       // not in the group protocol; may start a join
    };
    struct request {
        std::uint64_t token = 0;
        int client = 0;
        std::optional<join_request> join;
        std::optional<sync_request> sync;
    };

    model::timestamp_ms now() const { return model::timestamp_ms(clock_); }
    std::uint64_t chance(std::uint64_t percent) { return rng_() % 100 < percent; }
    void step();
    void client_acts(client& cl);
    void send_join(client& cl);
    void send_sync(client& cl, const join_response& r);
    void send(request r);
    void deliver(std::size_t index);
    void absorb(effects out);
    void on_join_reply(std::uint64_t token, const join_response& r);
    void on_sync_reply(std::uint64_t token, const sync_response& r);
    void rejoin(client& cl, bool keep_id);
    void heartbeat(client& cl);
    void commit(client& cl);
    void leave(client& cl);
    void complete_append(std::size_t index, bool success);
    void reload();
    void finish_load();
    void tick(std::int64_t ms);
    void check(std::string_view where);
    void drain();
    bool owned() const { return loading_ == false && !unowned_; }

    std::mt19937_64 rng_;
    std::uint64_t seed_;
    std::int64_t clock_ = 1'000'000;
    group_config cfg_;
    std::unique_ptr<group_coordinator> c_;
    model::partition_id part_{0};
    std::int32_t epoch_ = 1;
    bool loading_ = false;
    bool unowned_ = false;
    bool draining_ = false;
    std::vector<client> clients_;
    std::vector<request> network_;
    std::uint64_t next_token_ = 1;
    std::set<std::uint64_t> outstanding_;  // delivered, not yet answered
    std::set<std::uint64_t> undelivered_;
    std::map<std::uint64_t, int> owner_;  // token -> client
    std::vector<append_group_record> appends_;
    std::vector<append_group_record> stale_appends_;  // from before an unload
    std::map<std::string, group_metadata_value> log_;  // latest group record written
    // (group, generation) -> the member that led it (from its JoinGroup answer).
    std::map<std::pair<std::string, std::int32_t>, std::string> leaders_;
    // Every identity a JoinGroup answer handed out: zombies commit with them later.
    std::vector<commit_identity> identities_;
    std::string broken_;
    sim_stats stats_;
};

}  // namespace gregor::group::test
