#include "broker/observability.h"

#include "broker/dashboard_api.h"
#include "broker/logger.h"
#include "broker/metadata_cache.h"
#include "broker/replica_manager.h"
#include "controller/context.h"
#include "controller/controller.h"
#include "controller/timeline.h"
#include "dashboard/assets.h"
#include "fetch/session_cache.h"
#include "group/service.h"
#include "replication/partition.h"
#include "storage/log_cleaner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <variant>

namespace gregor::broker {

observability::observability(metric_sources sources)
    : sources_(std::move(sources)),
      requests_(registry_),
      topics_(registry_),
      isr_shrinks_(registry_.counter("kafka_server_replicamanager_isrshrinks_total",
                                     "ISR shrinks of partitions this broker leads")),
      isr_expands_(registry_.counter("kafka_server_replicamanager_isrexpands_total",
                                     "ISR expansions of partitions this broker leads")),
      committed_truncated_(registry_.counter(
          "gregor_replica_committed_records_truncated_total",
          "Acknowledged records this broker cut from its logs as the follower of a leader "
          "elected uncleanly: what unclean elections lost")),
      zk_expires_(registry_.counter("kafka_server_sessionexpirelistener_zookeeperexpires_total",
                                    "ZooKeeper session expirations")),
      zk_latency_(
          registry_.timer_ms("kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms",
                             "ZooKeeper request latency, ms")),
      log_flush_(registry_.timer_ms("kafka_log_logflushstats_logflushrateandtimems",
                                    "Log flush (fsync) time, ms")),
      isr_leaves_(registry_.counter_family(
          "gregor_replica_isr_leaves_total",
          "Replicas this leader removed from an ISR, by reason (never fetched, not fetching, "
          "behind)")),
      lag_offsets_(registry_.gauge_family(
          "gregor_replica_follower_lag_offsets",
          "On a leader: a follower's offsets behind the log end, while it is out of the ISR or "
          "has not been caught up for over a second")),
      lag_seconds_(registry_.gauge_family(
          "gregor_replica_follower_lag_seconds",
          "On a leader: seconds since the follower last reached the log end (0: never), while "
          "it is out of the ISR or has not been caught up for over a second")),
      round_phases_(registry_.histogram_family(
          "gregor_controller_round_phase_seconds",
          "The active controller's rounds (failover, broker_failure, controlled_shutdown), "
          "phase by phase (elect, load, write, send, propagate) and in total")) {
    add_replica_gauges();
    add_follower_lag_gauges();
    add_controller_gauges();
    add_other_gauges();
}

void observability::isr_changed(std::size_t before, std::size_t after,
                                const std::vector<replication::isr_leave>& leaves) {
    if (after < before) {
        isr_shrinks_.Increment();
    } else if (after > before) {
        isr_expands_.Increment();
    }
    for (const auto& l : leaves) {
        isr_leaves_.Add({{"reason", std::string(replication::to_string(l.reason))}}).Increment();
    }
}

void observability::add_follower_lag_gauges() {
    registry_.on_scrape([this] {
        using namespace std::chrono;
        const model::timestamp_ms now{
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
        auto stale = std::move(lag_series_);
        lag_series_.clear();
        const replica_manager* rm = sources_.replicas ? sources_.replicas() : nullptr;
        if (rm != nullptr) {
            rm->for_each([&](replication::partition& p) {
                for (const auto& l : p.follower_lags(now)) {
                    if (l.in_isr && l.since_caught_up_ms <= 1000) {
                        continue;  // caught up within the last second: no series
                    }
                    auto key = std::tuple(p.tp().topic, p.tp().partition(), l.replica());
                    auto it = stale.find(key);
                    std::pair<prometheus::Gauge*, prometheus::Gauge*> g;
                    if (it != stale.end()) {
                        g = it->second;
                        stale.erase(it);
                    } else {
                        prometheus::Labels labels{{"topic", p.tp().topic},
                                                  {"partition", std::to_string(p.tp().partition())},
                                                  {"follower", std::to_string(l.replica())}};
                        g = {&lag_offsets_.Add(labels), &lag_seconds_.Add(labels)};
                    }
                    g.first->Set(static_cast<double>(l.offsets));
                    g.second->Set(static_cast<double>(l.since_caught_up_ms) / 1000.0);
                    lag_series_.emplace(std::move(key), g);
                }
            });
        }
        for (const auto& [key, g] : stale) {
            lag_offsets_.Remove(g.first);
            lag_seconds_.Remove(g.second);
        }
    });
}

void observability::add_replica_gauges() {
    auto g = [this](const char* name, const char* help) -> prometheus::Gauge* {
        return &registry_.gauge(fmt::format("kafka_server_replicamanager_{}", name), help);
    };
    std::array<prometheus::Gauge*, 6> gs{
        g("partitioncount", "Partitions with a replica on this broker"),
        g("leadercount", "Partitions this broker leads"),
        g("underreplicatedpartitions", "Led partitions whose ISR is smaller than their replicas"),
        g("underminisrpartitioncount", "Led partitions whose ISR is below min.insync.replicas"),
        g("atminisrpartitioncount", "Led partitions whose ISR is exactly min.insync.replicas"),
        g("offlinereplicacount", "Replicas in an offline log dir"),
    };
    registry_.on_scrape([this, gs] {
        std::array<double, 6> v{};
        if (const replica_manager* rm = sources_.replicas ? sources_.replicas() : nullptr) {
            // Views into the partitions' names (for_each goes in no particular order).
            std::unordered_set<std::string_view> hosted;
            std::string_view last;
            rm->for_each([&](replication::partition& p) {
                if (p.tp().topic != last) {
                    last = p.tp().topic;
                    hosted.insert(last);
                }
                v[0] += 1;
                if (rm->offline(p.tp())) {
                    v[5] += 1;
                }
                if (!p.is_leader()) {
                    return;
                }
                const auto& st = p.state();
                auto isr = static_cast<std::int64_t>(st.isr.size());
                auto min = static_cast<std::int64_t>(p.config().min_insync_replicas);
                v[1] += 1;
                v[2] += isr < static_cast<std::int64_t>(st.replicas.size()) ? 1 : 0;
                v[3] += isr < min ? 1 : 0;
                v[4] += isr == min ? 1 : 0;
            });
            // A topic this broker no longer hosts (deleted, moved away) loses its series.
            topics_.retain([&](std::string_view t) { return hosted.contains(t); });
        }
        for (std::size_t i = 0; i < gs.size(); ++i) {
            gs[i]->Set(v[i]);
        }
    });
}

void observability::add_controller_gauges() {
    auto g = [this](const char* name, const char* help) -> prometheus::Gauge* {
        return &registry_.gauge(fmt::format("kafka_controller_kafkacontroller_{}", name), help);
    };
    std::array<prometheus::Gauge*, 6> gs{
        g("activecontrollercount", "1 on the active controller, 0 elsewhere"),
        g("offlinepartitionscount", "Partitions without a live leader (active controller only)"),
        g("globaltopiccount", "Topics in the cluster (active controller only)"),
        g("globalpartitioncount", "Partitions in the cluster (active controller only)"),
        g("activebrokercount", "Registered brokers (active controller only)"),
        g("preferredreplicaimbalancecount",
          "Partitions not led by their preferred replica (active controller only)"),
    };
    registry_.on_scrape([this, gs] {
        std::array<double, 6> v{};
        const controller::controller* c = sources_.controller ? sources_.controller() : nullptr;
        if (c != nullptr && c->active()) {
            const auto& ctx = c->context();
            v[0] = 1;
            v[2] = static_cast<double>(ctx.topics.size());
            v[4] = static_cast<double>(ctx.brokers.size());
            for (const auto& [name, t] : ctx.topics) {
                for (const auto& [id, p] : t.partitions) {
                    v[3] += 1;
                    model::node_id leader = p.state.leader;
                    model::topic_partition tp{name, id};
                    if (!t.deleting &&
                        (leader < model::node_id(0) || !ctx.replica_online(leader, tp))) {
                        v[1] += 1;
                    }
                    if (!p.replicas.empty() && leader != p.replicas.front()) {
                        v[5] += 1;
                    }
                }
            }
        }
        for (std::size_t i = 0; i < gs.size(); ++i) {
            gs[i]->Set(v[i]);
        }
    });
    // A counter kept by this broker's controller (its journal lives as long as the broker,
    // like Kafka's meter): what it counted since the last scrape is added.
    auto& unclean =
        registry_.counter("kafka_controller_controllerstats_uncleanleaderelections_total",
                          "Unclean leader elections made by this broker's controller");
    registry_.on_scrape([this, &unclean, exported = std::uint64_t{0}]() mutable {
        const controller::controller* c = sources_.controller ? sources_.controller() : nullptr;
        if (c != nullptr && c->journal().unclean_total() > exported) {
            unclean.Increment(static_cast<double>(c->journal().unclean_total() - exported));
            exported = c->journal().unclean_total();
        }
    });
}

void observability::add_other_gauges() {
    auto& groups = registry_.gauge("kafka_coordinator_group_groupmetadatamanager_numgroups",
                                   "Groups this broker coordinates");
    auto& offsets = registry_.gauge("kafka_coordinator_group_groupmetadatamanager_numoffsets",
                                    "Committed offsets this broker holds as coordinator");
    auto& dirty = registry_.gauge("kafka_log_logcleanermanager_max_dirty_percent",
                                  "Dirty share of the dirtiest compacted log at the last look, %");
    add_cleaner_gauges();
    add_fetch_session_gauges();
    auto& state = registry_.gauge("kafka_server_kafkaserver_brokerstate",
                                  "1 starting, 3 running, 7 shutting down (Kafka's BrokerState)");
    registry_.on_scrape([this, &groups, &offsets, &dirty, &state] {
        const group::group_service* gs = sources_.groups ? sources_.groups() : nullptr;
        groups.Set(gs != nullptr ? static_cast<double>(gs->coordinator().group_count()) : 0);
        offsets.Set(gs != nullptr ? static_cast<double>(gs->committed_offsets()) : 0);
        const storage::log_cleaner* lc = sources_.cleaner ? sources_.cleaner() : nullptr;
        dirty.Set(lc != nullptr ? 100.0 * lc->max_dirty_ratio() : 0);
        state.Set(static_cast<int>(state_));
    });
}

// Kafka's FetchSessionCache metrics.
void observability::add_fetch_session_gauges() {
    auto& sessions = registry_.gauge("kafka_server_fetchsessioncache_numincrementalfetchsessions",
                                     "Incremental fetch sessions this broker keeps (KIP-227)");
    auto& partitions =
        registry_.gauge("kafka_server_fetchsessioncache_numincrementalfetchpartitionscached",
                        "Partitions held over all incremental fetch sessions");
    auto& evictions =
        registry_.counter("kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total",
                          "Fetch sessions evicted to make room for another");
    registry_.on_scrape(
        [this, &sessions, &partitions, &evictions, exported = std::uint64_t{0}]() mutable {
            const fetch::session_cache* c =
                sources_.fetch_sessions ? sources_.fetch_sessions() : nullptr;
            sessions.Set(c != nullptr ? static_cast<double>(c->sessions()) : 0);
            partitions.Set(c != nullptr ? static_cast<double>(c->partitions()) : 0);
            if (c != nullptr && c->evictions() > exported) {
                evictions.Increment(static_cast<double>(c->evictions() - exported));
                exported = c->evictions();
            }
        });
}

void observability::add_cleaner_gauges() {
    auto& buffer = registry_.gauge(
        "kafka_log_logcleaner_max_buffer_utilization_percent",
        "The fullest offset map (log.cleaner.dedupe.buffer.size) over the threads' last passes, %");
    auto& recopy = registry_.gauge(
        "kafka_log_logcleaner_cleaner_recopy_percent",
        "Bytes written against bytes recopied over the cleaner threads' last passes, %");
    auto& clean_time = registry_.gauge("kafka_log_logcleaner_max_clean_time_secs",
                                       "The longest of the cleaner threads' last passes, s");
    auto& since = registry_.gauge("kafka_log_logcleanermanager_time_since_last_run_ms",
                                  "Time since the cleaner last looked for logs to clean, ms");
    auto& partitions = registry_.gauge_family(
        "kafka_log_logcleanermanager_uncleanable_partitions_count",
        "Logs the cleaner gave up on until restart (a pass failed), per log dir");
    auto& bytes =
        registry_.gauge_family("kafka_log_logcleanermanager_uncleanable_bytes",
                               "Dirty bytes of the logs the cleaner gave up on, per log dir");
    registry_.on_scrape([this, &buffer, &recopy, &clean_time, &since, &partitions, &bytes] {
        const storage::log_cleaner* lc = sources_.cleaner ? sources_.cleaner() : nullptr;
        const storage::cleaner_summary s =
            lc != nullptr ? lc->summary() : storage::cleaner_summary{};
        buffer.Set(100.0 * s.max_buffer_utilization);
        recopy.Set(100.0 * s.recopy_ratio);
        clean_time.Set(s.max_clean_time_s);
        using namespace std::chrono;
        const std::int64_t now =
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        since.Set(s.last_look() < 0 ? 0.0 : static_cast<double>(now - s.last_look()));
        for (const auto& [dir, u] : s.uncleanable) {
            // The JMX exporter keeps the quotes Kafka puts around a path in the ObjectName.
            const prometheus::Labels labels{{"logDirectory", "\"" + dir + "\""}};
            partitions.Add(labels).Set(static_cast<double>(u.partitions));
            bytes.Add(labels).Set(static_cast<double>(u.bytes));
        }
    });
}

namespace {

// A non-negative integer query parameter; nullopt when absent, an error text when bad.
std::variant<std::monostate, std::int64_t, std::string> int_param(const http::request& r,
                                                                  const std::string& name) {
    auto it = r.query.find(name);
    if (it == r.query.end() || it->second.empty()) {
        return std::monostate{};
    }
    std::int64_t v = 0;
    const auto& s = it->second;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0) {
        return fmt::format("{}={}: expected a non-negative integer", name, s);
    }
    return v;
}

http::response json_error(int status, const std::string& message, std::int32_t controller) {
    nlohmann::json body = {{"error", message}, {"controller", controller}};
    return http::response{status, "application/json", body.dump() + "\n"};
}

}  // namespace

// /api/journal?topic=&partition=&since=&limit=: the active controller's decisions, oldest
// first. Other brokers answer 503 naming the controller they know of.
http::response observability::journal_page(const http::request& r) const {
    const controller::controller* c = sources_.controller ? sources_.controller() : nullptr;
    if (c == nullptr || !c->active()) {
        return json_error(503, "this broker is not the active controller",
                          c != nullptr ? c->known_controller()() : -1);
    }
    controller::journal_query q;
    if (auto t = r.query.find("topic"); t != r.query.end() && !t->second.empty()) {
        q.topic = t->second;
    }
    for (const char* name : {"partition", "since", "limit"}) {
        auto v = int_param(r, name);
        if (const auto* bad = std::get_if<std::string>(&v)) {
            return json_error(400, *bad, c->known_controller()());
        }
        if (const auto* n = std::get_if<std::int64_t>(&v)) {
            if (std::string_view(name) == "partition") {
                q.partition = model::partition_id(static_cast<std::int32_t>(*n));
            } else if (std::string_view(name) == "since") {
                q.since = model::timestamp_ms(*n);
            } else {
                q.limit = static_cast<std::size_t>(*n);
            }
        }
    }
    return http::response{200, "application/json",
                          controller::to_json(c->journal().find(q), c->journal()) + "\n"};
}

// /api/can-stop?broker=N: the active controller's answer (controller/can_stop.h).
http::response observability::can_stop_page(const http::request& r) const {
    const controller::controller* c = sources_.controller ? sources_.controller() : nullptr;
    if (c == nullptr || !c->active()) {
        return json_error(503, "this broker is not the active controller",
                          c != nullptr ? c->known_controller()() : -1);
    }
    auto v = int_param(r, "broker");
    if (const auto* bad = std::get_if<std::string>(&v)) {
        return json_error(400, *bad, c->known_controller()());
    }
    const auto* id = std::get_if<std::int64_t>(&v);
    if (id == nullptr || *id > INT32_MAX) {
        return json_error(400, "broker=<id> is required", c->known_controller()());
    }
    return http::response{
        200, "application/json",
        controller::to_json(c->can_stop(model::node_id(static_cast<std::int32_t>(*id)))) + "\n"};
}

namespace {
// A mark names the phase that ends at it.
std::string_view phase_of(std::string_view mark) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> names{{
        {"elected", "elect"},
        {"loaded", "load"},
        {"written", "write"},
        {"sent", "send"},
        {"answered", "propagate"},
    }};
    for (const auto& [m, phase] : names) {
        if (m == mark) {
            return phase;
        }
    }
    return mark;
}
}  // namespace

