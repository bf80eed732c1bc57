// The failover workload: creates --partitions partitions, finds the controller (Metadata's
// controller id), kills it with --kill-cmd, then asks every surviving broker for Metadata
// every 10 ms and reports when each phase was first seen, counted from the kill. With
// --produce, a producer sends round-robin to every partition at --rate throughout, and each
// partition's unavailability window is the time between its last acknowledged record before
// the kill and its first one after.
#include "bench/errc.h"
#include "bench/failover_producer.h"
#include "bench/kafka.h"
#include "bench/metadata_probe.h"
#include "bench/workloads.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <thread>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto poll_interval = std::chrono::milliseconds(10);
constexpr auto probe_timeout = std::chrono::milliseconds(200);
constexpr auto producer_settle = std::chrono::seconds(1);
constexpr int default_partitions = 100;
constexpr int replication_factor_max = 3;

struct broker_address {
    std::string host;
    int port = 0;
};

// Phases in the order they normally happen; each is stamped once, when first seen.
enum phase_id { controller_gone, new_controller, all_led, consistent, phase_count };
constexpr const char* phase_names[phase_count] = {
    "controller gone (no survivor names it)", "new controller seen",
    "every partition led by a live broker", "every broker's metadata consistent"};

bool led_by_live(const cluster_view& v, std::size_t partitions, int dead) {
    if (v.leaders.size() != partitions) {
        return false;
    }
    return std::all_of(v.leaders.begin(), v.leaders.end(),
                       [&](int l) { return l >= 0 && l != dead; });
}

// Stamps the phases that the views of every survivor (nullopt: it did not answer) show now.
void stamp(const std::vector<std::optional<cluster_view>>& views, int dead, std::size_t partitions,
           double at_ms, std::array<std::optional<double>, phase_count>& at) {
    bool all_answered =
        std::all_of(views.begin(), views.end(), [](auto& v) { return v.has_value(); });
    bool none_names_dead = std::all_of(views.begin(), views.end(),
                                       [&](auto& v) { return v && v->controller != dead; });
    bool some_new = std::any_of(views.begin(), views.end(), [&](auto& v) {
        return v && v->controller >= 0 && v->controller != dead;
    });
    bool some_led = std::any_of(views.begin(), views.end(),
                                [&](auto& v) { return v && led_by_live(*v, partitions, dead); });
    bool same = all_answered && std::all_of(views.begin(), views.end(), [&](auto& v) {
                    return v->controller == views[0]->controller &&
                           v->leaders == views[0]->leaders && v->brokers == views[0]->brokers;
                });
    bool agreed = same && led_by_live(*views[0], partitions, dead) && views[0]->controller >= 0 &&
                  views[0]->controller != dead &&
                  !std::binary_search(views[0]->brokers.begin(), views[0]->brokers.end(), dead);
    const bool seen[phase_count] = {none_names_dead, some_new, some_led, agreed};
    for (int p = 0; p < phase_count; ++p) {
        if (seen[p] && !at[static_cast<std::size_t>(p)]) {
            at[static_cast<std::size_t>(p)] = at_ms;
        }
    }
}

result<std::map<int, broker_address>> brokers_of(rd_kafka_t* rk, const options& o,
                                                 const client_log& log) {
    GREGOR_TRY(metadata_handle md, fetch_metadata(rk, o.bootstrap, timeout_of(o), log));
    std::map<int, broker_address> out;
    for (int i = 0; i < md->broker_cnt; ++i) {
        out[md->brokers[i].id] = {md->brokers[i].host, md->brokers[i].port};
    }
    return out;
}

// The first answer naming a controller: who it is and who leads what.
result<cluster_view> find_controller(const std::map<int, broker_address>& brokers,
                                     const options& o) {
    for (const auto& [id, addr] : brokers) {
        metadata_probe probe(addr.host, addr.port);
        auto v = probe.ask(o.topic, probe_timeout);
        if (v && v->controller >= 0) {
            return std::move(*v);
        }
    }
    return error(errc::topic_unavailable, "no broker names a controller");
}

