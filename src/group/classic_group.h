// classic_group: one consumer group's membership, as Kafka 3.8's GroupMetadata keeps it.
//
// A plain record of the group (state, generation, protocol, leader, members, static
// members, KIP-394 pending member ids, members that owe a SyncGroup) plus the pure rules that
// read it (protocol support and selection, member identity, the group record). It owns no
// timers and emits nothing: group_coordinator drives it and keeps its deadlines. Fields may
// be read freely; membership changes only through add/remove/rename (which keep the leader,
// the static-member map and the pending sets consistent) and the state only through
// transition_to (which asserts the transition table of group/transitions.h).
//
// Threading: owned by the coordinator, on its loop.
#pragma once

#include "group/group_state.h"
#include "group/messages.h"
#include "group/records.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::group {

inline constexpr std::string_view consumer_protocol_type_name = "consumer";

// A JoinGroup waiting for the join phase to end (or for a static member's record).
struct parked_join {
    request_token token;
    std::int16_t version = 0;
};

struct group_member {
    std::string id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    std::int32_t rebalance_timeout_ms = 0;
    std::int32_t session_timeout_ms = 0;
    std::string protocol_type;
    std::vector<member_protocol> protocols;  // in the member's order of preference
    bytes assignment;
    std::optional<parked_join> join;
    std::optional<request_token> sync;
    // Added by a JoinGroup and not yet through a completed join phase: it cannot heartbeat,
    // so the new-member timeout (not the session timeout) bounds its wait.
    bool is_new = false;

    // Kafka's "matches": same protocols in the same order with identical metadata.
    bool matches(std::span<const member_protocol> protocols) const;
    // The metadata for `protocol`, or nullptr if the member does not support it.
    const bytes* metadata_for(std::string_view protocol) const;
};

// The join phase of a PreparingRebalance group: Kafka's DelayedJoin, or InitialDelayedJoin
// (which never completes early and extends itself while new members arrive).
struct join_phase {
    bool initial = false;
    std::int64_t delay_ms = 0;      // InitialDelayedJoin: this round's delay
    std::int64_t remaining_ms = 0;  // InitialDelayedJoin: what the rebalance timeout leaves
};

using topic_set = std::set<std::string, std::less<>>;

struct classic_group {
    classic_group(std::string group_id, model::partition_id offsets_partition,
                  model::timestamp_ms now);

    std::string id;
    model::partition_id partition;  // of __consumer_offsets
    group_state state = group_state::empty;
    std::optional<model::timestamp_ms> state_timestamp;  // none: loaded without one
    std::optional<std::string> protocol_type;
    std::optional<std::string> protocol;
    std::int32_t generation = 0;
    std::optional<std::string> leader;
    std::map<std::string, group_member, std::less<>> members;
    std::map<std::string, std::string, std::less<>> static_members;  // instance id -> member
    std::set<std::string, std::less<>> pending_members;  // KIP-394 ids not yet joined
    std::set<std::string, std::less<>> pending_sync;     // members that owe a SyncGroup
    std::optional<join_phase> join;                      // iff PreparingRebalance
    bool new_member_added = false;  // extends the initial join delay
    std::optional<topic_set> subscribed_topics;
    // The leader's assignment is being written (one append per generation at a time).
    std::optional<append_token> assignment_append;
    // Offsets may exist for it (loaded, or a commit was accepted): never dropped silently.
    bool may_have_offsets = false;

    // Asserts the transition table and stamps the time.
    void transition_to(group_state to, model::timestamp_ms now);
    bool is(group_state s) const { return state == s; }

    // REQUIRES: no member with that id or instance id. The first member sets the protocol
    // type and becomes leader; the id stops being pending.
    void add(group_member m);
    // Removes and returns the member; a leader is replaced by any remaining member.
    // REQUIRES: has(member_id).
    group_member remove(std::string_view member_id);
    // Re-keys a static member (KIP-345 replacement): leader, static map and pending sync
    // follow. REQUIRES: has(old_id) and !has(new_id).
    void rename(std::string_view old_id, const std::string& new_id);

    bool has(std::string_view member_id) const { return members.contains(member_id); }
    group_member* find(std::string_view member_id);
    const group_member* find(std::string_view member_id) const;
    bool is_leader(std::string_view member_id) const { return leader && *leader == member_id; }
    std::optional<std::string> static_member(std::string_view instance_id) const;

    std::size_t awaiting_join_count() const;
    // Every member has a parked JoinGroup and no KIP-394 id is outstanding.
    bool all_members_joined() const;
    // Max over the members' rebalance timeouts (0 without members).
    std::int32_t rebalance_timeout_ms() const;
    // Kafka's supportsProtocols: Empty needs a type and a protocol; otherwise the type must
    // match and one protocol must be supported by every member.
    bool supports(std::string_view type, std::span<const member_protocol> protocols) const;
    // The protocol every member supports that gets most first-choice votes (ties: the
    // smallest name). REQUIRES: members and a common protocol.
    std::string select_protocol() const;
    // Kafka's validateMember: FENCED_INSTANCE_ID if the instance id belongs to another
    // member, UNKNOWN_MEMBER_ID if the instance or member id is unknown, else NONE.
    model::kafka_error check_member(std::string_view member_id,
                                    const std::optional<std::string>& instance_id) const;
    // Kafka's isStaticMemberFenced: the instance id is known and belongs to another member.
    bool static_fenced(std::string_view member_id,
                       const std::optional<std::string>& instance_id) const;
    // The leader's JoinGroup member list (metadata for the selected protocol).
    std::vector<join_response_member> member_list() const;
    // The group record: members' metadata for the selected protocol and their current
    // assignment, or `assignments`' entry when given (the leader's SyncGroup).
    group_metadata_value to_record(
        const std::map<std::string, bytes, std::less<>>* assignments = nullptr) const;
    // Union of the members' consumer-protocol topics; none unless the type is "consumer"
    // and every subscription parses.
    std::optional<topic_set> compute_subscribed_topics() const;
};

}  // namespace gregor::group
