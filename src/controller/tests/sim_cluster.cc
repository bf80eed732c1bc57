#include "controller/tests/sim_cluster.h"

#include "coord/znode_json.h"
#include "coord/znode_paths.h"

#include <boost/asio/post.hpp>

#include <fmt/format.h>

namespace gregor::controller::sim {

namespace asio = boost::asio;

sim_cluster::sim_cluster(int brokers, std::uint64_t seed,
                         std::function<void(controller_config&)> tune)
  : ensemble([this](std::function<void()> fn) { asio::post(ioc, std::move(fn)); }),
    rng(seed),
    tune_(std::move(tune)) {
    for (int i = 1; i <= brokers; ++i) {
        auto n = std::make_unique<sim_node>();
        n->id = model::node_id(i);
        n->model.id = n->id;
        nodes.push_back(std::move(n));
    }
    for (auto& n : nodes) {
        start(*n);
    }
}

sim_cluster::~sim_cluster() {
    net.in_flight.clear();
    for (auto& n : nodes) {
        kill_node(*n, [this] { settle(); });
    }
    settle();
}

void sim_cluster::start(sim_node& n) {
    n.zk = std::make_unique<coord::fake_client>(ensemble);
    controller_config cfg = sim_controller_config(n.id, rng() | 1);
    if (tune_) {
        tune_(cfg);
    }
    controller_hooks hooks;
    model::node_id self = n.id;
    hooks.on_role_change = [this, self](model::controller_epoch e) {
        if (e == model::no_controller_epoch) {
            return;  // resigned
        }
        auto [it, fresh] = activations.emplace(e, self);
        if (!fresh && it->second != self) {
            double_activation = fmt::format("brokers {} and {} both became controller in epoch {}",
                                            it->second(), self(), e());
        }
    };
    start_node(n, ioc, net, cfg, hooks);
}

void sim_cluster::settle() {
    for (;;) {
        ioc.restart();
        if (ioc.poll() == 0) {
            break;
        }
    }
}

void sim_cluster::run(bool shuffle) {
    std::vector<sim_node*> ptrs;
    for (auto& n : nodes) {
        ptrs.push_back(n.get());
    }
    for (int round = 0; round < 1000; ++round) {
        settle();
        if (net.in_flight.empty()) {
            return;
        }
        net.deliver(ptrs, shuffle ? &rng : nullptr);
    }
}

std::vector<model::node_id> sim_cluster::active_controllers() const {
    std::vector<model::node_id> out;
    for (const auto& n : nodes) {
        if (n->alive && n->ctl && n->ctl->active()) {
            out.push_back(n->id);
        }
    }
    return out;
}

void sim_cluster::kill(int id) {
    kill_node(node(id), [this] { settle(); });
}

void sim_cluster::crash(int id) {
    kill_node(
        node(id), [this] { settle(); }, /*keep_session=*/true);
}

void sim_cluster::expire_crashed(int id) {
    static_cast<coord::fake_client&>(*node(id).zk).expire_session();
    node(id).zk.reset();
    settle();
}

void sim_cluster::report_gone(int from, int id) {
    auto it = net.gone.find(model::node_id(from));
    if (it != net.gone.end() && it->second) {
        it->second(model::node_id(id));
    }
}

void sim_cluster::restart(int id) {
    start(node(id));
}

void sim_cluster::expire(int id) {
    // Every session here is a fake_client (start() makes them).
    static_cast<coord::fake_client&>(*node(id).zk).expire_session();
}

void sim_cluster::fail_log_dir(int id, const std::set<model::topic_partition>& offline) {
    sim_node& n = node(id);
    n.model.offline.insert(offline.begin(), offline.end());
    n.zk->create(coord::paths::log_dir_event_sequential(), coord::encode_log_dir_event(n.id),
                 coord::create_mode::persistent_sequential, [](result<std::string>) {});
    settle();
}

void sim_cluster::create_topic_znode(const std::string& name, const coord::replica_map& a) {
    coord::fake_client admin(ensemble);
    coord::topic_assignment t;
    t.partitions = a;
    admin.create(coord::paths::topic(name), coord::encode_topic(t), coord::create_mode::persistent,
                 [](result<std::string>) {});
    settle();
}

std::optional<coord::partition_state> sim_cluster::zk_state(const std::string& topic,
                                                            int p) const {
    auto node = ensemble.peek(coord::paths::partition_state(topic, model::partition_id(p)));
    if (!node) {
        return std::nullopt;
    }
    auto s = coord::decode_partition_state(node->data);
    return s ? std::optional(*s) : std::nullopt;
}

}  // namespace gregor::controller::sim
