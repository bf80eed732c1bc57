// The failover workload: creates --partitions partitions, finds the controller (Metadata's
// controller id), picks the victim (--victim: the controller, the non-controller leading the
// most partitions, or a given id), kills it with --kill-cmd or stops it with --stop-cmd, then
// asks every surviving broker for Metadata every 10 ms and reports when each phase was first
// seen, counted from the kill. With
// --produce, a producer sends round-robin to every partition at --rate throughout, and each
// partition's unavailability window is the time between its last acknowledged record before
// the kill and its first one after.
#include "bench/controller_timeline.h"
#include "bench/errc.h"
#include "bench/failover_producer.h"
#include "bench/kafka.h"
#include "bench/metadata_probe.h"
#include "bench/workloads.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto poll_interval = std::chrono::milliseconds(10);
constexpr auto probe_timeout = std::chrono::milliseconds(200);
constexpr auto producer_settle = std::chrono::seconds(1);
constexpr int default_partitions = 100;
constexpr int replication_factor_max = 3;

// Phases in the order they normally happen; each is stamped once, when first seen. The first
// two are reported when the victim is the controller, the third when it is not.
enum phase_id {
    controller_gone,
    new_controller,
    victim_moved,
    all_led,
    consistent,
    phase_count
};
constexpr const char* phase_names[phase_count] = {
    "controller gone (no survivor names it)", "new controller seen",
    "victim's partitions led elsewhere", "every partition led by a live broker",
    "every broker's metadata consistent"};

bool reported(phase_id p, bool victim_is_controller) {
    if (p == controller_gone || p == new_controller) {
        return victim_is_controller;
    }
    return p != victim_moved || !victim_is_controller;
}

bool led_by_live(const cluster_view& v, std::size_t partitions, int dead) {
    if (v.leaders.size() != partitions) {
        return false;
    }
    return std::all_of(v.leaders.begin(), v.leaders.end(),
                       [&](int l) { return l >= 0 && l != dead; });
}

// Every partition the victim led before (per `before`) has another leader in `v`.
bool moved_away(const cluster_view& v, const std::vector<int>& before, int dead) {
    if (v.leaders.size() != before.size()) {
        return false;
    }
    for (std::size_t i = 0; i < before.size(); ++i) {
        if (before[i] == dead && (v.leaders[i] < 0 || v.leaders[i] == dead)) {
            return false;
        }
    }
    return true;
}