void observability::controller_round(const controller::timeline& t) {
    // Milliseconds marks, so buckets from 1 ms; a failover at 100,000 partitions is ~2 s.
    static const prometheus::Histogram::BucketBoundaries buckets{
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    const auto& marks = t.marks();
    if (marks.size() < 2) {
        return;
    }
    auto observe = [&](std::string_view phase, std::int64_t ms) {
        round_phases_.Add({{"round", t.kind()}, {"phase", std::string(phase)}}, buckets)
            .Observe(static_cast<double>(std::max<std::int64_t>(0, ms)) / 1000.0);
    };
    for (std::size_t i = 1; i < marks.size(); ++i) {
        observe(phase_of(marks[i].first), marks[i].second - marks[i - 1].second);
    }
    observe("total", marks.back().second - marks.front().second);
}

// /api/cluster?limit=N: this broker's metadata cache (broker/dashboard_api.h).
http::response observability::cluster_page(const http::request& r) const {
    const metadata_cache* cache = sources_.cache ? sources_.cache() : nullptr;
    const replica_manager* rm = sources_.replicas ? sources_.replicas() : nullptr;
    if (cache == nullptr || rm == nullptr) {
        return json_error(503, "the broker is starting", -1);
    }
    auto v = int_param(r, "limit");
    if (const auto* bad = std::get_if<std::string>(&v)) {
        return json_error(400, *bad, cache->controller()());
    }
    const auto* limit = std::get_if<std::int64_t>(&v);
    const std::size_t n = limit != nullptr ? static_cast<std::size_t>(*limit) : partitions_max;
    return http::response{200, "application/json", cluster_json(*cache, rm->self(), n) + "\n"};
}

// /api/groups: the groups this broker coordinates, with lag where it hosts the partition.
http::response observability::groups_page() const {
    const group::group_service* g = sources_.groups ? sources_.groups() : nullptr;
    const replica_manager* rm = sources_.replicas ? sources_.replicas() : nullptr;
    if (g == nullptr || rm == nullptr) {
        return json_error(503, "this broker has no group coordinator (no ZooKeeper yet)", -1);
    }
    auto hw = [rm](const model::topic_partition& tp) -> std::optional<model::offset> {
        const replication::partition* p = rm->partition(tp);
        return p != nullptr ? std::optional(p->high_watermark()) : std::nullopt;
    };
    return http::response{200, "application/json", groups_json(*g, hw) + "\n"};
}

// The page and its files (src/dashboard), and the JSON it reads.
void observability::add_dashboard_routes() {
    for (const std::string& path : dashboard::paths()) {
        http_->add_route(path, [path](const http::request&) {
            const auto a = dashboard::find(path);
            return http::response{200, std::string(a->content_type), std::string(a->body)};
        });
    }
    http_->add_route("/api/cluster", [this](const http::request& r) { return cluster_page(r); });
    http_->add_route("/api/groups", [this](const http::request&) { return groups_page(); });
}

net::asio::awaitable<http::response> observability::metrics_page() {
    if (*renders_ >= renders_max) {
        co_return http::response{503, "text/plain; charset=utf-8",
                                 "too many scrapes at once; try again\n"};
    }
    registry_.refresh();
    ++*renders_;
    struct done {
        std::shared_ptr<int> n;
        ~done() { --*n; }
    } guard{renders_};
    // 10,000 topics' series take ~100 ms to write: not on the loop.
    std::string text = co_await net::asio::co_spawn(
        *render_pool_,
        [this]() -> net::asio::awaitable<std::string> { co_return registry_.render(); },
        net::asio::use_awaitable);
    co_return http::response{200, "text/plain; version=0.0.4; charset=utf-8", std::move(text)};
}

result<std::string> observability::start_http(net::asio::io_context& ioc,
                                              const std::string& listener) {
    GREGOR_TRY(auto cfg, http::parse_listener(listener));
    http_.emplace(ioc, cfg);
    render_pool_.emplace(1);
    http_->add_route("/metrics", [this](http::request) -> net::asio::awaitable<http::response> {
        co_return co_await metrics_page();
    });
    http_->add_route("/api/journal", [this](const http::request& r) { return journal_page(r); });
    http_->add_route("/api/can-stop", [this](const http::request& r) { return can_stop_page(r); });
    add_dashboard_routes();
    GREGOR_TRY_VOID(http_->start());
    auto where = fmt::format("{}:{}", cfg.host, http_->port());
    GREGOR_LOG(broker_log, info, "metrics at http://{}/metrics, the dashboard at http://{}/", where,
               where);
    return where;
}

void observability::stop_http() {
    if (http_) {
        http_->stop();
    }
}

}  // namespace gregor::broker
