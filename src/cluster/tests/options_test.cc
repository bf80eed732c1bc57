// Goal: the flags of `gregor cluster up|down|kill...` parse as documented, with defaults,
// and out-of-range values are usage errors. Method: CLI11 parsing of argument vectors.
#include "cluster/options.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gregor::cluster {
namespace {

TEST(cluster_options, up_defaults) {
    CLI::App app;
    up_options o;
    add_up_options(app, o);
    app.parse(std::vector<std::string>{});
    finish_up_options(app, o);
    EXPECT_EQ(o.brokers, 3);
    EXPECT_FALSE(o.brokers_given);
    EXPECT_EQ(o.dir, "./gregor-cluster");
    EXPECT_EQ(o.base_port, 9092);
    EXPECT_TRUE(o.zookeeper.empty());
    EXPECT_EQ(o.session_timeout_ms, 0) << "the demo's 6 s, or a resumed cluster's own";
}

TEST(cluster_options, up_flags) {
    CLI::App app;
    up_options o;
    add_up_options(app, o);
    // CLI11 parses a reversed vector (argv order is last-to-first).
    std::vector<std::string> args{"--brokers",   "5",           "--dir",
                                  "/x",          "--zookeeper", "h:1",
                                  "--base-port", "0",           "--session-timeout-ms",
                                  "18000"};
    std::reverse(args.begin(), args.end());
    app.parse(args);
    finish_up_options(app, o);
    EXPECT_EQ(o.brokers, 5);
    EXPECT_TRUE(o.brokers_given);
    EXPECT_EQ(o.dir, "/x");
    EXPECT_EQ(o.zookeeper, "h:1");
    EXPECT_EQ(o.base_port, 0);
    EXPECT_EQ(o.session_timeout_ms, 18000);
}

TEST(cluster_options, out_of_range_is_a_usage_error) {
    CLI::App app;
    up_options o;
    add_up_options(app, o);
    EXPECT_THROW(app.parse("--brokers 0", false), CLI::ValidationError);
    EXPECT_THROW(app.parse("--brokers 99", false), CLI::ValidationError);
    EXPECT_THROW(app.parse("--base-port -1", false), CLI::ValidationError);
    EXPECT_THROW(app.parse("--session-timeout-ms 500", false), CLI::ValidationError);
}

// An ensemble has an odd size (a majority of 2 of 3 survives one loss; 2 or 4 servers add
// nothing), and it is ours or external, not both.
TEST(cluster_options, zookeepers_takes_an_odd_ensemble_size_and_excludes_an_external_one) {
    CLI::App app;
    up_options o;
    add_up_options(app, o);
    app.parse("--zookeepers 3", false);
    finish_up_options(app, o);
    EXPECT_EQ(o.zookeepers, 3);
    EXPECT_TRUE(o.zookeepers_given);
    for (const char* bad : {"--zookeepers 2", "--zookeepers 0", "--zookeepers 9"}) {
        CLI::App a;
        up_options u;
        add_up_options(a, u);
        EXPECT_THROW(a.parse(bad, false), CLI::ValidationError) << bad;
    }
    CLI::App both;
    up_options b;
    add_up_options(both, b);
    EXPECT_THROW(both.parse("--zookeepers 3 --zookeeper h:1", false), CLI::ExcludesError);
}

TEST(cluster_options, control_needs_a_broker_id) {
    CLI::App app;
    control_options o;
    add_control_options(app, o);
    EXPECT_THROW(app.parse("--dir /x", false), CLI::RequiredError);
    CLI::App app2;
    control_options o2;
    add_control_options(app2, o2);
    app2.parse("2 --dir /x", false);
    EXPECT_EQ(o2.broker, 2);
    EXPECT_EQ(o2.dir, "/x");
}

}  // namespace
}  // namespace gregor::cluster
