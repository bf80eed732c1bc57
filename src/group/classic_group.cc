#include "group/classic_group.h"

#include "base/assert.h"
#include "group/consumer_protocol.h"
#include "group/transitions.h"

#include <algorithm>

namespace gregor::group {

using model::kafka_error;

bool group_member::matches(std::span<const member_protocol> other) const {
    return std::equal(protocols.begin(), protocols.end(), other.begin(), other.end());
}

const bytes* group_member::metadata_for(std::string_view protocol) const {
    for (const auto& p : protocols) {
        if (p.name == protocol) {
            return &p.metadata;
        }
    }
    return nullptr;
}

classic_group::classic_group(std::string group_id, model::partition_id offsets_partition,
                             model::timestamp_ms now)
    : id(std::move(group_id)), partition(offsets_partition), state_timestamp(now) {}

void classic_group::transition_to(group_state to, model::timestamp_ms now) {
    GREGOR_ASSERT(transition_allowed(state, to), "group {}: illegal transition {} -> {}", id,
                  to_string(state), to_string(to));
    state = to;
    state_timestamp = now;
}

void classic_group::add(group_member m) {
    GREGOR_ASSERT(!has(m.id), "group {}: member {} added twice", id, m.id);
    if (members.empty()) {
        protocol_type = m.protocol_type;
    }
    if (!leader) {
        leader = m.id;
    }
    if (m.instance_id) {
        GREGOR_ASSERT(!static_members.contains(*m.instance_id), "group {}: instance {} twice", id,
                      *m.instance_id);
        static_members.emplace(*m.instance_id, m.id);
    }
    pending_members.erase(m.id);
    std::string key = m.id;
    members.emplace(std::move(key), std::move(m));
}

group_member classic_group::remove(std::string_view member_id) {
    auto it = members.find(member_id);
    GREGOR_ASSERT(it != members.end(), "group {}: removing unknown member {}", id, member_id);
    group_member m = std::move(it->second);
    members.erase(it);
    if (m.instance_id) {
        static_members.erase(*m.instance_id);
    }
    pending_sync.erase(m.id);
    if (is_leader(m.id)) {
        leader = members.empty() ? std::nullopt : std::optional(members.begin()->first);
    }
    return m;
}

void classic_group::rename(std::string_view old_id, const std::string& new_id) {
    GREGOR_ASSERT(!has(new_id), "group {}: rename onto existing member {}", id, new_id);
    auto node = members.extract(members.find(old_id));
    GREGOR_ASSERT(!node.empty(), "group {}: renaming unknown member {}", id, old_id);
    node.key() = new_id;
    node.mapped().id = new_id;
    if (node.mapped().instance_id) {
        static_members[*node.mapped().instance_id] = new_id;
    }
    members.insert(std::move(node));
    if (is_leader(old_id)) {
        leader = new_id;
    }
    if (auto it = pending_sync.find(old_id); it != pending_sync.end()) {
        pending_sync.erase(it);
        pending_sync.insert(new_id);
    }
}

group_member* classic_group::find(std::string_view member_id) {
    auto it = members.find(member_id);
    return it == members.end() ? nullptr : &it->second;
}

const group_member* classic_group::find(std::string_view member_id) const {
    auto it = members.find(member_id);
    return it == members.end() ? nullptr : &it->second;
}

std::optional<std::string> classic_group::static_member(std::string_view instance_id) const {
    auto it = static_members.find(instance_id);
    return it == static_members.end() ? std::nullopt : std::optional(it->second);
}

std::size_t classic_group::awaiting_join_count() const {
    return static_cast<std::size_t>(std::count_if(
        members.begin(), members.end(), [](const auto& kv) { return kv.second.join.has_value(); }));
}

bool classic_group::all_members_joined() const {
    return pending_members.empty() && awaiting_join_count() == members.size();
}

std::int32_t classic_group::rebalance_timeout_ms() const {
    std::int32_t t = 0;
    for (const auto& [_, m] : members) {
        t = std::max(t, m.rebalance_timeout_ms);
    }
    return t;
}

bool classic_group::supports(std::string_view type,
                             std::span<const member_protocol> offered) const {
    if (is(group_state::empty)) {
        return !type.empty() && !offered.empty();
    }
    if (!protocol_type || *protocol_type != type) {
        return false;
    }
    return std::any_of(offered.begin(), offered.end(), [&](const member_protocol& p) {
        return std::all_of(members.begin(), members.end(), [&](const auto& kv) {
            return kv.second.metadata_for(p.name) != nullptr;
        });
    });
}

std::string classic_group::select_protocol() const {
    GREGOR_ASSERT(!members.empty(), "group {}: selecting a protocol without members", id);
    std::map<std::string, int, std::less<>> votes;
    for (const auto& [_, m] : members) {
        for (const auto& p : m.protocols) {
            bool everyone = std::all_of(members.begin(), members.end(), [&](const auto& kv) {
                return kv.second.metadata_for(p.name) != nullptr;
            });
            if (everyone) {
                ++votes[p.name];
                break;  // the member's first choice among the common ones
            }
        }
    }
    GREGOR_ASSERT(!votes.empty(), "group {}: members share no protocol", id);
    auto best = votes.begin();
    for (auto it = votes.begin(); it != votes.end(); ++it) {
        if (it->second > best->second) {
            best = it;
        }
    }
    return best->first;
}

kafka_error classic_group::check_member(std::string_view member_id,
                                        const std::optional<std::string>& instance_id) const {
    if (instance_id) {
        auto current = static_member(*instance_id);
        if (!current) {
            return kafka_error::unknown_member_id;
        }
        return *current == member_id ? kafka_error::none : kafka_error::fenced_instance_id;
    }
    return has(member_id) ? kafka_error::none : kafka_error::unknown_member_id;
}

bool classic_group::static_fenced(std::string_view member_id,
                                  const std::optional<std::string>& instance_id) const {
    if (!instance_id) {
        return false;
    }
    auto current = static_member(*instance_id);
    return current && *current != member_id;
}

std::vector<join_response_member> classic_group::member_list() const {
    GREGOR_ASSERT(protocol.has_value(), "group {}: member list without a protocol", id);
    std::vector<join_response_member> out;
    out.reserve(members.size());
    for (const auto& [mid, m] : members) {
        const bytes* meta = m.metadata_for(*protocol);
        GREGOR_ASSERT(meta != nullptr, "group {}: member {} lacks protocol {}", id, mid, *protocol);
        out.push_back({mid, m.instance_id, *meta});
    }
    return out;
}

group_metadata_value classic_group::to_record(
    const std::map<std::string, bytes, std::less<>>* assignments) const {
    group_metadata_value v;
    v.protocol_type = protocol_type.value_or("");
    v.generation = generation;
    v.protocol = protocol;
    v.leader = leader;
    v.current_state_timestamp = state_timestamp.value_or(model::timestamp_ms(-1));
    for (const auto& [mid, m] : members) {
        member_metadata_value mv{.member_id = mid,
                                 .group_instance_id = m.instance_id,
                                 .client_id = m.client_id,
                                 .client_host = m.client_host,
                                 .rebalance_timeout_ms = m.rebalance_timeout_ms,
                                 .session_timeout_ms = m.session_timeout_ms,
                                 .subscription = {},
                                 .assignment = m.assignment};
        if (const bytes* meta = protocol ? m.metadata_for(*protocol) : nullptr) {
            mv.subscription = *meta;
        }
        if (assignments != nullptr) {
            auto it = assignments->find(mid);
            mv.assignment = it == assignments->end() ? bytes{} : it->second;
        }
        v.members.push_back(std::move(mv));
    }
    return v;
}

std::optional<topic_set> classic_group::compute_subscribed_topics() const {
    if (!protocol_type || *protocol_type != consumer_protocol_type_name) {
        return std::nullopt;
    }
    if (members.empty()) {
        return topic_set{};
    }
    if (!protocol) {
        return std::nullopt;
    }
    topic_set topics;
    for (const auto& [_, m] : members) {
        const bytes* meta = m.metadata_for(*protocol);
        auto parsed = meta != nullptr ? parse_subscription_topics(*meta) : std::nullopt;
        if (!parsed) {
            return std::nullopt;
        }
        topics.insert(parsed->begin(), parsed->end());
    }
    return topics;
}

}  // namespace gregor::group
