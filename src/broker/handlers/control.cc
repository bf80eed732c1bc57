// The controller-facing handlers: UpdateMetadata, LeaderAndIsr, StopReplica.
#include "broker/handlers/leader_and_isr.h"
#include "broker/handlers/stop_replica.h"
#include "broker/handlers/update_metadata.h"
#include "broker/logger.h"
#include "broker/replica_fetchers.h"
#include "broker/topic_configs.h"
#include "controller/zk_await.h"
#include "coord/errc.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "group/partitioner.h"
#include "group/service.h"
#include "net/loop_budget.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

namespace gregor::broker {
namespace {

using model::kafka_error;
using um_request = protocol::update_metadata_request;

cached_broker to_cached(const um_request::update_metadata_broker& b, std::int16_t version) {
    cached_broker out{b.id, {}, b.rack};
    if (version == 0) {
        out.endpoints.push_back({"PLAINTEXT", b.v0_host, b.v0_port, 0});
    }
    for (const auto& e : b.endpoints) {
        // Before v3 the listener is named after its security protocol (0 = PLAINTEXT).
        std::string name = version >= 3 ? e.listener : std::string("PLAINTEXT");
        out.endpoints.push_back({std::move(name), e.host, e.port, e.security_protocol});
    }
    return out;
}

// Kafka registers a broker before it serves requests; here the listeners open first (their
// ports go into the registration). A control request stamped with a broker epoch that
// reaches this run before it has registered waits for the registration (polled, at most
// 30 s) before the epoch check: one for this run then passes, one for an earlier run (whose
// registration may linger after a kill -9) is refused.
constexpr auto registration_poll = std::chrono::milliseconds(20);
constexpr int registration_polls_max = 1500;  // 30 s

asio::awaitable<void> await_registration(services& s, model::broker_epoch requested) {
    if (requested == model::no_broker_epoch) {
        co_return;
    }
    for (int i = 0; i < registration_polls_max && s.broker_epoch == model::no_broker_epoch; ++i) {
        asio::steady_timer t(co_await asio::this_coro::executor, registration_poll);
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void apply_partition(metadata_cache& cache, const std::string& topic,
                     const protocol::update_metadata_partition_state& p) {
    cache.update_partition(topic, p.partition_index,
                           cached_partition{p.leader, p.leader_epoch, p.controller_epoch,
                                            p.zk_version, p.isr, p.replicas, p.offline_replicas});
}

}  // namespace

handler_result<protocol::update_metadata_response> handle(services& s, request_context& ctx,
                                                          protocol::update_metadata_request req) {
    protocol::update_metadata_response out;
    co_await await_registration(s, req.broker_epoch);
    kafka_error e =
        s.replicas.check_control_request(req.controller_epoch, req.broker_epoch, s.broker_epoch);
    if (e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        co_return out;
    }
    std::vector<cached_broker> brokers;
    bool same_brokers = req.live_brokers.size() == s.cache.brokers().size();
    for (const auto& b : req.live_brokers) {
        brokers.push_back(to_cached(b, ctx.version()));
        same_brokers = same_brokers && s.cache.alive(brokers.back().id);
    }
    s.cache.set_brokers(std::move(brokers));
    if (!same_brokers) {
        // A broker that came back may join ISRs now: its fetch sessions read everything.
        s.replicas.changed_all();
    }
    s.cache.set_controller(req.controller_id, req.controller_epoch,
                           s.now ? s.now() : model::timestamp_ms(0));
    for (const auto& p : req.ungrouped_partition_states) {
        apply_partition(s.cache, p.topic_name, p);
    }
    for (const auto& t : req.topic_states) {
        for (const auto& p : t.partition_states) {
            apply_partition(s.cache, t.topic_name, p);
        }
    }
    if (s.groups != nullptr) {
        if (const auto* parts = s.cache.topic(std::string(group::offsets_topic_name))) {
            s.groups->set_partition_count(static_cast<std::int32_t>(parts->size()));
        }
    }
    co_return out;
}

namespace {

using lai_response = protocol::leader_and_isr_response;
using lai_request = protocol::leader_and_isr_request;

// Leading a `__consumer_offsets` partition makes this broker the coordinator of its groups
// (the leader epoch is the coordinator epoch); following it or dropping it ends that.
void follow_offsets_leadership(services& s, const partition_assignment& a) {
    if (s.groups == nullptr || a.tp.topic != group::offsets_topic_name) {
        return;
    }
    if (a.leader == s.replicas.self()) {
        s.groups->became_leader(a.tp.partition, a.leader_epoch);
    } else {
        s.groups->resigned(a.tp.partition, a.leader_epoch);
    }
}

kafka_error apply_state(services& s, const std::string& topic,
                        const protocol::leader_and_isr_partition_state& p) {
    partition_assignment a = to_assignment(topic, p);
    kafka_error e = s.replicas.apply(a, s.now());
    if (e == kafka_error::none) {
        follow_offsets_leadership(s, a);
    }
    if (s.fetchers == nullptr || e != kafka_error::none) {
        return e;
    }
    if (p.leader == s.replicas.self()) {
        s.fetchers->unfollow(a.tp);
    } else if (p.leader() >= 0) {
        s.fetchers->follow(a.tp, p.leader);
    } else {
        s.fetchers->unfollow(a.tp);  // no leader: nothing to fetch from until one is elected
    }
    return e;
}

std::vector<std::string> topics_of(const lai_request& req) {
    std::vector<std::string> out;
    for (const auto& p : req.ungrouped_partition_states) {
        out.push_back(p.topic_name);
    }
    for (const auto& t : req.topic_states) {
        out.push_back(t.topic_name);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Reads the overrides of topics this broker has not seen yet, before their partitions are
// applied (min.insync.replicas must hold from the first produce).
asio::awaitable<void> load_topic_configs(services& s, const std::vector<std::string>& topics) {
    if (s.zk == nullptr || s.topics == nullptr) {
        co_return;
    }
    bool loaded = false;
    for (const std::string& topic : topics) {
        if (s.topics->known(topic)) {
            continue;
        }
        const std::string path = coord::paths::topic_config(topic);
        const coord::watch_fn no_watch;
        auto node = co_await controller::zk::get(*s.zk, path, no_watch);
        storage::config_map overrides;
        if (node) {
            auto decoded = coord::decode_entity_config(node->data);
            if (decoded) {
                overrides = std::move(*decoded);
            } else {
                GREGOR_LOG(broker_log, warn, "topic {}: unreadable {}: {}", topic, path,
                           decoded.err().to_string());
            }
        } else if (node.code() != coord::errc::no_node) {
            GREGOR_LOG(broker_log, warn, "topic {}: cannot read {}: {}; using broker defaults",
                       topic, path, node.err().to_string());
            continue;  // asked again with the next LeaderAndIsr
        }
        s.topics->set(topic, std::move(overrides));
        loaded = true;
    }
    if (loaded) {
        s.replicas.reload_configs();
    }
}

// Gives the loop a turn when `budget` is used up. True iff a newer controller was heard
// meanwhile: what is left of a request from `epoch` is stale.
asio::awaitable<bool> newer_controller_after_turn(net::loop_budget& budget, const services& s,
                                                  model::controller_epoch epoch) {
    if (!budget.due()) {
        co_return false;
    }
    co_await budget.yield();
    co_return s.replicas.controller_epoch() != epoch;
}

}  // namespace

partition_assignment to_assignment(const std::string& topic,
                                   const protocol::leader_and_isr_partition_state& p) {
    return partition_assignment{{topic, p.partition_index},
                                p.leader,
                                p.leader_epoch,
                                p.isr,
                                p.replicas,
                                p.is_new,
                                p.partition_epoch,
                                p.leader_recovery_state == 1};
}

handler_result<lai_response> handle(services& s, request_context& ctx, lai_request req) {
    lai_response out;
    co_await await_registration(s, req.broker_epoch);
    kafka_error e =
        s.replicas.check_control_request(req.controller_epoch, req.broker_epoch, s.broker_epoch);
    if (e != kafka_error::none) {
        GREGOR_LOG(broker_log, warn, "refusing LeaderAndIsr from controller {} epoch {}: {}",
                   req.controller_id(), req.controller_epoch(), static_cast<int>(e));
        out.error_code = model::to_wire(e);
        co_return out;
    }
    const std::vector<std::string> topics = topics_of(req);
    co_await load_topic_configs(s, topics);
    if (s.fetchers != nullptr) {
        for (const auto& l : req.live_leaders) {
            s.fetchers->set_endpoint(l.broker_id, l.host_name, l.port);
        }
    }
    // Thousands of partitions take seconds (each new one creates a log): the loop is given
    // back between them, and a newer controller heard meanwhile makes the rest stale.
    net::loop_budget budget;
    bool stale = false;
    auto apply_one = [&](const std::string& topic,
                         const protocol::leader_and_isr_partition_state& p) {
        return model::to_wire(stale ? kafka_error::stale_controller_epoch
                                    : apply_state(s, topic, p));
    };
    for (const auto& p : req.ungrouped_partition_states) {
        out.partition_errors.push_back(
            {p.topic_name, p.partition_index, apply_one(p.topic_name, p), {}});
        stale = co_await newer_controller_after_turn(budget, s, req.controller_epoch) || stale;
    }
    for (const auto& t : req.topic_states) {
        lai_response::leader_and_isr_topic_error te{t.topic_id, {}, {}};
        for (const auto& p : t.partition_states) {
            protocol::leader_and_isr_partition_error pe{
                t.topic_name, p.partition_index, apply_one(t.topic_name, p), {}};
            stale = co_await newer_controller_after_turn(budget, s, req.controller_epoch) || stale;
            if (ctx.version() >= 5) {
                te.partition_errors.push_back(std::move(pe));
            } else {
                out.partition_errors.push_back(std::move(pe));
            }
        }
        if (ctx.version() >= 5) {
            out.topics.push_back(std::move(te));
        }
    }
    s.replicas.notify();  // waiting produces and fetches re-check leadership
    co_return out;
}

handler_result<protocol::stop_replica_response> handle(services& s, request_context& /*ctx*/,
                                                       protocol::stop_replica_request req) {
    protocol::stop_replica_response out;
    co_await await_registration(s, req.broker_epoch);
    kafka_error e =
        s.replicas.check_control_request(req.controller_epoch, req.broker_epoch, s.broker_epoch);
    if (e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        co_return out;
    }
    net::loop_budget budget;
    bool stale = false;
    auto stop = [&](const std::string& topic, model::partition_id p, model::leader_epoch epoch,
                    bool remove) {
        if (stale) {
            out.partition_errors.push_back(
                {topic, p, model::to_wire(kafka_error::stale_controller_epoch), {}});
            return;
        }
        if (s.fetchers != nullptr) {
            s.fetchers->unfollow({topic, p});
        }
        if (remove && s.topics != nullptr) {
            s.topics->forget(topic);  // a topic created again under this name starts afresh
        }
        kafka_error pe = s.replicas.stop({topic, p}, epoch, remove);
        if (s.groups != nullptr && topic == group::offsets_topic_name && pe == kafka_error::none) {
            s.groups->resigned(p, epoch() >= 0 ? std::optional(epoch) : std::nullopt);
        }
        out.partition_errors.push_back({topic, p, model::to_wire(pe), {}});
    };
    // As LeaderAndIsr does: the loop is given back between partitions (each deletion renames
    // a directory), and a newer controller heard meanwhile makes the rest stale.
    auto give_way = [&]() -> asio::awaitable<void> {
        stale = co_await newer_controller_after_turn(budget, s, req.controller_epoch) || stale;
    };
    for (const auto& p : req.ungrouped_partitions) {
        stop(p.topic_name, p.partition_index, model::no_leader_epoch, req.delete_partitions);
        co_await give_way();
    }
    for (const auto& t : req.topics) {
        for (model::partition_id p : t.partition_indexes) {
            stop(t.name, p, model::no_leader_epoch, req.delete_partitions);
            co_await give_way();
        }
    }
    for (const auto& t : req.topic_states) {
        for (const auto& p : t.partition_states) {
            stop(t.topic_name, p.partition_index, p.leader_epoch, p.delete_partition);
            co_await give_way();
        }
    }
    s.replicas.notify();
    co_return out;
}

}  // namespace gregor::broker
