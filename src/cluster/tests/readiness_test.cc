// Goal: `cluster up` reports ready only when every broker it started is registered and a
// controller is elected, and says what it still waits for otherwise. Method: the pure
// readiness functions on hand-made ZooKeeper views.
#include "cluster/zk_view.h"

#include <gtest/gtest.h>

#include <vector>

namespace gregor::cluster {
namespace {

const std::vector<std::int32_t> three{1, 2, 3};

TEST(cluster_readiness, needs_every_broker_and_a_controller) {
    cluster_view v;
    v.registered = {1, 2, 3};
    v.controller = 2;
    EXPECT_TRUE(cluster_ready(v, three));
    EXPECT_EQ(readiness_gap(v, three), "");
}

TEST(cluster_readiness, names_the_missing_brokers) {
    cluster_view v;
    v.registered = {1, 3};
    v.controller = 1;
    EXPECT_FALSE(cluster_ready(v, three));
    EXPECT_NE(readiness_gap(v, three).find("2 to register"), std::string::npos);
    v.registered = {};
    EXPECT_NE(readiness_gap(v, three).find("1, 2, 3"), std::string::npos);
}

TEST(cluster_readiness, waits_for_a_controller) {
    cluster_view v;
    v.registered = {1, 2, 3};
    EXPECT_FALSE(cluster_ready(v, three));
    EXPECT_NE(readiness_gap(v, three).find("controller"), std::string::npos);
}

TEST(cluster_readiness, extra_registered_brokers_do_not_matter) {
    cluster_view v;
    v.registered = {1, 2, 3, 4};
    v.controller = 4;
    EXPECT_TRUE(cluster_ready(v, three));
}

}  // namespace
}  // namespace gregor::cluster
