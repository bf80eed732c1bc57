#include "controller/tests/sim_broker.h"

#include "model/kafka_error.h"
#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace gregor::controller::sim {
namespace {

namespace asio = boost::asio;
using model::kafka_error;

class sim_channels final : public broker_channels {
public:
    sim_channels(asio::io_context& ioc, sim_network& net, model::node_id from)
      : ioc_(ioc), net_(net), from_(from) {}
    void add_broker(model::node_id id, const std::string&, std::int32_t) override {
        targets_.insert(id);
    }
    void remove_broker(model::node_id id) override {
        targets_.erase(id);
        for (auto& m : net_.in_flight) {
            if (m.from == from_ && m.to == id && m.done) {
                asio::post(ioc_, [d = std::move(m.done)] { d(error(coord::errc::closed, "removed")); });
            }
        }
    }
    void send(model::node_id id, bytes message, completion done) override {
        if (!targets_.contains(id)) {
            asio::post(ioc_, [d = std::move(done)] { d(error(coord::errc::closed, "no channel")); });
            return;
        }
        net_.in_flight.push_back({from_, id, std::move(message), std::move(done)});
    }
    std::size_t pending(model::node_id) const override { return 0; }
    void watch_processes(process_gone gone) override { net_.gone[from_] = std::move(gone); }

private:
    asio::io_context& ioc_;
    sim_network& net_;
    model::node_id from_;
    std::set<model::node_id> targets_;
};

template <class Api>
bytes respond(std::int16_t version, const typename Api::response_type& body) {
    auto frame = protocol::encode_response_frame<Api>(0, version, body);
    bytes flat = frame->flatten();
    return bytes(flat.begin() + 4, flat.end());
}

// The broker-side fencing rules (as broker::replica_manager applies them).
kafka_error fence(broker_model& b, model::controller_epoch ce, model::broker_epoch be,
                  model::node_id from) {
    if (ce < b.controller_epoch) {
        return kafka_error::stale_controller_epoch;
    }
    if (be != model::no_broker_epoch && be < b.epoch) {
        return kafka_error::stale_broker_epoch;
    }
    b.controller_epoch = ce;
    b.applied.emplace_back(ce, from);
    return kafka_error::none;
}

bytes apply(broker_model& b, bytes_view request) {
    protocol::reader r(request);
    auto h = protocol::decode_request_header(r);
    if (h->api_key == protocol::leader_and_isr_api::key) {
        auto req = protocol::decode_exact<protocol::leader_and_isr_request>(r, h->api_version);
        protocol::leader_and_isr_response out;
        out.error_code = static_cast<std::int16_t>(
            fence(b, req->controller_epoch, req->broker_epoch, req->controller_id));
        if (out.error_code == 0) {
            for (const auto& t : req->topic_states) {
                auto& errors = out.topics.emplace_back();
                errors.topic_id = t.topic_id;
                for (const auto& p : t.partition_states) {
                    model::topic_partition tp{t.topic_name, p.partition_index};
                    auto& pe = errors.partition_errors.emplace_back();
                    pe.partition_index = p.partition_index;
                    if (b.offline.contains(tp)) {
                        pe.error_code = model::to_wire(kafka_error::kafka_storage_error);
                        continue;
                    }
                    auto& bp = b.partitions[tp];
                    if (p.leader_epoch > bp.leader_epoch || bp.deleted) {
                        bp = {p.leader, p.leader_epoch, p.isr, false, false, {}};
                    }
                }
            }
        }
        return respond<protocol::leader_and_isr_api>(h->api_version, out);
    }
    if (h->api_key == protocol::update_metadata_api::key) {
        auto req = protocol::decode_exact<protocol::update_metadata_request>(r, h->api_version);
        protocol::update_metadata_response out;
        out.error_code = static_cast<std::int16_t>(
            fence(b, req->controller_epoch, req->broker_epoch, req->controller_id));
        if (out.error_code == 0) {
            b.controller = req->controller_id;
            b.live_brokers.clear();
            for (const auto& lb : req->live_brokers) {
                b.live_brokers.insert(lb.id);
            }
            for (const auto& t : req->topic_states) {
                for (const auto& p : t.partition_states) {
                    model::topic_partition tp{t.topic_name, p.partition_index};
                    if (p.leader == model::node_id(-2)) {
                        b.metadata.erase(tp);
                    } else {
                        b.metadata[tp] = {p.leader, p.leader_epoch, p.isr, false, false,
                                          p.offline_replicas};
                    }
                }
            }
        }
        return respond<protocol::update_metadata_api>(h->api_version, out);
    }
    auto req = protocol::decode_exact<protocol::stop_replica_request>(r, h->api_version);
    protocol::stop_replica_response out;
    out.error_code = static_cast<std::int16_t>(
        fence(b, req->controller_epoch, req->broker_epoch, req->controller_id));
    if (out.error_code == 0) {
        for (const auto& t : req->topic_states) {
            for (const auto& p : t.partition_states) {
                auto& bp = b.partitions[{t.topic_name, p.partition_index}];
                if (p.delete_partition) {
                    bp.deleted = true;
                } else if (p.leader_epoch() < 0 || p.leader_epoch >= bp.leader_epoch) {
                    bp.stopped = true;  // as a broker does: -1 and -2 always apply
                }
                out.partition_errors.push_back({t.topic_name, p.partition_index, 0, {}});
            }
        }
    }
    return respond<protocol::stop_replica_api>(h->api_version, out);
}

coord::broker_info info_for(model::node_id id) {
    coord::broker_info b;
    b.timestamp = model::timestamp_ms(1);
    b.endpoints.push_back({"PLAINTEXT", "127.0.0.1", 9090 + id(), "PLAINTEXT"});
    return b;
}

}  // namespace

