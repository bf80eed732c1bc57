// Controller requests on their way into the simulated brokers, and the broker side of
// LeaderAndIsr, UpdateMetadata and StopReplica as the broker's handlers apply them
// (broker/handlers/control.cc): the real replica_manager's fencing and state changes, then
// the fetchers follow the new leaders.
#include "broker/handlers/leader_and_isr.h"
#include "coord/errc.h"
#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"
#include "sim/cluster.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gregor::sim {

using model::kafka_error;
using model::node_id;

namespace {

template <class Api>
bytes respond(std::int16_t version, const typename Api::response_type& body) {
    auto frame = protocol::encode_response_frame<Api>(0, version, body);
    bytes flat = frame->flatten();
    return bytes(flat.begin() + 4, flat.end());
}

}  // namespace

// The request reaches the broker after a delay, in order per link; a lost request or answer,
// or a broker that is down, is sent again after a backoff until the channel is removed.
void cluster::deliver_control(node_id from, node_id to, std::shared_ptr<bytes> request,
                              std::function<void(result<bytes>)> done,
                              std::weak_ptr<int> channel_alive) {
    auto& clock = link_clock_[{from(), to()}];
    clock = std::max(clock, now_ms_ + net_delay());
    const bool lost = faults_ && chance(knobs_.drop_percent);
    after(clock - now_ms_, [=, this, done = std::move(done)]() mutable {
        if (channel_alive.expired()) {
            return;
        }
        node& t = at(to);
        // A broker holds a control request until it has registered (broker/handlers/
        // control.cc): the same as delivering it later.
        if (lost || !t.running || cut(from, to) || t.epoch == model::no_broker_epoch) {
            after(pick(50, 150), [=, this, done = std::move(done)]() mutable {
                deliver_control(from, to, request, std::move(done), channel_alive);
            });
            return;
        }
        bytes answer = apply_control(t, bytes_view(*request));
        const bool answer_lost = faults_ && chance(knobs_.drop_percent);
        after(net_delay(), [=, this, done = std::move(done)]() mutable {
            if (channel_alive.expired()) {
                return;
            }
            if (answer_lost || cut(from, to)) {
                deliver_control(from, to, request, std::move(done), channel_alive);
                return;
            }
            done(std::move(answer));
        });
    });
}

bytes cluster::apply_control(node& n, bytes_view request) {
    protocol::reader r(request);
    auto h = protocol::decode_request_header(r);
    if (h->api_key == protocol::leader_and_isr_api::key) {
        return apply_leader_and_isr(n, r, h->api_version);
    }
    if (h->api_key == protocol::update_metadata_api::key) {
        return apply_update_metadata(n, r, h->api_version);
    }
    return apply_stop_replica(n, r, h->api_version);
}

bytes cluster::apply_leader_and_isr(node& n, protocol::reader& r, std::int16_t version) {
    auto req = protocol::decode_exact<protocol::leader_and_isr_request>(r, version);
    protocol::leader_and_isr_response out;
    kafka_error e =
        n.replicas->check_control_request(req->controller_epoch, req->broker_epoch, n.epoch);
    if (e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        return respond<protocol::leader_and_isr_api>(version, out);
    }
    auto apply = [&](const std::string& topic, const protocol::leader_and_isr_partition_state& p) {
        broker::partition_assignment a = broker::to_assignment(topic, p);
        kafka_error pe = n.replicas->apply(a, now());
        if (pe == kafka_error::none) {
            trace(fmt::format("broker {} {} {} epoch {} isr [{}] (controller epoch {})", n.id(),
                              p.leader == n.id ? "leads" : "follows", a.tp, p.leader_epoch(),
                              fmt::join(p.isr, ","), req->controller_epoch()));
            follow(n, a.tp, p.leader);
        }
        return model::to_wire(pe);
    };
    for (const auto& p : req->ungrouped_partition_states) {
        out.partition_errors.push_back(
            {p.topic_name, p.partition_index, apply(p.topic_name, p), {}});
    }
    for (const auto& t : req->topic_states) {
        protocol::leader_and_isr_response::leader_and_isr_topic_error te{t.topic_id, {}, {}};
        for (const auto& p : t.partition_states) {
            protocol::leader_and_isr_partition_error pe{
                t.topic_name, p.partition_index, apply(t.topic_name, p), {}};
            if (version >= 5) {
                te.partition_errors.push_back(std::move(pe));
            } else {
                out.partition_errors.push_back(std::move(pe));
            }
        }
        if (version >= 5) {
            out.topics.push_back(std::move(te));
        }
    }
    return respond<protocol::leader_and_isr_api>(version, out);
}

bytes cluster::apply_update_metadata(node& n, protocol::reader& r, std::int16_t version) {
    auto req = protocol::decode_exact<protocol::update_metadata_request>(r, version);
    protocol::update_metadata_response out;
    kafka_error e =
        n.replicas->check_control_request(req->controller_epoch, req->broker_epoch, n.epoch);
    if (e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        return respond<protocol::update_metadata_api>(version, out);
    }
    n.known_controller = req->controller_id;
    n.live.clear();
    for (const auto& b : req->live_brokers) {
        n.live.insert(b.id);
    }
    auto cache = [&n](const std::string& topic, model::partition_id p, node_id leader) {
        if (leader == node_id(-2)) {
            n.leaders.erase({topic, p});  // deleted
        } else {
            n.leaders[{topic, p}] = leader;
        }
    };
    for (const auto& p : req->ungrouped_partition_states) {
        cache(p.topic_name, p.partition_index, p.leader);
    }
    for (const auto& t : req->topic_states) {
        for (const auto& p : t.partition_states) {
            cache(t.topic_name, p.partition_index, p.leader);
        }
    }
    return respond<protocol::update_metadata_api>(version, out);
}

bytes cluster::apply_stop_replica(node& n, protocol::reader& r, std::int16_t version) {
    auto req = protocol::decode_exact<protocol::stop_replica_request>(r, version);
    protocol::stop_replica_response out;
    kafka_error e =
        n.replicas->check_control_request(req->controller_epoch, req->broker_epoch, n.epoch);
    if (e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        return respond<protocol::stop_replica_api>(version, out);
    }
    auto stop = [&](const std::string& topic, model::partition_id p, model::leader_epoch epoch,
                    bool remove) {
        n.following.erase({topic, p});
        kafka_error pe = n.replicas->stop({topic, p}, epoch, remove);
        trace(fmt::format("broker {} stops {}-{}: {}", n.id(), topic, p(),
                          model::kafka_error_name(pe)));
        out.partition_errors.push_back({topic, p, model::to_wire(pe), {}});
    };
    for (const auto& p : req->ungrouped_partitions) {
        stop(p.topic_name, p.partition_index, model::no_leader_epoch, req->delete_partitions);
    }
    for (const auto& t : req->topics) {
        for (model::partition_id p : t.partition_indexes) {
            stop(t.name, p, model::no_leader_epoch, req->delete_partitions);
        }
    }
    for (const auto& t : req->topic_states) {
        for (const auto& p : t.partition_states) {
            stop(t.topic_name, p.partition_index, p.leader_epoch, p.delete_partition);
        }
    }
    return respond<protocol::stop_replica_api>(version, out);
}

// As the broker's handler does after applying a partition state: a follower fetches from
// its new leader (a fetch in flight to the old one is forgotten), a leader stops fetching.
void cluster::follow(node& n, const tp_t& tp, node_id leader) {
    if (leader == n.id || leader() < 0) {
        n.following.erase(tp);
        return;
    }
    n.following[tp] = 0;
    start_fetch(n, tp);
}

}  // namespace gregor::sim
