// The test fixture of the group state machine tests: one group_coordinator owning one
// offsets partition, a hand-set clock, a counting uuid source, and a recorder of every
// effect that checks each request token is answered at most once.
#pragma once

#include "group/consumer_protocol.h"
#include "group/group_coordinator.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gregor::group::test {

inline bytes to_bytes(std::string_view s) {
    return bytes(s.begin(), s.end());
}

// A deterministic uuid source: "00000000-0000-4000-8000-000000000001", ...
uuid_source counting_uuids();

struct coordinator_fixture : ::testing::Test {
    group_config cfg;
    std::unique_ptr<group_coordinator> c;
    model::partition_id part{7};
    std::int64_t clock = 1'000'000;
    std::uint64_t next_token = 1;
    std::map<std::uint64_t, join_response> joins;  // answered JoinGroups by token
    std::map<std::uint64_t, sync_response> syncs;  // answered SyncGroups by token
    std::vector<append_group_record> appends;      // not yet answered
    std::vector<append_group_tombstone> tombstones;
    bool fire_due = true;  // join() fires timers already due (a zero initial delay)

    coordinator_fixture();
    // Rebuilds the coordinator with `cfg` and makes it own `part`.
    void restart();
    model::timestamp_ms now() const { return model::timestamp_ms(clock); }

    void absorb(effects out);
    void advance(std::int64_t ms);  // moves the clock and fires what is due
    // Answers the oldest unanswered append (or all of them) with `error`.
    void complete_append(model::kafka_error error = model::kafka_error::none);
    void complete_appends(model::kafka_error error = model::kafka_error::none);
    void expect_sound() const;

    static join_request join_req(std::string member_id, std::int16_t version = 9,
                                 std::vector<std::string> protocols = {"range"});
    request_token join(const join_request& r);
    std::optional<join_response> join_answer(request_token t) const;
    request_token sync(const sync_request& r);
    std::optional<sync_response> sync_answer(request_token t) const;
    model::kafka_error heartbeat(const std::string& member_id, std::int32_t generation,
                                 std::optional<std::string> instance = std::nullopt);

    // A v9 dynamic member through MEMBER_ID_REQUIRED; returns its JoinGroup token.
    request_token join_new(std::string client_id, std::int32_t rebalance_ms = 10'000);
    // Members joined into one generation (initial delay 0): their ids, leader first.
    std::vector<std::string> form_group(int members);
    // form_group, then every member syncs (the leader assigns "a-<id>") and the record is
    // written: the group is Stable.
    std::vector<std::string> stable_group(int members);
    sync_request sync_req(const std::string& member_id, std::int32_t generation,
                          std::vector<sync_assignment> assignments = {}) const;
    const classic_group& group() const;
    std::string group_id = "g";
};

}  // namespace gregor::group::test