// Stamps the phases that the views of every survivor (nullopt: it did not answer) show now.
void stamp(const std::vector<std::optional<cluster_view>>& views, int dead,
           const std::vector<int>& before, double at_ms,
           std::array<std::optional<double>, phase_count>& at) {
    const std::size_t partitions = before.size();
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
    bool some_moved = std::any_of(views.begin(), views.end(),
                                  [&](auto& v) { return v && moved_away(*v, before, dead); });
    const bool seen[phase_count] = {none_names_dead, some_new, some_moved, some_led, agreed};
    for (int p = 0; p < phase_count; ++p) {
        if (seen[p] && !at[static_cast<std::size_t>(p)]) {
            at[static_cast<std::size_t>(p)] = at_ms;
        }
    }
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

// --victim as a broker id: the controller, the non-controller leading the most partitions
// (the lowest id on a tie), or the given id, which must be a live broker.
result<int> choose_victim(const options& o, const cluster_view& before,
                          const std::map<int, broker_address>& brokers) {
    if (o.victim == "controller") {
        return before.controller;
    }
    if (o.victim == "leader") {
        int best = -1;
        std::ptrdiff_t most = -1;
        for (const auto& [id, addr] : brokers) {
            auto led = std::count(before.leaders.begin(), before.leaders.end(), id);
            if (id != before.controller && led > most) {
                best = id;
                most = led;
            }
        }
        return best;
    }
    int id = std::stoi(o.victim);  // validate() checked it is a non-negative integer
    if (brokers.count(id) == 0) {
        std::string ids;
        for (const auto& [b, addr] : brokers) {
            ids += fmt::format("{}{}", ids.empty() ? "" : ", ", b);
        }
        return error(errc::bad_argument,
                     fmt::format("--victim {}: no such broker (the brokers are {})", id, ids));
    }
    return id;
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
                                                     int dead, const std::vector<int>& before,
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
        stamp(views, dead, before, at_ms, at);
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

// The run's parameters; the keys of earlier versions (killed_controller, only when the
// victim is the controller; partitions_led_by_killed; kill_cmd) keep their meaning.
nlohmann::ordered_json parameters_of(const options& o, std::size_t partitions,
                                     std::size_t brokers, const cluster_view& before, int victim,
                                     const std::string& cmd) {
    bool clean = o.kill_cmd.empty();
    nlohmann::ordered_json p = {{"bootstrap", o.bootstrap},
                                {"topic", o.topic},
                                {"partitions", partitions},
                                {"brokers", brokers},
                                {"replication_factor", *o.replication_factor}};
    if (victim == before.controller) {
        p["killed_controller"] = victim;
    }
    p["controller_before"] = before.controller;
    p["victim"] = victim;
    p["victim_role"] = victim == before.controller ? "controller" : "broker";
    p["stop"] = clean ? "clean" : "kill";
    p["partitions_led_by_killed"] =
        std::count(before.leaders.begin(), before.leaders.end(), victim);
    p[clean ? "stop_cmd" : "kill_cmd"] = cmd;
    return p;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The controller's own timeline of this failover from <cluster-dir>/broker-<c>/broker.log,
// where c is the controller after the kill. It logs the line once every broker answered,
// which may trail the last phase seen from outside: polled for up to a few seconds.
std::optional<controller_timeline> controller_view(const options& o,
                                                   const std::map<int, broker_address>& brokers,
                                                   int victim, bool victim_was_controller,
                                                   std::int64_t killed_ms) {
    std::map<int, broker_address> survivors = brokers;
    survivors.erase(victim);
    auto after = find_controller(survivors, o);
    if (!after) {
        return std::nullopt;
    }
    const std::string kind = victim_was_controller ? "failover"
                             : o.kill_cmd.empty()  ? "controlled_shutdown"
                                                   : "broker_failure";
    const std::string path = fmt::format("{}/broker-{}/broker.log", o.cluster_dir, after->controller);
    const auto deadline = clock_type::now() + std::chrono::seconds(5);
    do {
        std::ifstream log(path);
        for (auto& t : read_timelines(log, killed_ms)) {
            if (t.kind == kind) {
                return std::move(t);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (clock_type::now() < deadline);
    return std::nullopt;
}

void add_controller_phases(const options& o, const std::map<int, broker_address>& brokers,
                           int victim, bool victim_was_controller, std::int64_t killed_ms,
                           report& r) {
    auto t = controller_view(o, brokers, victim, victim_was_controller, killed_ms);
    if (!t) {
        r.notes.push_back(fmt::format("--cluster-dir {}: no controller timeline line after the "
                                      "kill in the controller's broker.log",
                                      o.cluster_dir));
        return;
    }
    for (phase& p : timeline_phases(*t, killed_ms)) {
        r.phases.push_back(std::move(p));
    }
    std::stable_sort(r.phases.begin(), r.phases.end(),
                     [](const phase& a, const phase& b) { return a.at_ms < b.at_ms; });
    r.notes.push_back("phases named \"controller: ...\" come from the controller's own log "
                      "(wall clock, same machine); the others from Metadata polls every 10 ms");
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
    GREGOR_TRY(int victim, choose_victim(o, before, brokers));
    std::unique_ptr<failover_producer> producer;
    if (o.with_producer) {
        GREGOR_TRY(producer, failover_producer::start(o, layout.leaders.size()));
        std::this_thread::sleep_for(producer_settle);
    }
    std::string cmd = kill_command(o.kill_cmd.empty() ? o.stop_cmd : o.kill_cmd, victim);
    auto killed = clock_type::now();
    const std::int64_t killed_ms = unix_ms(std::chrono::system_clock::now());
    if (producer) {
        producer->mark_kill(killed);
    }
    int status = std::system(cmd.c_str());
    if (status != 0) {
        return error(errc::client_error, fmt::format("--{}-cmd '{}' exited with {}",
                                                     o.kill_cmd.empty() ? "stop" : "kill", cmd,
                                                     status));
    }
    auto at = watch(brokers, victim, before.leaders, o, killed);
    r.parameters = parameters_of(o, layout.leaders.size(), brokers.size(), before, victim, cmd);
    for (int p = 0; p < phase_count; ++p) {
        if (at[static_cast<std::size_t>(p)] &&
            reported(static_cast<phase_id>(p), victim == before.controller)) {
            r.phases.push_back({phase_names[p], *at[static_cast<std::size_t>(p)]});
        }
    }
    if (!o.cluster_dir.empty() && at[consistent]) {
        add_controller_phases(o, brokers, victim, victim == before.controller, killed_ms, r);
    }
    if (o.kill_cmd.empty()) {
        r.notes.push_back("clean stop: the victim's controlled shutdown moves its leaders away "
                          "before it exits; times count from the stop command");
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
