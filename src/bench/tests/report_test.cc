// Goal: `--format json` prints the shape scripts rely on (results, latency percentiles,
// limits, ratios, phases, ok/failure), the limits written by one run load back for another
// (--limits-from), and the progress line says rate, elapsed time and ETA.
// Method: reports built by hand, serialised and parsed back with nlohmann::json.
#include "bench/report.h"

#include "bench/limits.h"
#include "bench/progress.h"

#include <gtest/gtest.h>

namespace gregor::bench {
namespace {

machine_limits sample_limits() {
    machine_limits l;
    l.disk_write_mb_per_s = 500;
    l.disk_read_mb_per_s = 800;
    l.read_method = "O_DIRECT";
    l.fsync_per_s = 2000;
    l.loopback_mb_per_s = 4000;
    l.round_trip_cpu_us = 12.5;
    l.round_trip_us = 30;
    l.bytes = 1 << 20;
    l.dir = "/tmp/x";
    return l;
}

report sample_report() {
    report r;
    r.workload = "produce";
    r.parameters["topic"] = "t";
    r.parameters["records"] = 3;
    r.results = rate_figures(3000, 300'000, 0.5);
    histogram h;
    for (std::uint64_t ms : {1u, 2u, 3u}) {
        h.record(ms * 1'000'000);
    }
    r.latency = summarize("ack_latency_ms", h);
    r.limits = sample_limits();
    r.ratios.push_back({"mb_per_s_to_disk_write", 0.0012, "of sequential disk write"});
    r.phases.push_back({"controller gone", 12.5});
    r.notes.push_back("created topic t");
    return r;
}

TEST(bench_report, json_has_the_documented_shape) {
    auto j = nlohmann::json::parse(to_json(sample_report()).dump());
    EXPECT_EQ(j["workload"], "produce");
    EXPECT_EQ(j["ok"], true);
    EXPECT_FALSE(j.contains("failure"));
    EXPECT_EQ(j["parameters"]["topic"], "t");
    EXPECT_EQ(j["results"]["records"], 3000);
    EXPECT_DOUBLE_EQ(j["results"]["records_per_s"].get<double>(), 6000);
    EXPECT_DOUBLE_EQ(j["results"]["mb_per_s"].get<double>(), 0.6);
    EXPECT_DOUBLE_EQ(j["results"]["elapsed_s"].get<double>(), 0.5);
    const auto& l = j["latency"];
    EXPECT_EQ(l["name"], "ack_latency_ms");
    EXPECT_EQ(l["unit"], "ms");
    EXPECT_EQ(l["count"], 3);
    EXPECT_NEAR(l["p50"].get<double>(), 2, 0.02);
    EXPECT_NEAR(l["p99"].get<double>(), 3, 0.03);
    EXPECT_NEAR(l["p99_9"].get<double>(), 3, 0.03);
    EXPECT_DOUBLE_EQ(l["max"].get<double>(), 3);
    EXPECT_DOUBLE_EQ(j["limits"]["disk_write_mb_per_s"].get<double>(), 500);
    EXPECT_DOUBLE_EQ(j["ratios"]["mb_per_s_to_disk_write"].get<double>(), 0.0012);
    EXPECT_EQ(j["phases"][0]["name"], "controller gone");
    EXPECT_DOUBLE_EQ(j["phases"][0]["at_ms"].get<double>(), 12.5);
    EXPECT_EQ(j["notes"][0], "created topic t");
}

TEST(bench_report, a_failed_run_says_so_in_json) {
    report r = sample_report();
    r.failure = "2 record(s) failed";
    auto j = to_json(r);
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["failure"], "2 record(s) failed");
}

TEST(bench_report, optional_sections_are_absent_not_empty) {
    report r;
    r.workload = "consume";
    auto j = to_json(r);
    EXPECT_FALSE(j.contains("latency"));
    EXPECT_FALSE(j.contains("limits"));
    EXPECT_TRUE(j["ratios"].is_object());
    EXPECT_TRUE(j["phases"].is_array());
}

TEST(bench_report, text_table_lists_figures_latency_and_ratios) {
    std::string t = to_text(sample_report());
    EXPECT_NE(t.find("gregor bench produce"), std::string::npos) << t;
    EXPECT_NE(t.find("records_per_s"), std::string::npos) << t;
    EXPECT_NE(t.find("6000"), std::string::npos) << t;
    EXPECT_NE(t.find("p99.9"), std::string::npos) << t;
    EXPECT_NE(t.find("disk_write_mb_per_s"), std::string::npos) << t;
    EXPECT_NE(t.find("mb_per_s_to_disk_write"), std::string::npos) << t;
    EXPECT_NE(t.find("controller gone"), std::string::npos) << t;
}

TEST(bench_report, limits_load_back_from_a_report_or_alone) {
    nlohmann::json whole = nlohmann::json::parse(to_json(sample_report()).dump());
    auto from_report = limits_from_json(whole);
    ASSERT_TRUE(from_report);
    EXPECT_DOUBLE_EQ(from_report->loopback_mb_per_s, 4000);
    EXPECT_EQ(from_report->read_method, "O_DIRECT");
    auto alone = limits_from_json(nlohmann::json::parse(limits_to_json(sample_limits()).dump()));
    ASSERT_TRUE(alone);
    EXPECT_DOUBLE_EQ(alone->fsync_per_s, 2000);
    EXPECT_DOUBLE_EQ(alone->round_trip_cpu_us, 12.5);
    EXPECT_DOUBLE_EQ(alone->round_trip_us, 30);
}

// A limits file saved before the round-trip figures existed still loads; they read as 0
// (not measured), and no ratio is drawn from them.
TEST(bench_report, limits_from_before_the_round_trip_figures_load_without_them) {
    auto j = nlohmann::json::parse(limits_to_json(sample_limits()).dump());
    j.erase("round_trip_cpu_us");
    j.erase("round_trip_us");
    auto l = limits_from_json(j);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->round_trip_cpu_us, 0);
    EXPECT_DOUBLE_EQ(l->loopback_mb_per_s, 4000);
}

TEST(bench_report, limits_without_a_figure_are_refused) {
    auto j = nlohmann::json::parse(limits_to_json(sample_limits()).dump());
    j.erase("fsync_per_s");
    auto l = limits_from_json(j);
    ASSERT_FALSE(l);
    EXPECT_NE(l.err().detail.find("fsync_per_s"), std::string::npos) << l.err().detail;
    EXPECT_FALSE(load_limits("/nonexistent/limits.json"));
}

TEST(bench_report, progress_line_shows_rate_elapsed_and_eta) {
    std::string l = progress::line("records", 5000, 2.5, 2000, 10.0);
    EXPECT_NE(l.find("5000 records"), std::string::npos) << l;
    EXPECT_NE(l.find("2000 records/s"), std::string::npos) << l;
    EXPECT_NE(l.find("elapsed 2.5 s"), std::string::npos) << l;
    EXPECT_NE(l.find("ETA 10 s"), std::string::npos) << l;
    EXPECT_NE(progress::line("records", 1, 1, 1, std::nullopt).find("ETA ?"), std::string::npos);
}

}  // namespace
}  // namespace gregor::bench
