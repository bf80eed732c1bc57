// metrics: the broker's Prometheus metrics, named as the Prometheus JMX exporter's Kafka
// configuration names Kafka's (kafka_server_replicamanager_underreplicatedpartitions,
// kafka_controller_kafkacontroller_activecontrollercount, ...), so that dashboards and alert
// rules written for Kafka work unchanged.
//
// prometheus-cpp (Debian's prometheus-cpp-dev) holds the families and writes the text
// exposition format. Counters and request timers are updated where things happen (counters
// are atomic; timers are for the loop only). Gauges that describe state (partition counts,
// the controller's view, groups) are set by hooks the owner registers, run by refresh() on
// the owner's thread (the broker's loop), so they read loop-owned state without locks and
// cost nothing between scrapes. render() then collects and writes the text on any thread:
// prometheus-cpp's registry, families and series are thread-safe, so the broker renders off
// its loop (10,000 topics' series take ~100 ms to write).
#pragma once

#include "metrics/quantiles.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gregor::metrics {

// The quantiles Kafka's histograms and timers export (50th to 999th percentile).
inline constexpr std::array<double, 6> kafka_quantiles{0.5, 0.75, 0.95, 0.98, 0.99, 0.999};

// One Kafka timer or histogram as the JMX exporter shows it: `<name>{labels, quantile}` gauges
// over the last five minutes and `<name>_count{labels}`. record() costs a few tens of ns
// (windowed_quantiles); refresh() computes the quantiles (at scrape time). One thread.
class timer {
public:
    timer(prometheus::Family<prometheus::Gauge>& quantiles,
          prometheus::Family<prometheus::Counter>& count, const prometheus::Labels& labels);
    void record(double ms, std::chrono::steady_clock::time_point now);
    void refresh(std::chrono::steady_clock::time_point now);

private:
    windowed_quantiles window_;
    std::array<prometheus::Gauge*, kafka_quantiles.size()> gauges_{};
    prometheus::Counter* count_;
    std::uint64_t exported_ = 0;  // of window_.count(), added to count_ so far
};

class registry {
public:
    registry();

    // One unlabeled series of a new family. `name` is the whole Prometheus name.
    prometheus::Gauge& gauge(const std::string& name, const std::string& help);
    prometheus::Counter& counter(const std::string& name, const std::string& help);
    prometheus::Family<prometheus::Gauge>& gauge_family(const std::string& name,
                                                        const std::string& help);
    prometheus::Family<prometheus::Counter>& counter_family(const std::string& name,
                                                            const std::string& help);
    prometheus::Family<prometheus::Histogram>& histogram_family(const std::string& name,
                                                                const std::string& help);

    // An unlabeled timer (`name` in ms), refreshed at every scrape; lives as long as this.
    timer& timer_ms(const std::string& name, const std::string& help);

    // Runs before every scrape, in registration order.
    void on_scrape(std::function<void()> hook);
    // Runs the hooks and refreshes the timers' quantiles. The owner's thread.
    void refresh();
    // Every family in Prometheus text format 0.0.4. Any thread, also during refresh().
    std::string render() const;
    // refresh(), then render().
    std::string scrape() {
        refresh();
        return render();
    }

private:
    std::shared_ptr<prometheus::Registry> reg_;
    std::vector<std::function<void()>> hooks_;
    std::vector<std::unique_ptr<timer>> timers_;
};

// kafka.network:type=RequestMetrics: requests by API name and version, and each API's total
// time (arrival to response ready) in ms, as Kafka's exporter shows a timer:
// kafka_network_requestmetrics_totaltimems{request,quantile} over the last five minutes and
// kafka_network_requestmetrics_totaltimems_count{request}. Recording costs a few tens of ns
// (windowed_quantiles); the quantiles are computed at scrape time.
class request_metrics {
public:
    explicit request_metrics(registry& r);
    // Kafka splits Fetch by who asks: request="FetchConsumer" (api key 1) and
    // request="FetchFollower", which is recorded under this key (no API uses it).
    static constexpr std::int16_t fetch_follower_key = 127;

    // One answered request. `api` is Kafka's name for it: the ApiKeys name ("Produce",
    // "Metadata", ...), or FetchConsumer / FetchFollower (key fetch_follower_key).
    void record(std::int16_t api_key, std::string_view api, std::int16_t version, double total_ms,
                std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

private:
    void refresh(std::chrono::steady_clock::time_point now);

    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Gauge>& time_quantiles_;
    prometheus::Family<prometheus::Counter>& time_count_;
    // Index api_key * versions_max + version; nullptr until first used.
    std::vector<prometheus::Counter*> by_version_;
    std::vector<std::unique_ptr<timer>> by_api_;
};

// kafka.server:type=BrokerTopicMetrics, for all topics (no label) and per topic.
class topic_metrics {
public:
    explicit topic_metrics(registry& r);
    // A produce request's records appended to a partition this broker leads.
    void produced(std::string_view topic, std::uint64_t records, std::uint64_t bytes);
    // One partition of a produce request, failed or not. `hosted`: the partition is on this
    // broker; only then is the topic's own series counted (so requests naming topics that do
    // not exist here cannot create series without bound), the all-topics one always.
    void produce_request(std::string_view topic, bool failed, bool hosted = true);
    // Record bytes sent in a fetch response: to a consumer, or to a follower (replication).
    void fetched(std::string_view topic, std::uint64_t bytes, bool follower);
    // One partition of a consumer's fetch request, failed or not; `hosted` as above.
    void fetch_request(std::string_view topic, bool failed, bool hosted = true);
    // Removes the series of every topic `hosted` says no: as Kafka drops a topic's
    // BrokerTopicMetrics when the broker stops hosting it (deleted or moved away), so the
    // series do not outlive the topic. The all-topics series stay.
    void retain(const std::function<bool(std::string_view)>& hosted);
    std::size_t topics() const { return topics_.size(); }

private:
    struct series {
        prometheus::Counter* messages_in = nullptr;
        prometheus::Counter* bytes_in = nullptr;
        prometheus::Counter* bytes_out = nullptr;
        prometheus::Counter* replication_bytes_out = nullptr;
        prometheus::Counter* produce_requests = nullptr;
        prometheus::Counter* failed_produce_requests = nullptr;
        prometheus::Counter* fetch_requests = nullptr;
        prometheus::Counter* failed_fetch_requests = nullptr;
    };
    series make(const prometheus::Labels& labels);
    series& of(std::string_view topic);

    struct families;
    std::shared_ptr<families> f_;
    series all_;
    // Looked up by string_view without building a std::string (one per produced partition).
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, series, name_hash, std::equal_to<>> topics_;
};

}  // namespace gregor::metrics