std::string kill_command(const std::string& tmpl, int id) {
    std::string out = tmpl;
    for (auto pos = out.find("{id}"); pos != std::string::npos; pos = out.find("{id}", pos)) {
        out.replace(pos, 4, std::to_string(id));
    }
    return out;
}

// Polls the survivors until every phase was seen or --timeout passed.
std::array<std::optional<double>, phase_count> watch(const std::map<int, broker_address>& brokers,
                                                     int dead, std::size_t partitions,
                                                     const options& o,
                                                     clock_type::time_point killed) {
    std::vector<std::unique_ptr<metadata_probe>> probes;
    for (const auto& [id, addr] : brokers) {
        if (id != dead) {
            probes.push_back(std::make_unique<metadata_probe>(addr.host, addr.port));
        }
    }
    std::array<std::optional<double>, phase_count> at;
    while (!at[consistent] && clock_type::now() - killed < timeout_of(o)) {
        std::vector<std::optional<cluster_view>> views;
        for (auto& p : probes) {
            auto v = p->ask(o.topic, probe_timeout);
            views.push_back(v ? std::optional<cluster_view>(std::move(*v)) : std::nullopt);
        }
        double at_ms =
            std::chrono::duration<double, std::milli>(clock_type::now() - killed).count();
        stamp(views, dead, partitions, at_ms, at);
        std::this_thread::sleep_for(poll_interval);
    }
    return at;
}

options with_failover_defaults(const options& raw, std::size_t broker_count) {
    options o = raw;
    o.partitions = o.partitions.value_or(default_partitions);
    if (!o.replication_factor) {
        o.replication_factor =
            static_cast<int>(std::min<std::size_t>(replication_factor_max, broker_count));
    }
    return o;
}

}  // namespace

result<report> run_failover(const options& raw) {
    client_log log;
    GREGOR_TRY(conf_handle conf, make_conf(raw, log, {}));
    GREGOR_TRY(kafka_handle admin, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    GREGOR_TRY(auto brokers, brokers_of(admin.get(), raw, log));
    options o = with_failover_defaults(raw, brokers.size());
    report r;
    r.workload = "failover";
    if (brokers.size() < 2) {
        return error(errc::topic_unavailable, "failover needs at least two brokers");
    }
    GREGOR_TRY(topic_layout layout, ensure_topic(admin.get(), o, log, r.notes));
    GREGOR_TRY(cluster_view before, find_controller(brokers, o));
    int victim = before.controller;
    auto led_by_victim = std::count(before.leaders.begin(), before.leaders.end(), victim);
    std::unique_ptr<failover_producer> producer;
    if (o.with_producer) {
        GREGOR_TRY(producer, failover_producer::start(o, layout.leaders.size()));
        std::this_thread::sleep_for(producer_settle);
    }
    std::string cmd = kill_command(o.kill_cmd, victim);
    auto killed = clock_type::now();
    if (producer) {
        producer->mark_kill(killed);
    }
    int status = std::system(cmd.c_str());
    if (status != 0) {
        return error(errc::client_error,
                     fmt::format("--kill-cmd '{}' exited with {}", cmd, status));
    }
    auto at = watch(brokers, victim, layout.leaders.size(), o, killed);
    r.parameters = {{"bootstrap", o.bootstrap},
                    {"topic", o.topic},
                    {"partitions", layout.leaders.size()},
                    {"brokers", brokers.size()},
                    {"replication_factor", *o.replication_factor},
                    {"killed_controller", victim},
                    {"partitions_led_by_killed", led_by_victim},
                    {"kill_cmd", cmd}};
    for (int p = 0; p < phase_count; ++p) {
        if (at[static_cast<std::size_t>(p)]) {
            r.phases.push_back({phase_names[p], *at[static_cast<std::size_t>(p)]});
        }
    }
    if (producer) {
        producer->finish(r);
    }
    if (!at[consistent]) {
        r.failure = fmt::format("not every phase was seen within {} s of the kill", o.timeout_s);
    }
    return r;
}

}  // namespace gregor::bench
