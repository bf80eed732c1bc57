#include "metrics/registry.h"

#include <fmt/format.h>

#include <chrono>
#include <prometheus/text_serializer.h>

namespace gregor::metrics {

registry::registry() : reg_(std::make_shared<prometheus::Registry>()) {}

prometheus::Family<prometheus::Gauge>& registry::gauge_family(const std::string& name,
                                                              const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*reg_);
}

prometheus::Family<prometheus::Counter>& registry::counter_family(const std::string& name,
                                                                  const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*reg_);
}

prometheus::Family<prometheus::Histogram>& registry::histogram_family(const std::string& name,
                                                                      const std::string& help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(*reg_);
}

prometheus::Gauge& registry::gauge(const std::string& name, const std::string& help) {
    return gauge_family(name, help).Add({});
}

prometheus::Counter& registry::counter(const std::string& name, const std::string& help) {
    return counter_family(name, help).Add({});
}

timer::timer(prometheus::Family<prometheus::Gauge>& quantiles,
             prometheus::Family<prometheus::Counter>& count, const prometheus::Labels& labels)
    : count_(&count.Add(labels)) {
    for (std::size_t i = 0; i < kafka_quantiles.size(); ++i) {
        prometheus::Labels with = labels;
        with["quantile"] = fmt::format("{}", kafka_quantiles[i]);
        gauges_[i] = &quantiles.Add(with);
    }
}

void timer::record(double ms, std::chrono::steady_clock::time_point now) {
    window_.record(ms, now);
}

void timer::refresh(std::chrono::steady_clock::time_point now) {
    auto values = window_.quantiles(kafka_quantiles, now);
    for (std::size_t i = 0; i < values.size(); ++i) {
        gauges_[i]->Set(values[i]);
    }
    count_->Increment(static_cast<double>(window_.count() - exported_));
    exported_ = window_.count();
}

timer& registry::timer_ms(const std::string& name, const std::string& help) {
    timers_.push_back(std::make_unique<timer>(
        gauge_family(name, help + ", quantiles of the last 5 minutes"),
        counter_family(name + "_count", help + ", count"), prometheus::Labels{}));
    return *timers_.back();
}

void registry::on_scrape(std::function<void()> hook) {
    hooks_.push_back(std::move(hook));
}

void registry::refresh() {
    for (const auto& h : hooks_) {
        h();
    }
    const auto now = std::chrono::steady_clock::now();
    for (const auto& t : timers_) {
        t->refresh(now);
    }
}

std::string registry::render() const {
    return prometheus::TextSerializer().Serialize(reg_->Collect());
}

namespace {
// Kafka's newest API key is below this; a larger key (never dispatched) is not recorded.
constexpr std::size_t api_keys_max = 128;
constexpr std::size_t versions_max = 32;
}  // namespace

request_metrics::request_metrics(registry& r)
    : requests_(r.counter_family("kafka_network_requestmetrics_requests_total",
                                 "Requests answered, by API (request) and version")),
      time_quantiles_(r.gauge_family(
          "kafka_network_requestmetrics_totaltimems",
          "Time from a request's arrival to its response, ms, quantiles of the last 5 minutes")),
      time_count_(r.counter_family("kafka_network_requestmetrics_totaltimems_count",
                                   "Requests timed, by API (request)")),
      by_version_(api_keys_max * versions_max, nullptr),
      by_api_(api_keys_max) {
    r.on_scrape([this] { refresh(std::chrono::steady_clock::now()); });
}

void request_metrics::refresh(std::chrono::steady_clock::time_point now) {
    for (auto& t : by_api_) {
        if (t) {
            t->refresh(now);
        }
    }
}

void request_metrics::record(std::int16_t api_key, std::string_view api, std::int16_t version,
                             double total_ms, std::chrono::steady_clock::time_point now) {
    if (api_key < 0 || static_cast<std::size_t>(api_key) >= api_keys_max || version < 0 ||
        static_cast<std::size_t>(version) >= versions_max) {
        return;
    }
    const auto k = static_cast<std::size_t>(api_key);
    auto& c = by_version_[k * versions_max + static_cast<std::size_t>(version)];
    if (c == nullptr) {
        c = &requests_.Add({{"request", std::string(api)}, {"version", std::to_string(version)}});
    }
    c->Increment();
    auto& t = by_api_[k];
    if (!t) {
        t = std::make_unique<timer>(time_quantiles_, time_count_,
                                    prometheus::Labels{{"request", std::string(api)}});
    }
    t->record(total_ms, now);
}

