// The metrics as Prometheus reads them: Kafka's names and labels exactly as the JMX
// exporter's Kafka configuration spells them, hooks refreshing gauges at scrape time.
#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace gregor::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(metrics_registry, gauges_are_refreshed_by_hooks_at_each_scrape) {
    registry r;
    auto& urp = r.gauge("kafka_server_replicamanager_underreplicatedpartitions",
                        "Led partitions whose ISR is smaller than their replicas");
    int state = 2;
    r.on_scrape([&] { urp.Set(state); });
    auto first = r.scrape();
    EXPECT_TRUE(has_line(first, "kafka_server_replicamanager_underreplicatedpartitions 2"))
        << first;
    EXPECT_TRUE(
        has_line(first, "# TYPE kafka_server_replicamanager_underreplicatedpartitions gauge"))
        << first;
    state = 0;
    EXPECT_TRUE(has_line(r.scrape(), "kafka_server_replicamanager_underreplicatedpartitions 0"));
}

TEST(metrics_registry, topic_counters_have_an_all_topics_series_and_one_per_topic) {
    registry r;
    topic_metrics t(r);
    t.produced("orders", 3, 300);
    t.produced("orders", 2, 200);
    t.produced("audit", 1, 50);
    t.fetched("orders", 400, false);
    t.fetched("orders", 500, true);
    t.produce_request("orders", false);
    t.produce_request("orders", true);
    t.fetch_request("audit", true);
    t.produce_request("no-such-topic", true, /*hosted=*/false);  // all-topics series only
    auto text = r.scrape();
    EXPECT_TRUE(has_line(text, "kafka_server_brokertopicmetrics_messagesin_total 6")) << text;
    EXPECT_TRUE(
        has_line(text, R"(kafka_server_brokertopicmetrics_messagesin_total{topic="orders"} 5)"))
        << text;
    EXPECT_TRUE(
        has_line(text, R"(kafka_server_brokertopicmetrics_bytesin_total{topic="audit"} 50)"));
    EXPECT_TRUE(has_line(text, "kafka_server_brokertopicmetrics_bytesin_total 550"));
    EXPECT_TRUE(
        has_line(text, R"(kafka_server_brokertopicmetrics_bytesout_total{topic="orders"} 400)"));
    EXPECT_TRUE(has_line(
        text, R"(kafka_server_brokertopicmetrics_replicationbytesout_total{topic="orders"} 500)"));
    EXPECT_TRUE(has_line(text, "kafka_server_brokertopicmetrics_totalproducerequests_total 3"));
    EXPECT_TRUE(has_line(text, "kafka_server_brokertopicmetrics_failedproducerequests_total 2"));
    EXPECT_EQ(text.find("no-such-topic"), std::string::npos) << "no series for unhosted topics";
    EXPECT_TRUE(has_line(
        text, R"(kafka_server_brokertopicmetrics_failedfetchrequests_total{topic="audit"} 1)"));
    EXPECT_TRUE(has_line(text, "# TYPE kafka_server_brokertopicmetrics_messagesin_total counter"))
        << text;
}

TEST(metrics_registry, a_topic_no_longer_hosted_loses_its_series_and_the_totals_stay) {
    registry r;
    topic_metrics t(r);
    t.produced("orders", 3, 300);
    t.produced("gone", 1, 10);
    t.fetched("gone", 40, true);
    t.retain([](std::string_view topic) { return topic == "orders"; });
    EXPECT_EQ(t.topics(), 1U);
    auto text = r.scrape();
    EXPECT_EQ(text.find("topic=\"gone\""), std::string::npos) << text;
    EXPECT_TRUE(
        has_line(text, R"(kafka_server_brokertopicmetrics_messagesin_total{topic="orders"} 3)"));
    EXPECT_TRUE(has_line(text, "kafka_server_brokertopicmetrics_messagesin_total 4"))
        << "the all-topics series keeps what it counted";
    t.produced("gone", 2, 20);  // hosted again: a fresh series
    EXPECT_TRUE(has_line(r.scrape(),
                         R"(kafka_server_brokertopicmetrics_messagesin_total{topic="gone"} 2)"));
}

TEST(metrics_registry, request_metrics_count_by_api_and_version_and_time_by_api) {
    registry r;
    request_metrics m(r);
    for (int i = 1; i <= 100; ++i) {
        m.record(0, "Produce", 9, i);
    }
    m.record(0, "Produce", 7, 1);
    m.record(3, "Metadata", 12, 2);
    m.record(-1, "Nonsense", 0, 1);   // out of range: ignored
    m.record(3, "Metadata", 999, 1);  // out of range: ignored
    auto text = r.scrape();
    EXPECT_TRUE(has_line(
        text, R"(kafka_network_requestmetrics_requests_total{request="Produce",version="9"} 100)"))
        << text;
    EXPECT_TRUE(has_line(
        text, R"(kafka_network_requestmetrics_requests_total{request="Produce",version="7"} 1)"));
    EXPECT_TRUE(has_line(
        text, R"(kafka_network_requestmetrics_requests_total{request="Metadata",version="12"} 1)"));
    EXPECT_EQ(text.find("Nonsense"), std::string::npos);
    EXPECT_TRUE(
        has_line(text, R"(kafka_network_requestmetrics_totaltimems_count{request="Produce"} 101)"))
        << text;
    // The median of 1..100 ms (and one more 1 ms) within the quantile's error.
    auto at =
        text.find(R"(kafka_network_requestmetrics_totaltimems{quantile="0.5",request="Produce"} )");
    ASSERT_NE(at, std::string::npos) << text;
    double median = std::stod(text.substr(text.find('}', at) + 2));
    EXPECT_NEAR(median, 50, 50 * 0.05);
    EXPECT_NE(text.find(R"(quantile="0.999")"), std::string::npos);
}

TEST(metrics_registry, an_unlabeled_timer_exports_kafkas_quantiles_and_a_count_at_each_scrape) {
    registry r;
    auto& t = r.timer_ms("kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms",
                         "ZooKeeper request latency, ms");
    auto empty = r.scrape();
    EXPECT_TRUE(
        has_line(empty, "kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms_count 0"))
        << empty;
    const auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < 99; ++i) {
        t.record(2, now);
    }
    t.record(400, now);
    auto text = r.scrape();
    EXPECT_TRUE(
        has_line(text, "kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms_count 100"))
        << text;
    auto value = [&](const char* q) {
        const std::string key =
            std::string(
                R"(kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms{quantile=")") +
            q + "\"} ";
        auto at = text.find(key);
        return at == std::string::npos ? -1.0 : std::stod(text.substr(at + key.size()));
    };
    EXPECT_NEAR(value("0.5"), 2, 2 * 0.05);
    EXPECT_NEAR(value("0.999"), 400, 400 * 0.05);  // the one slow request
    EXPECT_TRUE(has_line(r.scrape(),
                         "kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms_count 100"))
        << "the count is not added twice";
}

}  // namespace
}  // namespace gregor::metrics
