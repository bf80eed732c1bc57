#include "integration/replication/replication_cluster.h"

#include "integration/replication/partition_reader.h"
#include "protocol/messages/all.h"

#include <fmt/format.h>

#include <sstream>

namespace gregor::test {

using namespace std::chrono_literals;

namespace {

constexpr auto start_limit = 90s;
constexpr std::int16_t not_controller = 41;

std::map<std::string, std::string> broker_settings(int id, const std::string& zk) {
    return {{"broker.id", std::to_string(id)},
            {"zookeeper.connect", zk},
            {"zookeeper.session.timeout.ms", "4000"},
            {"replica.lag.time.max.ms", "3000"},
            {"replica.fetch.wait.max.ms", "100"},
            {"auto.create.topics.enable", "false"},
            {"controlled.shutdown.retry.backoff.ms", "200"}};
}

std::int16_t send_create_topics(std::uint16_t port, const std::string& topic,
                                const std::map<std::string, std::string>& configs) {
    protocol::create_topics_request req;
    protocol::create_topics_request::creatable_topic t;
    t.name = topic;
    t.num_partitions = 1;
    t.replication_factor = replication_cluster::broker_count;
    for (const auto& [k, v] : configs) {
        t.configs.push_back({k, v, {}});
    }
    req.topics.push_back(t);
    req.timeout_ms = 30000;
    try {
        kafka_socket s(port);
        bytes raw = s.call(protocol::create_topics_api::key, 5, req);
        protocol::reader r(raw);
        auto resp = protocol::create_topics_response::decode(r, 5);
        if (!resp || resp->topics.empty()) {
            return -1;
        }
        return resp->topics[0].error_code;
    } catch (const std::exception&) {
        return not_controller;  // the controller just went away: ask the next one
    }
}

}  // namespace

replication_cluster::replication_cluster(std::map<std::string, std::string> extra) {
    for (int id = 1; id <= broker_count; ++id) {
        auto settings = broker_settings(id, zk_server_.connect_string());
        for (const auto& [k, v] : extra) {
            settings[k] = v;
        }
        brokers_[id] = std::make_unique<broker_process>(settings);
    }
    zk_ = std::make_unique<zk_reader>(zk_server_.connect_string());
    if (!wait_ready(start_limit)) {
        throw std::runtime_error("the cluster did not come up:\n" + logs());
    }
}

bool replication_cluster::wait_ready(std::chrono::milliseconds limit) {
    for (auto& [id, b] : brokers_) {
        if (!b->wait_listening(limit)) {
            return false;
        }
    }
    return zk_->wait_for(
        [&] {
            if (!controller()) {
                return false;
            }
            for (int id = 1; id <= broker_count; ++id) {
                if (!zk_->get("/brokers/ids/" + std::to_string(id))) {
                    return false;
                }
            }
            return true;
        },
        limit);
}

std::optional<int> replication_cluster::controller() {
    auto node = zk_->get("/controller");
    if (!node) {
        return std::nullopt;
    }
    auto c = coord::decode_controller(node->data);
    return c ? std::optional(c->broker()) : std::nullopt;
}

int replication_cluster::controller_epoch() {
    auto node = zk_->get("/controller_epoch");
    if (!node) {
        return -1;
    }
    auto e = coord::decode_controller_epoch(node->data);
    return e ? (*e)() : -1;
}

std::string replication_cluster::bootstrap() const {
    std::string out;
    for (const auto& [id, b] : brokers_) {
        out += fmt::format("{}127.0.0.1:{}", out.empty() ? "" : ",", b->port());
    }
    return out;
}

std::vector<std::uint16_t> replication_cluster::ports() const {
    std::vector<std::uint16_t> out;
    for (const auto& [id, b] : brokers_) {
        out.push_back(b->port());
    }
    return out;
}

std::string replication_cluster::create_topic(const std::string& topic,
                                              const std::map<std::string, std::string>& configs) {
    std::int16_t error = not_controller;
    bool answered = zk_->wait_for(
        [&] {
            auto ctl = controller();
            if (!ctl) {
                return false;
            }
            error = send_create_topics(brokers_.at(*ctl)->port(), topic, configs);
            return error != not_controller;
        },
        start_limit);
    if (!answered || error != 0) {
        return fmt::format("CreateTopics failed with error {}", error);
    }
    bool led = zk_->wait_for(
        [&] {
            auto s = state(topic);
            if (!s || s->isr.size() != broker_count) {
                return false;
            }
            for (const auto& [id, b] : brokers_) {
                auto l = leader_of(b->port(), topic, 0);
                if (!l || l->id != s->leader()) {
                    return false;
                }
            }
            return true;
        },
        start_limit);
    return led ? "" : "the topic never got a leader known to every broker";
}

std::optional<coord::partition_state> replication_cluster::state(const std::string& topic) {
    auto node = zk_->get("/brokers/topics/" + topic + "/partitions/0/state");
    if (!node) {
        return std::nullopt;
    }
    auto s = coord::decode_partition_state(node->data);
    return s ? std::optional(*s) : std::nullopt;
}

bool replication_cluster::wait_state(
    const std::string& topic, const std::function<bool(const coord::partition_state&)>& pred,
    std::chrono::milliseconds limit) {
    return zk_->wait_for(
        [&] {
            auto s = state(topic);
            return s && pred(*s);
        },
        limit);
}

bool replication_cluster::wait_isr(const std::string& topic, const std::set<int>& isr,
                                   std::chrono::milliseconds limit) {
    return wait_state(
        topic,
        [&](const coord::partition_state& s) {
            std::set<int> now;
            for (auto id : s.isr) {
                now.insert(id());
            }
            return now == isr;
        },
        limit);
}

int replication_cluster::leader(const std::string& topic) {
    auto s = state(topic);
    return s ? s->leader() : -1;
}

int replication_cluster::wait_new_leader(const std::string& topic, int old,
                                         const std::set<int>& live,
                                         std::chrono::milliseconds limit) {
    int fresh = -1;
    bool moved = zk_->wait_for(
        [&] {
            fresh = leader(topic);
            if (fresh == old || !live.contains(fresh)) {
                return false;
            }
            for (int id : live) {
                auto l = leader_of(brokers_.at(id)->port(), topic, 0);
                if (!l || l->id != fresh) {
                    return false;
                }
            }
            return true;
        },
        limit);
    return moved ? fresh : -1;
}

bool replication_cluster::wait_registered(int id, std::chrono::milliseconds limit) {
    if (!brokers_.at(id)->wait_listening(limit)) {
        return false;
    }
    return zk_->wait_for([&] { return zk_->get("/brokers/ids/" + std::to_string(id)).has_value(); },
                         limit);
}

std::string replication_cluster::logs() const {
    std::string out;
    for (const auto& [id, b] : brokers_) {
        out += fmt::format("--- broker {}\n{}", id, b->log());
    }
    return out;
}

std::string replication_cluster::log_lines(const std::string& needle) const {
    std::string out;
    for (const auto& [id, b] : brokers_) {
        std::istringstream in(b->log());
        for (std::string line; std::getline(in, line);) {
            if (line.find(needle) != std::string::npos) {
                out += fmt::format("[broker {}] {}\n", id, line);
            }
        }
    }
    return out;
}

std::filesystem::path replication_cluster::partition_dir(int id, const std::string& topic) const {
    return brokers_.at(id)->data_dir() / (topic + "-0");
}

}  // namespace gregor::test
