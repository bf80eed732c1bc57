#include "cluster/zk_view.h"

#include "cluster/errc.h"
#include "coord/errc.h"
#include "coord/zk_client.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::cluster {
namespace {

// Returns true iff `e` means the znode is absent (not a failure to read it).
bool is_no_node(const error& e) {
    return e.code == coord::errc::no_node;
}

}  // namespace

bool cluster_ready(const cluster_view& v, std::span<const std::int32_t> expected) {
    return readiness_gap(v, expected).empty();
}

std::string readiness_gap(const cluster_view& v, std::span<const std::int32_t> expected) {
    std::string missing;
    for (auto id : expected) {
        if (!std::binary_search(v.registered.begin(), v.registered.end(), id)) {
            missing += fmt::format("{}{}", missing.empty() ? "" : ", ", id);
        }
    }
    if (!missing.empty()) {
        return fmt::format("broker(s) {} to register in /brokers/ids", missing);
    }
    if (!v.controller) {
        return "a controller to be elected (/controller)";
    }
    return "";
}

zk_view::zk_view() = default;

zk_view::~zk_view() {
    client_.reset();
    ioc_.restart();
    ioc_.poll();
}

template <class T, class Start>
result<T> zk_view::await(Start start) {
    std::optional<result<T>> got;
    start([&got](result<T> r) { got.emplace(std::move(r)); });
    auto end = std::chrono::steady_clock::now() + op_timeout_;
    while (!got && std::chrono::steady_clock::now() < end) {
        ioc_.restart();
        ioc_.run_one_for(std::chrono::milliseconds(50));
    }
    if (!got) {
        return error(errc::timed_out, "ZooKeeper did not answer");
    }
    return std::move(*got);
}

result<std::unique_ptr<zk_view>> zk_view::connect(const std::string& connect_string,
                                                  std::chrono::milliseconds timeout) {
    std::unique_ptr<zk_view> v(new zk_view());
    coord::zk_config cfg;
    cfg.connect = connect_string;
    cfg.session_timeout = std::chrono::milliseconds(10000);
    cfg.connection_timeout = timeout;
    v->client_ = std::make_unique<coord::zk_client>(v->ioc_, cfg);
    v->op_timeout_ = timeout + std::chrono::seconds(5);
    auto started =
        v->await<void>([&](coord::callback<void> done) { v->client_->start(std::move(done)); });
    if (!started) {
        return error(errc::timed_out, fmt::format("cannot reach ZooKeeper at {}: {}",
                                                  connect_string, started.err().to_string()));
    }
    return v;
}

result<cluster_view> zk_view::read() {
    cluster_view v;
    auto ids = await<coord::children>([&](coord::callback<coord::children> done) {
        client_->get_children(std::string(coord::paths::brokers_ids), {}, std::move(done));
    });
    if (ids) {
        for (const auto& name : ids->names) {
            if (auto id = coord::paths::parse_broker_id(name)) {
                v.registered.push_back(id->value());
            }
        }
        std::sort(v.registered.begin(), v.registered.end());
    } else if (!is_no_node(ids.err())) {
        return ids.err();
    }
    auto get = [&](std::string_view path) {
        return await<coord::node_data>([&](coord::callback<coord::node_data> done) {
            client_->get(std::string(path), {}, std::move(done));
        });
    };
    auto controller = get(coord::paths::controller);
    if (controller) {
        if (auto c = coord::decode_controller(controller->data)) {
            v.controller = c->broker.value();
        }
    } else if (!is_no_node(controller.err())) {
        return controller.err();
    }
    if (auto epoch = get(coord::paths::controller_epoch)) {
        if (auto e = coord::decode_controller_epoch(epoch->data)) {
            v.controller_epoch = e->value();
        }
    }
    if (auto id = get(coord::paths::cluster_id)) {
        if (auto c = coord::decode_cluster_id(id->data)) {
            v.cluster_id = *c;
        }
    }
    return v;
}

}  // namespace gregor::cluster