void sim_network::deliver(std::vector<sim_node*>& nodes, std::mt19937_64* shuffle) {
    std::vector<message> batch(std::make_move_iterator(in_flight.begin()),
                               std::make_move_iterator(in_flight.end()));
    in_flight.clear();
    if (shuffle != nullptr) {
        std::shuffle(batch.begin(), batch.end(), *shuffle);
    }
    for (auto& m : batch) {
        if (!m.done) {
            continue;  // its channel was removed
        }
        sim_node* to = nullptr;
        for (sim_node* n : nodes) {
            if (n->id == m.to) {
                to = n;
            }
        }
        if (to == nullptr || !to->alive) {
            m.done(error(coord::errc::closed, "broker down"));
            continue;
        }
        m.done(apply(to->model, bytes_view(m.request)));
    }
}

void sim_network::drop_all() {
    for (auto& m : in_flight) {
        if (m.done) {
            m.done(error(coord::errc::closed, "dropped"));
        }
    }
    in_flight.clear();
}

controller_config sim_controller_config(model::node_id self, std::uint64_t assignment_seed) {
    controller_config cfg;
    cfg.self = self;
    cfg.now = [] { return model::timestamp_ms(1); };
    cfg.assignment_seed = assignment_seed;
    cfg.auto_leader_rebalance = false;
    return cfg;
}

void start_node(sim_node& n, asio::io_context& ioc, sim_network& net,
                const controller_config& cfg, const controller_hooks& hooks) {
    n.alive = true;
    n.channels = std::make_unique<sim_channels>(ioc, net, n.id);
    n.ctl = std::make_unique<controller>(ioc, *n.zk, *n.channels, cfg, hooks);
    sim_node* np = &n;
    coord::registration_handlers h;
    h.on_registered = [np](model::broker_epoch e) {
        np->model.epoch = e;
        if (!np->ctl_started) {
            np->ctl_started = true;
            np->ctl->start();
        }
    };
    h.on_fatal = [](const error&) {};
    n.ctl_started = false;
    n.registration = std::make_unique<coord::broker_registration>(
        *n.zk, n.id, info_for(n.id), [] { return std::array<std::uint8_t, 16>{1, 2, 3}; },
        std::move(h));
    n.registration->start();
}

void kill_node(sim_node& n, const std::function<void()>& settle, bool keep_session) {
    n.alive = false;
    n.registration.reset();
    n.ctl.reset();
    settle();
    if (!keep_session) {
        n.zk.reset();  // closing the session removes its ephemerals
    }
    n.model = broker_model{};
    n.model.id = n.id;
}

}  // namespace gregor::controller::sim