struct topic_metrics::families {
    prometheus::Family<prometheus::Counter>& messages_in;
    prometheus::Family<prometheus::Counter>& bytes_in;
    prometheus::Family<prometheus::Counter>& bytes_out;
    prometheus::Family<prometheus::Counter>& replication_bytes_out;
    prometheus::Family<prometheus::Counter>& produce_requests;
    prometheus::Family<prometheus::Counter>& failed_produce_requests;
    prometheus::Family<prometheus::Counter>& fetch_requests;
    prometheus::Family<prometheus::Counter>& failed_fetch_requests;
};

topic_metrics::topic_metrics(registry& r)
    : f_(std::make_shared<families>(families{
          r.counter_family("kafka_server_brokertopicmetrics_messagesin_total",
                           "Records appended by this leader from produce requests"),
          r.counter_family("kafka_server_brokertopicmetrics_bytesin_total",
                           "Record bytes appended from produce requests"),
          r.counter_family("kafka_server_brokertopicmetrics_bytesout_total",
                           "Record bytes sent to consumers (followers excluded)"),
          r.counter_family("kafka_server_brokertopicmetrics_replicationbytesout_total",
                           "Record bytes sent to followers"),
          r.counter_family("kafka_server_brokertopicmetrics_totalproducerequests_total",
                           "Partitions of produce requests"),
          r.counter_family("kafka_server_brokertopicmetrics_failedproducerequests_total",
                           "Partitions of produce requests that failed"),
          r.counter_family("kafka_server_brokertopicmetrics_totalfetchrequests_total",
                           "Partitions of consumer fetch requests"),
          r.counter_family("kafka_server_brokertopicmetrics_failedfetchrequests_total",
                           "Partitions of consumer fetch requests that failed"),
      })),
      all_(make({})) {}

topic_metrics::series topic_metrics::make(const prometheus::Labels& labels) {
    return series{&f_->messages_in.Add(labels),      &f_->bytes_in.Add(labels),
                  &f_->bytes_out.Add(labels),        &f_->replication_bytes_out.Add(labels),
                  &f_->produce_requests.Add(labels), &f_->failed_produce_requests.Add(labels),
                  &f_->fetch_requests.Add(labels),   &f_->failed_fetch_requests.Add(labels)};
}

topic_metrics::series& topic_metrics::of(std::string_view topic) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        it = topics_.emplace(std::string(topic), make({{"topic", std::string(topic)}})).first;
    }
    return it->second;
}

void topic_metrics::produced(std::string_view topic, std::uint64_t records, std::uint64_t bytes) {
    auto& t = of(topic);
    for (auto* s : {&all_, &t}) {
        s->messages_in->Increment(static_cast<double>(records));
        s->bytes_in->Increment(static_cast<double>(bytes));
    }
}

void topic_metrics::produce_request(std::string_view topic, bool failed, bool hosted) {
    for (auto* s : {&all_, hosted ? &of(topic) : nullptr}) {
        if (s == nullptr) {
            continue;
        }
        s->produce_requests->Increment();
        if (failed) {
            s->failed_produce_requests->Increment();
        }
    }
}

void topic_metrics::fetched(std::string_view topic, std::uint64_t bytes, bool follower) {
    auto& t = of(topic);
    for (auto* s : {&all_, &t}) {
        (follower ? s->replication_bytes_out : s->bytes_out)->Increment(static_cast<double>(bytes));
    }
}

void topic_metrics::fetch_request(std::string_view topic, bool failed, bool hosted) {
    for (auto* s : {&all_, hosted ? &of(topic) : nullptr}) {
        if (s == nullptr) {
            continue;
        }
        s->fetch_requests->Increment();
        if (failed) {
            s->failed_fetch_requests->Increment();
        }
    }
}

void topic_metrics::retain(const std::function<bool(std::string_view)>& hosted) {
    for (auto it = topics_.begin(); it != topics_.end();) {
        if (hosted(it->first)) {
            ++it;
            continue;
        }
        const series& s = it->second;
        f_->messages_in.Remove(s.messages_in);
        f_->bytes_in.Remove(s.bytes_in);
        f_->bytes_out.Remove(s.bytes_out);
        f_->replication_bytes_out.Remove(s.replication_bytes_out);
        f_->produce_requests.Remove(s.produce_requests);
        f_->failed_produce_requests.Remove(s.failed_produce_requests);
        f_->fetch_requests.Remove(s.fetch_requests);
        f_->failed_fetch_requests.Remove(s.failed_fetch_requests);
        it = topics_.erase(it);
    }
}

}  // namespace gregor::metrics
