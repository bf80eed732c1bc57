#include "group/tests/group_sim.h"

#include "group/consumer_protocol.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::group::test {

using model::kafka_error;

namespace {

bytes text(const std::string& s) {
    return bytes(s.begin(), s.end());
}

}  // namespace

group_sim::group_sim(std::uint64_t seed) : rng_(seed), seed_(seed) {
    cfg_.initial_rebalance_delay = std::chrono::milliseconds(pick<int>(rng_, {0, 50, 3000}));
    cfg_.max_size = pick<std::int32_t>(rng_, {2, 3, 100});
    cfg_.new_member_join_timeout = std::chrono::milliseconds(pick<int>(rng_, {20'000, 300'000}));
    auto n = std::make_shared<std::uint64_t>(0);
    c_ = std::make_unique<group_coordinator>(
        cfg_, [n] { return fmt::format("00000000-0000-4000-8000-{:012d}", ++*n); });
    (void)c_->begin_load(part_, model::leader_epoch(epoch_));
    absorb(c_->complete_load(part_, model::leader_epoch(epoch_), {}, now()));
    for (int i = 0; i < 6; ++i) {
        client cl;
        cl.index = i;
        cl.group_id = i < 4 ? "g" : "h";
        cl.client_id = fmt::format("c{}", i);
        bool is_static = i == 1 || i == 4;
        if (is_static) {
            cl.instance = fmt::format("i{}", i);
        }
        cl.join_version = is_static ? pick<std::int16_t>(rng_, {5, 8, 9})
                                    : pick<std::int16_t>(rng_, {2, 4, 7, 9});
        cl.session_ms = static_cast<std::int32_t>(6'000 + rng_() % 6'000);
        cl.rebalance_ms = static_cast<std::int32_t>(3'000 + rng_() % 17'000);
        clients_.push_back(cl);
    }
}

std::string group_sim::run(int steps) {
    for (int i = 0; i < steps && broken_.empty(); ++i) {
        step();
    }
    if (broken_.empty()) {
        drain();
    }
    return broken_;
}

void group_sim::step() {
    auto r = rng_() % 100;
    if (r < 35) {
        client_acts(clients_[rng_() % clients_.size()]);
    } else if (r < 55) {
        if (!network_.empty()) {
            deliver(rng_() % network_.size());
        }
    } else if (r < 65) {
        if (!appends_.empty()) {
            bool success = chance(80);
            complete_append(success ? 0 : rng_() % appends_.size(), success);
        }
    } else if (r < 67) {
        if (!stale_appends_.empty()) {
            auto a = stale_appends_.back();
            stale_appends_.pop_back();
            absorb(c_->on_append_done(a.token, kafka_error::none, now()));  // must be ignored
        }
    } else if (r < 90) {
        tick(static_cast<std::int64_t>(1 + rng_() % 2'500));
    } else if (r < 92) {
        reload();
    } else if (r < 96) {
        auto& cl = clients_[rng_() % clients_.size()];
        cl.silent = !cl.silent;
    } else {
        leave(clients_[rng_() % clients_.size()]);
    }
    if (loading_ && chance(30)) {
        finish_load();
    }
    check("step");
}

void group_sim::client_acts(client& cl) {
    if (cl.silent || cl.awaiting) {
        return;
    }
    if (cl.idle) {
        return send_join(cl);
    }
    if (!cl.in_group) {
        return;
    }
    auto r = rng_() % 10;
    if (r < 5) {
        heartbeat(cl);
    } else if (r < 8) {
        commit(cl);
    } else {
        send_join(cl);  // a rejoin with the same metadata, or a changed one
    }
}

void group_sim::send_join(client& cl) {
    join_request r;
    r.version = cl.join_version;
    r.group_id = cl.group_id;
    r.session_timeout_ms = cl.session_ms;
    r.rebalance_timeout_ms = cl.rebalance_ms;
    r.member_id = cl.member_id;
    if (cl.join_version >= 5) {
        r.group_instance_id = cl.instance;
    }
    r.protocol_type = "consumer";
    r.protocols.push_back({"range", encode_subscription_v0({"t1", "t2"})});
    if (chance(10)) {
        r.protocols.push_back({"roundrobin", encode_subscription_v0({"t1"})});
    }
    r.client_id = cl.client_id;
    r.client_host = "/10.0.0.1";
    cl.idle = false;
    cl.in_group = false;
    send(request{0, cl.index, std::move(r), std::nullopt});
}

void group_sim::send_sync(client& cl, const join_response& r) {
    sync_request s;
    s.version = pick<std::int16_t>(rng_, {3, 5});
    s.group_id = cl.group_id;
    s.generation_id = r.generation_id;
    s.member_id = r.member_id;
    s.group_instance_id = cl.join_version >= 5 ? cl.instance : std::nullopt;
    if (s.version >= 5) {
        s.protocol_type = "consumer";
        s.protocol_name = r.protocol_name.value_or("range");
    }
    if (r.leader == r.member_id && !r.skip_assignment) {
        // The leader's assignment names the generation and the member (its instance id for
        // static members, whose member id may be replaced within a generation).
        for (const auto& m : r.members) {
            auto key = m.group_instance_id.value_or(m.member_id);
            s.assignments.push_back({m.member_id, text(fmt::format("G{}|{}", r.generation_id, key))});
        }
    }
    send(request{0, cl.index, std::nullopt, std::move(s)});
}

void group_sim::send(request r) {
    if (draining_) {
        clients_[static_cast<std::size_t>(r.client)].awaiting.reset();
        clients_[static_cast<std::size_t>(r.client)].idle = true;
        return;
    }
    auto& cl = clients_[static_cast<std::size_t>(r.client)];
    r.token = next_token_++;
    cl.awaiting = r.token;
    cl.sent_at = clock_;
    int copies = chance(10) ? 2 : 1;  // a duplicate the client does not wait for
    for (int i = 0; i < copies; ++i) {
        if (i > 0) {
            r.token = next_token_++;
        }
        owner_[r.token] = r.client;
        undelivered_.insert(r.token);
        network_.push_back(r);
        if (chance(50)) {
            deliver(network_.size() - 1);
        }
    }
}

void group_sim::deliver(std::size_t index) {
    request r = std::move(network_[index]);
    network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(index));
    undelivered_.erase(r.token);
    outstanding_.insert(r.token);
    if (r.join) {
        absorb(c_->join(part_, request_token(r.token), *r.join, now()));
    } else {
        absorb(c_->sync(part_, request_token(r.token), *r.sync, now()));
    }
}

void group_sim::absorb(effects out) {
    for (auto& e : out) {
        if (auto* j = std::get_if<join_reply>(&e)) {
            if (outstanding_.erase(j->token()) == 0 && broken_.empty()) {
                broken_ = fmt::format("JoinGroup {} answered twice or unasked", j->token());
            }
            on_join_reply(j->token(), j->response);
        } else if (auto* s = std::get_if<sync_reply>(&e)) {
            if (outstanding_.erase(s->token()) == 0 && broken_.empty()) {
                broken_ = fmt::format("SyncGroup {} answered twice or unasked", s->token());
            }
            on_sync_reply(s->token(), s->response);
        } else if (auto* a = std::get_if<append_group_record>(&e)) {
            appends_.push_back(*a);
        }
    }
}

void group_sim::rejoin(client& cl, bool keep_id) {
    if (!keep_id) {
        cl.member_id.clear();
    }
    cl.in_group = false;
    cl.idle = true;
}

}  // namespace gregor::group::test
