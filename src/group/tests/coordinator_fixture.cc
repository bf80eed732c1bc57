#include "group/tests/coordinator_fixture.h"

#include "base/log.h"

#include <fmt/format.h>

namespace gregor::group::test {

uuid_source counting_uuids() {
    auto n = std::make_shared<std::uint64_t>(0);
    return [n] { return fmt::format("00000000-0000-4000-8000-{:012d}", ++*n); };
}

coordinator_fixture::coordinator_fixture() {
    log_set_level("warn");
    cfg.initial_rebalance_delay = std::chrono::milliseconds(0);
    restart();
}

void coordinator_fixture::restart() {
    c = std::make_unique<group_coordinator>(cfg, counting_uuids());
    EXPECT_TRUE(c->begin_load(part, model::leader_epoch(1)));
    absorb(c->complete_load(part, model::leader_epoch(1), {}, now()));
}

void coordinator_fixture::absorb(effects out) {
    for (auto& e : out) {
        if (auto* j = std::get_if<join_reply>(&e)) {
            EXPECT_FALSE(joins.contains(j->token())) << "JoinGroup answered twice";
            joins[j->token()] = j->response;
        } else if (auto* s = std::get_if<sync_reply>(&e)) {
            EXPECT_FALSE(syncs.contains(s->token())) << "SyncGroup answered twice";
            syncs[s->token()] = s->response;
        } else if (auto* a = std::get_if<append_group_record>(&e)) {
            appends.push_back(*a);
        } else {
            tombstones.push_back(std::get<append_group_tombstone>(e));
        }
    }
}

void coordinator_fixture::advance(std::int64_t ms) {
    clock += ms;
    absorb(c->on_time(now()));
    expect_sound();
}

void coordinator_fixture::complete_append(model::kafka_error error) {
    ASSERT_FALSE(appends.empty());
    auto a = appends.front();
    appends.erase(appends.begin());
    absorb(c->on_append_done(a.token, error, now()));
}

void coordinator_fixture::complete_appends(model::kafka_error error) {
    while (!appends.empty()) {
        complete_append(error);
    }
}

void coordinator_fixture::expect_sound() const {
    EXPECT_EQ(c->check_invariants(now()), "");
}

join_request coordinator_fixture::join_req(std::string member_id, std::int16_t version,
                                           std::vector<std::string> protocols) {
    join_request r;
    r.version = version;
    r.group_id = "g";
    r.session_timeout_ms = 10'000;
    r.rebalance_timeout_ms = 10'000;
    r.member_id = std::move(member_id);
    r.protocol_type = "consumer";
    for (auto& p : protocols) {
        r.protocols.push_back({p, encode_subscription_v0({"t-" + p})});
    }
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    return r;
}

request_token coordinator_fixture::join(const join_request& r) {
    request_token t(next_token++);
    absorb(c->join(part, t, r, now()));
    if (fire_due && c->next_deadline() && *c->next_deadline() <= now()) {
        absorb(c->on_time(now()));  // a zero initial delay is due at once
    }
    if (fire_due) {
        expect_sound();
    }
    return t;
}

std::optional<join_response> coordinator_fixture::join_answer(request_token t) const {
    auto it = joins.find(t());
    return it == joins.end() ? std::nullopt : std::optional(it->second);
}

request_token coordinator_fixture::sync(const sync_request& r) {
    request_token t(next_token++);
    absorb(c->sync(part, t, r, now()));
    expect_sound();
    return t;
}

std::optional<sync_response> coordinator_fixture::sync_answer(request_token t) const {
    auto it = syncs.find(t());
    return it == syncs.end() ? std::nullopt : std::optional(it->second);
}

model::kafka_error coordinator_fixture::heartbeat(const std::string& member_id,
                                                  std::int32_t generation,
                                                  std::optional<std::string> instance) {
    heartbeat_request r{group_id, generation, member_id, std::move(instance)};
    return c->heartbeat(part, r, now());
}

request_token coordinator_fixture::join_new(std::string client_id, std::int32_t rebalance_ms) {
    auto r = join_req("");
    r.client_id = std::move(client_id);
    r.rebalance_timeout_ms = rebalance_ms;
    auto first = join(r);
    auto answer = join_answer(first);
    EXPECT_TRUE(answer && answer->error == model::kafka_error::member_id_required);
    r.member_id = answer ? answer->member_id : "";
    return join(r);
}

std::vector<std::string> coordinator_fixture::form_group(int members) {
    // Park everyone first (the due initial delay is not fired meanwhile), then fire it.
    fire_due = false;
    std::vector<request_token> tokens;
    for (int i = 0; i < members; ++i) {
        tokens.push_back(join_new(fmt::format("c{}", i)));
    }
    fire_due = true;
    advance(0);
    std::vector<std::string> ids;
    for (auto t : tokens) {
        auto a = join_answer(t);
        EXPECT_TRUE(a.has_value());
        if (a && a->leader == a->member_id) {
            ids.insert(ids.begin(), a->member_id);
        } else if (a) {
            ids.push_back(a->member_id);
        }
    }
    return ids;
}

sync_request coordinator_fixture::sync_req(const std::string& member_id,
                                           std::int32_t generation,
                                           std::vector<sync_assignment> assignments) const {
    sync_request r;
    r.version = 5;
    r.group_id = group_id;
    r.generation_id = generation;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    r.protocol_name = "range";
    r.assignments = std::move(assignments);
    return r;
}

std::vector<std::string> coordinator_fixture::stable_group(int members) {
    auto ids = form_group(members);
    std::int32_t gen = group().generation;
    std::vector<sync_assignment> assignments;
    for (const auto& id : ids) {
        assignments.push_back({id, to_bytes("a-" + id)});
    }
    for (std::size_t i = 1; i < ids.size(); ++i) {
        sync(sync_req(ids[i], gen));
    }
    sync(sync_req(ids[0], gen, assignments));
    complete_appends();
    EXPECT_EQ(group().state, group_state::stable);
    return ids;
}

const classic_group& coordinator_fixture::group() const {
    const classic_group* g = c->find(group_id);
    EXPECT_NE(g, nullptr);
    static const classic_group none("none", model::partition_id(0), model::timestamp_ms(0));
    return g != nullptr ? *g : none;
}

}  // namespace gregor::group::test
