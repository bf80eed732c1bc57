// The broker's metrics and its operator HTTP listener (gregor.http.listener), wired to the
// broker's parts. Counters are fed by the request path (dispatch, Produce, Fetch, the ISR
// sender, the ZooKeeper registration); gauges are computed at each scrape, on the loop, from
// what the sources return at that moment (a part that does not exist yet reads as absent):
//   kafka_server_replicamanager_{partitioncount,leadercount,underreplicatedpartitions,
//     underminisrpartitioncount,atminisrpartitioncount,offlinereplicacount}
//   kafka_controller_kafkacontroller_{activecontrollercount,offlinepartitionscount,
//     globaltopiccount,globalpartitioncount,activebrokercount,preferredreplicaimbalancecount}
//     (non-zero only on the active controller, as in Kafka, so cluster sums work)
//   kafka_controller_controllerstats_uncleanleaderelections_total (this broker's controller)
//   kafka_coordinator_group_groupmetadatamanager_{numgroups,numoffsets}
//   kafka_log_logcleanermanager_{max_dirty_percent,time_since_last_run_ms,
//     uncleanable_partitions_count{logDirectory},uncleanable_bytes{logDirectory}},
//   kafka_log_logcleaner_{max_buffer_utilization_percent,cleaner_recopy_percent,
//     max_clean_time_secs}, kafka_server_kafkaserver_brokerstate
//   gregor_replica_follower_lag_offsets / _seconds{topic,partition,follower}: on a leader,
//     each follower out of the ISR or not caught up for over a second (the series goes
//     when it catches up), and gregor_replica_isr_leaves_total{reason}: replicas removed
//     from an ISR by this leader, by why (never fetched, not fetching, behind);
//     gregor_replica_committed_records_truncated_total: acknowledged records this broker
//     cut as the follower of a leader elected uncleanly (what such an election lost)
//   gregor_controller_round_phase_seconds{round,phase}: what Kafka lacks, the active
//     controller's rounds (failover, broker_failure, controlled_shutdown) phase by phase:
//     elect (the old controller's znode gone -> this broker won), load (state read from
//     ZooKeeper), write (elections and their ZooKeeper writes), send (requests queued),
//     propagate (every broker answered), and total
// plus the request and topic metrics of metrics/registry.h. The same listener serves the
// active controller's decision journal as JSON (/api/journal?topic=&partition=&since=&limit=)
// and its answer to "can broker N stop now?" (/api/can-stop?broker=N); other brokers answer
// both with 503 naming the controller. And the dashboard (src/dashboard) at / with the JSON
// it reads (broker/dashboard_api.h): /api/cluster?limit=N and /api/groups. Loop thread only,
// but for /metrics' text: the gauges are set on the loop, then one thread of its own renders
// the registry (at most renders_max scrapes wait at once), so a scrape of 10,000 topics'
// series (~100 ms of text) never holds the loop.
#pragma once

#include "base/result.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "net/asio.h"
#include "replication/partition.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace gregor::controller {
class controller;
class timeline;
}
namespace gregor::group {
class group_service;
}
namespace gregor::storage {
class log_cleaner;
}

namespace gregor::fetch {
class session_cache;
}

namespace gregor::broker {

class metadata_cache;
class replica_manager;

// What the gauges read at a scrape; any may return nullptr.
struct metric_sources {
    std::function<const replica_manager*()> replicas;
    std::function<const controller::controller*()> controller;
    std::function<const group::group_service*()> groups;
    std::function<const storage::log_cleaner*()> cleaner;
    std::function<const metadata_cache*()> cache;  // the dashboard's cluster view
    std::function<const fetch::session_cache*()> fetch_sessions;
};

// Kafka's BrokerState values.
enum class broker_state : int { starting = 1, running = 3, shutting_down = 7 };

class observability {
public:
    explicit observability(metric_sources sources);

    metrics::request_metrics& requests() { return requests_; }
    metrics::topic_metrics& topics() { return topics_; }
    // A committed ISR change of a led partition; `leaves` are the replicas a shrink removed.
    void isr_changed(std::size_t before, std::size_t after,
                     const std::vector<replication::isr_leave>& leaves = {});
    // A truncation cut `records` acknowledged records (an unclean election's loss).
    void committed_truncated(std::int64_t records) {
        committed_truncated_.Increment(static_cast<double>(records));
    }
    void zookeeper_expired() { zk_expires_.Increment(); }
    // One ZooKeeper request answered after `d` (kafka_server_zookeeperclientmetrics_
    // zookeeperrequestlatencyms{quantile} and _count).
    void zookeeper_request(std::chrono::steady_clock::duration d) {
        zk_latency_.record(std::chrono::duration<double, std::milli>(d).count(),
                           std::chrono::steady_clock::now());
    }
    // One log flush (fsync of a partition's segments) that took `d`
    // (kafka_log_logflushstats_logflushrateandtimems{quantile} and _count).
    void log_flushed(std::chrono::steady_clock::duration d) {
        log_flush_.record(std::chrono::duration<double, std::milli>(d).count(),
                          std::chrono::steady_clock::now());
    }
    // A controller round finished (controller_hooks::on_round_done): its phases go into
    // gregor_controller_round_phase_seconds{round,phase}.
    void controller_round(const controller::timeline& t);
    void set_state(broker_state s) { state_ = s; }
    std::string scrape() { return registry_.scrape(); }
    // Scrapes waiting for their text at once; one more is answered 503.
    static constexpr int renders_max = 4;

    // Serves /metrics on `listener` ("host:port"). Returns the bound "host:port".
    result<std::string> start_http(net::asio::io_context& ioc, const std::string& listener);
    void stop_http();

private:
    void add_replica_gauges();
    void add_controller_gauges();
    void add_other_gauges();
    void add_cleaner_gauges();
    void add_fetch_session_gauges();
    void add_follower_lag_gauges();
    http::response journal_page(const http::request& r) const;
    http::response can_stop_page(const http::request& r) const;
    http::response cluster_page(const http::request& r) const;
    http::response groups_page() const;
    // /metrics: the gauges are refreshed on the loop, the text rendered on render_pool_.
    net::asio::awaitable<http::response> metrics_page();
    void add_dashboard_routes();

    metric_sources sources_;
    metrics::registry registry_;
    metrics::request_metrics requests_;
    metrics::topic_metrics topics_;
    prometheus::Counter& isr_shrinks_;
    prometheus::Counter& isr_expands_;
    prometheus::Counter& committed_truncated_;
    prometheus::Counter& zk_expires_;
    metrics::timer& zk_latency_;
    metrics::timer& log_flush_;
    prometheus::Family<prometheus::Counter>& isr_leaves_;
    prometheus::Family<prometheus::Gauge>& lag_offsets_;
    prometheus::Family<prometheus::Gauge>& lag_seconds_;
    // The follower lag series exported at the last scrape, by (topic, partition, follower).
    std::map<std::tuple<std::string, std::int32_t, std::int32_t>,
             std::pair<prometheus::Gauge*, prometheus::Gauge*>>
        lag_series_;
    prometheus::Family<prometheus::Histogram>& round_phases_;
    broker_state state_ = broker_state::starting;
    // metrics_page calls waiting for render_pool_. Shared with them: one still suspended when
    // the loop is torn down is destroyed after this object, and counts itself out then.
    std::shared_ptr<int> renders_ = std::make_shared<int>(0);
    // Destroyed (joined) before the registry it renders.
    std::optional<net::asio::thread_pool> render_pool_;
    std::optional<http::server> http_;
};

}  // namespace gregor::broker
