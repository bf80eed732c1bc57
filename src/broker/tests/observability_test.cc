// Goal: an operator graphs the controller's failover phase by phase from Prometheus: each
// finished round's marks become one observation per phase (named for the work it ends) and
// one for the whole round, and nothing else is needed from the broker's parts; the loss an
// unclean election caused and the cleaner's gauges are there under their names.
// Method: an observability with no sources, a hand-made timeline, the scrape's text.
#include "broker/observability.h"

#include "broker/replica_manager.h"
#include "controller/timeline.h"
#include "storage/log_manager.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <regex>

namespace gregor::broker {
namespace {

using namespace std::chrono_literals;

double sample(const std::string& text, const std::string& series) {
    std::smatch m;
    const std::regex line(
        "\n" + std::regex_replace(series, std::regex(R"([{}\[\]().+*?^$|\\])"), R"(\$&)") +
        R"( ([-+0-9.eE]+)\n)");
    const std::string padded = "\n" + text;
    return std::regex_search(padded, m, line) ? std::stod(m[1]) : -1;
}

TEST(observability, a_failover_round_is_observed_phase_by_phase_and_in_total) {
    observability obs{metric_sources{}};
    controller::timeline t("failover", "epoch=3");
    const auto t0 = std::chrono::system_clock::time_point(1'000'000ms);
    t.mark_at("controller_gone_seen", t0);
    t.mark_at("elected", t0 + 20ms);
    t.mark_at("loaded", t0 + 1'520ms);
    t.mark_at("written", t0 + 1'900ms);
    t.mark_at("sent", t0 + 1'901ms);
    t.mark_at("answered", t0 + 2'100ms);
    obs.controller_round(t);
    const std::string text = obs.scrape();
    const std::string family = "gregor_controller_round_phase_seconds";
    auto sum = [&](const char* phase) {
        return sample(text, family + "_sum{phase=\"" + phase + "\",round=\"failover\"}");
    };
    EXPECT_DOUBLE_EQ(sum("elect"), 0.020) << text;
    EXPECT_DOUBLE_EQ(sum("load"), 1.5);
    EXPECT_DOUBLE_EQ(sum("write"), 0.38);
    EXPECT_DOUBLE_EQ(sum("send"), 0.001);
    EXPECT_DOUBLE_EQ(sum("propagate"), 0.199);
    EXPECT_DOUBLE_EQ(sum("total"), 2.1);
    EXPECT_EQ(sample(text, family + "_count{phase=\"load\",round=\"failover\"}"), 1);
    // The load took 1.5 s: in the 2.5 s bucket, not in the 1 s one.
    EXPECT_EQ(sample(text, family + "_bucket{phase=\"load\",round=\"failover\",le=\"1\"}"), 0)
        << text;
    EXPECT_EQ(sample(text, family + "_bucket{phase=\"load\",round=\"failover\",le=\"2.5\"}"), 1);

    controller::timeline only_one("broker_failure", "");
    only_one.mark_at("noticed", t0);
    obs.controller_round(only_one);  // one mark: no phase to observe
    EXPECT_EQ(obs.scrape().find("round=\"broker_failure\""), std::string::npos);
}

// Kafka's alert on data loss after unclean elections has a gregor counterpart that counts the
// records; the cleaner's gauges carry the JMX exporter's names (zeros without a cleaner).
TEST(observability, the_unclean_loss_counter_and_the_cleaner_gauges_are_exported) {
    observability obs{metric_sources{}};
    obs.committed_truncated(4);
    obs.committed_truncated(1);
    const std::string text = obs.scrape();
    EXPECT_EQ(sample(text, "gregor_replica_committed_records_truncated_total"), 5) << text;
    for (const char* g :
         {"kafka_log_logcleaner_max_buffer_utilization_percent",
          "kafka_log_logcleaner_cleaner_recopy_percent", "kafka_log_logcleaner_max_clean_time_secs",
          "kafka_log_logcleanermanager_time_since_last_run_ms"}) {
        EXPECT_EQ(sample(text, g), 0) << g;
    }
}

// The replica manager's gauges count hosted and led partitions, and a topic this broker no
// longer hosts loses its BrokerTopicMetrics series while the hosted ones keep theirs.
TEST(observability, partitions_are_counted_and_only_hosted_topics_keep_their_series) {
    storage::test::memory_env env;
    storage::log_manager logs{
        env.ctx(), {"/data"}, [](const std::string&) { return storage::log_config{}; }};
    const model::timestamp_ms now{1000};
    ASSERT_TRUE(logs.load(now));
    replica_manager rm{model::node_id(1), logs};
    auto host = [&](const std::string& topic, int p, int leader) {
        partition_assignment a;
        a.tp = {topic, model::partition_id(p)};
        a.leader = model::node_id(leader);
        a.leader_epoch = model::leader_epoch(1);
        a.replicas = {model::node_id(1), model::node_id(2)};
        a.isr = {model::node_id(leader)};
        a.is_new = true;
        ASSERT_EQ(rm.apply(a, now), model::kafka_error::none);
    };
    host("b", 0, 1);
    host("a", 1, 1);
    host("a", 0, 2);
    host("c", 0, 1);
    observability obs{metric_sources{.replicas = [&]() -> const replica_manager* { return &rm; },
                                     .controller = {},
                                     .groups = {},
                                     .cleaner = {},
                                     .cache = {},
                                     .fetch_sessions = {}}};
    for (const char* t : {"a", "b", "c", "gone"}) {
        obs.topics().produced(t, 1, 100);
    }
    const std::string text = obs.scrape();
    EXPECT_EQ(sample(text, "kafka_server_replicamanager_partitioncount"), 4) << text;
    EXPECT_EQ(sample(text, "kafka_server_replicamanager_leadercount"), 3);
    EXPECT_EQ(sample(text, "kafka_server_replicamanager_underreplicatedpartitions"), 3);
    for (const char* t : {"a", "b", "c"}) {
        EXPECT_EQ(
            sample(
                text,
                fmt::format("kafka_server_brokertopicmetrics_messagesin_total{{topic=\"{}\"}}", t)),
            1)
            << t << "\n"
            << text;
    }
    EXPECT_EQ(text.find("topic=\"gone\""), std::string::npos) << text;
}

}  // namespace
}  // namespace gregor::broker
